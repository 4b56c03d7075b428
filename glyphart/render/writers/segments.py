"""An outline's segments as the vector writers draw them."""

from __future__ import annotations


def quadratics_split(segments):
    """pathops segments with each run of quadratics (TrueType's qCurveTo: several off-curve
    points, the on-curve ones between them implied, as skia's stroked round joins give)
    split into single quadratics, which SVG and PDF draw."""
    from pathops import decompose_quadratic_segment
    for verb, points in segments:
        if verb == "qCurveTo" and len(points) > 2:
            for control, end in decompose_quadratic_segment(tuple(points)):
                yield verb, (control, end)
        else:
            yield verb, points
