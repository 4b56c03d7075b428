"""Is this output the golden's picture? Exact where exact is meant, a stated tolerance where
floats are.

Floats are summed in another order on another CPU (oneDNN's AVX-512, AVX2 and AMX kernels,
MKL's code paths), so a glyph's outline may land a hair away and a pixel may round to the next
level. That is the same picture. A shape moved by a pixel, a path added or lost, other
metadata, is not:

- PNG and video frames: the same size and PNG metadata, every pixel within one level;
- SVG: the same elements, attributes and text, path data with the same commands and number
  count, every coordinate within 0.05 px;
- PDF page content: the same operators and operand counts, every path coordinate within
  0.05 px (in points at 96 px per inch), every other operand (colours, line width, the
  transform) and the document's subject line exactly.

`difference(name, golden, data)` says what differs, or '' when the picture is the same.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import numpy as np

from glyphart.render.writers.pdf import POINTS_PER_INCH, SCREEN_DPI

PIXEL_TOLERANCE = 0.05    # outline coordinates, in pixels at the golden's size
LEVEL_TOLERANCE = 1       # 8-bit image levels
POINTS_PER_PIXEL = POINTS_PER_INCH / SCREEN_DPI  # how the PDF writer prints a sheet's pixels
PATH_OPERATORS = {b"m", b"l", b"c", b"v", b"y", b"re"}  # PDF path construction: coordinates
PDF_PARTS = b"\n--\n"       # between the content streams and the subject line
PDF_TOKEN = re.compile(rb"/[^\s/\[\]()<>{}%]+|[-+]?(?:\d+\.?\d*|\.\d+)|[\[\]]|[A-Za-z'\"*]+")
SVG_PATH_TOKEN = re.compile(r"[MLQCZHVSTAmlqczhvsta]|[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?")


def difference(name: str, golden: bytes, data: bytes) -> str:
    if golden == data:
        return ""
    if name.endswith(".png"):
        return _png_difference(golden, data)
    if name.endswith(".npy"):
        return _pixel_difference(np.load(io.BytesIO(golden)), np.load(io.BytesIO(data)))
    if name.endswith(".svg"):
        return _svg_difference(golden, data)
    if name.endswith(".pdf.content"):
        return _pdf_difference(golden, data)
    return "differs byte for byte"


def _png_difference(golden: bytes, data: bytes) -> str:
    from PIL import Image
    old, new = Image.open(io.BytesIO(golden)), Image.open(io.BytesIO(data))
    if old.info != new.info or old.mode != new.mode:
        return f"PNG metadata differs: {old.mode} {old.info} != {new.mode} {new.info}"
    return _pixel_difference(np.asarray(old), np.asarray(new))


def _pixel_difference(old: np.ndarray, new: np.ndarray) -> str:
    if old.shape != new.shape or old.dtype != new.dtype:
        return f"shape {old.shape} {old.dtype} != {new.shape} {new.dtype}"
    worst = int(np.abs(old.astype(int) - new.astype(int)).max())
    return f"pixels differ by up to {worst} levels" if worst > LEVEL_TOLERANCE else ""


def _numbers_differ(old: list[float], new: list[float], tolerance: float) -> str:
    worst = float(np.abs(np.subtract(old, new)).max(initial=0.0))
    return f"coordinates differ by up to {worst:.4g}" if worst > tolerance else ""


# ---- SVG -----------------------------------------------------------------------------------

def _svg_difference(golden: bytes, data: bytes) -> str:
    old, new = ET.fromstring(golden), ET.fromstring(data)
    if len(list(old.iter())) != len(list(new.iter())):
        return f"{len(list(old.iter()))} SVG elements != {len(list(new.iter()))}"
    for a, b in zip(old.iter(), new.iter()):
        attributes = ({k: v for k, v in e.attrib.items() if k != "d"} for e in (a, b))
        if a.tag != b.tag or (a.text or "").strip() != (b.text or "").strip() or \
                next(attributes) != next(attributes):
            return f"SVG element <{a.tag}> != <{b.tag}> (tag, text or attributes)"
        if "d" in a.attrib or "d" in b.attrib:
            why = _path_data_difference(a.get("d", ""), b.get("d", ""))
            if why:
                return f"SVG path data: {why}"
    return ""


def _path_data_difference(old: str, new: str) -> str:
    """Commands and how many numbers follow each exactly; the numbers within tolerance."""
    old_tokens, new_tokens = SVG_PATH_TOKEN.findall(old), SVG_PATH_TOKEN.findall(new)
    shape = [[t if t.isalpha() else "#" for t in ts] for ts in (old_tokens, new_tokens)]
    if shape[0] != shape[1]:
        return "commands differ (a path added, lost or reshaped)"
    return _numbers_differ([float(t) for t in old_tokens if not t.isalpha()],
                           [float(t) for t in new_tokens if not t.isalpha()], PIXEL_TOLERANCE)


# ---- PDF -----------------------------------------------------------------------------------

def pdf_operations(stream: bytes) -> list[tuple[bytes, list[bytes]]]:
    """A content stream as (operator, its operand tokens) in order."""
    operations, operands = [], []
    for token in PDF_TOKEN.findall(stream):
        if token[:1].isalpha() or token[:1] in b"'\"*":
            operations.append((token, operands))
            operands = []
        else:
            operands.append(token)
    if operands:
        operations.append((b"", operands))  # trailing operands with no operator
    return operations


def _pdf_difference(golden: bytes, data: bytes) -> str:
    *old_streams, old_subject = golden.split(PDF_PARTS)
    *new_streams, new_subject = data.split(PDF_PARTS)
    if old_subject != new_subject:
        return "the PDF's subject line (its glyphart metadata) differs"
    if len(old_streams) != len(new_streams):
        return f"{len(old_streams)} PDF content streams != {len(new_streams)}"
    for old, new in zip(old_streams, new_streams):
        why = _stream_difference(pdf_operations(old), pdf_operations(new))
        if why:
            return f"PDF content: {why}"
    return ""


def _stream_difference(old: list, new: list) -> str:
    if [(op, len(args)) for op, args in old] != [(op, len(args)) for op, args in new]:
        return "operators differ (a path added, lost or restyled)"
    coordinates: tuple[list[float], list[float]] = ([], [])
    for (op, old_args), (_, new_args) in zip(old, new):
        if op in PATH_OPERATORS:
            coordinates[0].extend(float(t) for t in old_args)
            coordinates[1].extend(float(t) for t in new_args)
        elif old_args != new_args:
            return f"operands of {op.decode()} differ: {old_args} != {new_args}"
    return _numbers_differ(*coordinates, PIXEL_TOLERANCE * POINTS_PER_PIXEL)
