"""`tweak` and `studio`: an artist's change to a shipped preset, grown from its parent.

tweak: each change trained as an artist would (`[train] init_from` = the parent, the parent's
recipe) for a budget of CPU minutes (its steps fitted to the budget by a probe, so the
schedule spans it however busy the machine is; run it with OMP_NUM_THREADS=1), then
measured: bits under the reference channel (4,096 messages) against the parent's record,
and what the change is for (a fifth stroke inking, new strokes inking, segments bent beyond
their split). studio: the same training run from the CLI and from the studio's panel (with
its live sheet), steps per second side by side, 128 px tiles drawn meanwhile, and how often
the live sheet and numbers change.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from measure import ROOT, report

INKS = 0.003  # a stroke inks a glyph when this share of the cell is ink because of it alone


def variant(parent: str, model: dict | None = None, channel: dict | None = None) -> dict:
    """The parent's TOML as `preset new --from parent` writes it (growing from the parent,
    fine-tuning what it carries), with the change."""
    from glyphart.presets import find, grow_from_source
    from glyphart.spec import load_spec, spec_to_dict
    files = find(parent)
    spec = load_spec(files.toml)
    grow_from_source(spec, files, parent)
    data = spec_to_dict(spec)
    data["model"].update(model or {})
    for table, values in (channel or {}).items():
        data["channel"][table].update(values)
    return data


def grow(name: str, data: dict, cpu_minutes: float, monitor=None) -> tuple[dict, Path]:
    """Train `data` in this process as `glyphart train NAME` would, for `cpu_minutes` of this
    process's CPU: its steps are what a probe of the same run says fit in them, so the
    schedule (lr decay, look ramp) spans the budget however busy the machine is. (record,
    its TOML)."""
    steps = steps_in(name, data, cpu_minutes)
    budget = {"steps": steps, "minutes": 0.0}
    t0, watching = time.process_time(), [0.0]

    def within(step, gen, dec):  # a run slower than its probe stops at the budget
        c0 = time.process_time()
        stop = monitor is not None and monitor(step, gen, dec)
        watching[0] += time.process_time() - c0  # the monitor's own time is not the run's
        return stop or time.process_time() - t0 - watching[0] > 60 * cpu_minutes
    return _train(name, data | {"train": data["train"] | budget}, within, 4096)


def steps_in(name: str, data: dict, cpu_minutes: float, probe: int = 40) -> int:
    """Steps of this run that fill `cpu_minutes`, from the CPU time of steps 10 to `probe`."""
    marks = {}

    def clock(step, gen, dec):
        if step in (10, probe):
            marks[step] = time.process_time()
        return False
    _train(name + "-probe", data | {"train": data["train"] | {"steps": probe, "minutes": 0.0}},
           clock, 0)
    return int(60 * cpu_minutes / ((marks[probe] - marks[10]) / (probe - 10)))


def _train(name: str, data: dict, monitor, eval_messages: int) -> tuple[dict, Path]:
    from glyphart.spec import spec_from_dict
    from glyphart.train import train
    folder = Path(tempfile.mkdtemp(prefix=f"glyphart-bench-{name}-"))
    out = folder / f"{name}.toml"
    record = train(spec_from_dict(data | {"name": name}, str(out)), out, quiet=True,
                   monitor=monitor, eval_messages=eval_messages)
    return record, out


def parent_bits(parent: str, key: str = "bits_per_glyph_reference") -> float:
    return json.loads((ROOT / "presets" / f"{parent}.json").read_text())["metrics"][key]


def inking(generator, z, strokes: list[int]) -> list[float]:
    """For each stroke index, the share of glyphs it adds ink to (ink with it, paper
    without it, on at least INKS of the cell), in its own ink's layer."""
    import torch
    with torch.no_grad():
        each = generator.logits_of(generator.strokes(z), each_stroke=True)
        whole = generator.join_strokes(each).sigmoid() > 0.5
        shares = []
        for k in strokes:
            without = each.clone()
            without[:, k] = -1e4
            alone = whole & ~(generator.join_strokes(without).sigmoid() > 0.5)
            shares.append(float((alone.flatten(1).float().mean(1) >= INKS).float().mean()))
    return shares


def bend_beyond_split(generator, z, first: int) -> float:
    """The share of strokes whose segments first and first + 1 are no longer one cubic cut in
    two: both sampled along their length, the one cubic of least squares through the samples
    (at the parameters they would have as its halves); bent when a sample lies over a pixel
    (at the native size) from it. 0 for splits that did not bend."""
    import torch
    with torch.no_grad():
        p = generator.strokes(z).points.double()
    t = torch.linspace(0, 1, 17, dtype=torch.float64)
    u = torch.cat([t / 2, 0.5 + t[1:] / 2])
    samples = torch.cat([_bezier(t) @ p[:, :, 3 * first:3 * first + 4],
                         _bezier(t[1:]) @ p[:, :, 3 * first + 3:3 * first + 7]], 2)
    fit = _bezier(u) @ torch.linalg.pinv(_bezier(u)) @ samples
    off = (fit - samples).norm(dim=-1).amax(-1) * generator.spec.size
    return float((off > 1.0).double().mean())


def _bezier(t):
    """(len(t), 4): the cubic Bernstein basis."""
    import torch
    return torch.stack([(1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t ** 2, t ** 3], -1)


def overlap_with_parent(generator, parent: str, z) -> float:
    """Intersection over union of the grown generator's ink and its parent's."""
    import torch
    from glyphart.presets import load_preset
    with torch.no_grad():
        mine = generator(z) > 0.5
        theirs = load_preset(parent).generator(z) > 0.5
    return float((mine & theirs).sum() / (mine | theirs).sum())


def bench_tweak() -> None:
    """About 75 CPU minutes: every shipped preset at 45 degrees, where gray's and script's
    registrations lose their way, brush with a fifth stroke (and why on step one) and with
    three segments, color with three strokes per ink; each made as `preset new` makes a
    copy."""
    from glyphart.presets import BUILTIN_NAMES
    for parent in BUILTIN_NAMES:
        _tweak_channel(parent)
    _registration_by_turn("gray")
    _registration_by_turn("script")
    _fifth_stroke_start()
    _fifth_stroke()
    _three_segments()
    _three_strokes_per_ink()


def _tweak_channel(parent: str, lr_scale: float = 1.0, **train) -> None:
    """`parent` with the channel's rotation at 45 degrees: its own bits after the first step
    and at each CPU minute (the copy's lr `lr_scale` times the parent's; `train`: other
    [train] keys changed)."""
    import torch
    from glyphart.channel import build_channel
    from glyphart.metrics import read_back, set_bits
    from glyphart.sets import SetLayout
    from glyphart.spec import spec_from_dict
    from glyphart.train.run import training_paint
    data = variant(parent, channel={"affine": {"degrees": 45.0}})
    data["train"]["lr"] *= lr_scale
    data["train"].update(train)
    spec = spec_from_dict(data)
    channel, t0, seen = build_channel(spec.channel, spec.model.size), [], []
    size = spec.model.message_size
    paint = training_paint(spec)  # a colour preset is read in its own palette, as eval reads it

    def every_minute(step, gen, dec):
        if not t0:  # the run's first step: its CPU minutes count from here
            t0.append(time.process_time())
        if not seen or (time.process_time() - t0[0] - sum(s[2] for s in seen)
                        >= 60 * len(seen)):  # after the first step, then every CPU minute
            c0 = time.process_time()
            gen.eval(), dec.eval()
            with torch.no_grad():
                sent, read = read_back(lambda z: dec(channel(
                    gen(z) if paint is None else paint.composite(gen(z)))), 1024, size)
            gen.train(), dec.train()
            seen.append((len(seen), set_bits(sent, read, SetLayout.of(spec.model)),
                         time.process_time() - c0))
        return False
    record, _ = grow(f"{parent}-45", data, 3.0, every_minute)
    reference = parent_bits(parent, "bits_per_glyph")
    what = f"{parent} at 45 deg, own channel"
    for minute, bits, _ in seen:
        report("tweak", f"{what}, CPU minute {minute}: bits / {parent}'s", bits / reference,
               "x", ">= 0.9", bits / reference >= 0.9, f"{bits:.1f} bits")
    bits = record["metrics"]["bits_per_glyph"]
    report("tweak", f"{what}, at the end: bits / {parent}'s", bits / reference, "x", ">= 0.9",
           bits / reference >= 0.9, f"{bits} bits, {record['cpu_minutes']} CPU-min")


def _registration_by_turn(parent: str) -> None:
    """Where `parent`'s reader loses a 45-degree copy's bits: how far its registration puts
    the glyph's corners (mean distance, normalised units) from where the channel moved them,
    by how far the channel turned the glyph (affine always on, no perspective)."""
    import torch
    from glyphart.channel import build_channel
    from glyphart.presets import load_preset
    from glyphart.spec import spec_from_dict
    preset = load_preset(parent)
    gen, dec = preset.generator.eval(), preset.decoder.eval()
    data = variant(parent, channel={"affine": {"degrees": 45.0, "p": 1.0},
                                    "perspective": {"p": 0.0}})
    channel = build_channel(spec_from_dict(data).channel, preset.spec.model.size)
    torch.manual_seed(0)
    errors, turns = [], []
    with torch.no_grad():
        for _ in range(8):
            seen = dec.pool(channel(gen(torch.randn(256, preset.spec.model.message_size))))
            moved = channel.moved_corners()
            errors.append((dec.registration.corners(seen) - moved).norm(dim=-1).mean(1))
            top = moved[:, 1] - moved[:, 0]
            turns.append(torch.rad2deg(torch.atan2(top[:, 1], top[:, 0])).abs())
    error, turn = torch.cat(errors), torch.cat(turns)
    for low, high in ((0, 30), (30, 38), (38, 50)):
        inside = (turn >= low) & (turn < high)
        report("tweak", f"{parent}'s registration, glyphs turned {low}-{high} deg: corners off",
               float(error[inside].mean()), "", "", None, f"{int(inside.sum())} glyphs")


def _fifth_stroke() -> None:
    from glyphart.latent import messages
    from glyphart.presets import load_preset
    record, out = grow("brush-5", variant("brush", {"strokes": 5, "message_size": 80}), 10.0)
    _bits_row("brush with a fifth stroke", "brush", record)
    gen = load_preset(str(out)).generator
    share = inking(gen, messages(80, range(1024)), [4])[0]
    report("tweak", "brush with a fifth stroke: glyphs the fifth inks", share, "share",
           ">= 0.9", share >= 0.9)


def _fifth_stroke_start() -> None:
    """Why a fifth stroke costs brush its bits on step one: the copy's reference bits before
    any step, with its fifth stroke drawn or hidden (radii below zero), and with the set's
    summary (the mean the strokes arrange themselves by) of all five or of brush's four."""
    import torch
    from glyphart.channel import build_channel
    from glyphart.metrics import read_back, set_bits
    from glyphart.models import build_models, place_strokes
    from glyphart.sets import SetLayout
    from glyphart.spec import spec_from_dict
    from glyphart.strokes import Strokes
    from glyphart.train.checkpoint import init_from
    spec = spec_from_dict(variant("brush", {"strokes": 5, "message_size": 80})).model
    gen, dec = build_models(spec)
    init_from("brush", gen, dec)
    gen.eval(), dec.eval()
    channel = build_channel(spec_from_dict(variant("brush")).channel, spec.size)

    def glyphs(z, summary_of: int, drawn: bool):
        e = gen.set.embed(z.view(len(z), 5, -1))
        summary = e[:, :summary_of].mean(1, keepdim=True).expand_as(e)
        strokes = place_strokes(spec, gen.set.head(gen.set.body(torch.cat([e, summary], -1))), z)
        if not drawn:  # a radius below zero by three edge widths: no ink
            radii = strokes.radii.clone()
            radii[:, 4] = -3 * spec.softness / spec.size
            strokes = Strokes(strokes.points, radii, strokes.taper)
        return torch.sigmoid(gen.logits_of(strokes))
    for summary_of, drawn in ((4, False), (5, False), (4, True), (5, True)):
        with torch.no_grad():
            sent, read = read_back(lambda z: dec(channel(glyphs(z, summary_of, drawn))), 1024,
                                   80)
        bits = set_bits(sent, read, SetLayout.of(spec))
        report("tweak", f"brush + a fifth stroke, step 0, {'drawn' if drawn else 'hidden'}, "
               f"summary of {summary_of}: bits", bits, "bits", "", None,
               "as grown" if drawn and summary_of == 5 else "")


def _three_segments() -> None:
    from glyphart.latent import messages
    from glyphart.models import build_models
    from glyphart.presets import load_preset
    from glyphart.spec import spec_from_dict
    from glyphart.train.checkpoint import init_from
    data = variant("brush", {"segments": 3})
    z = messages(64, range(64))
    start, _ = build_models(spec_from_dict(data).model)
    init_from("brush", start, _)
    start.eval()
    first = overlap_with_parent(start, "brush", z)
    report("tweak", "brush, 3 segments, step 0: ink overlap with brush's", first, "IoU",
           ">= 0.9", first >= 0.9)
    record, out = grow("brush-3seg", data, 15.0)
    _bits_row("brush with three segments", "brush", record)
    bent = bend_beyond_split(load_preset(str(out)).generator, z, 1)
    before = bend_beyond_split(start, z, 1)
    report("tweak", "brush, 3 segments: strokes bent beyond their split", bent, "share",
           ">= 0.5", bent >= 0.5, f"{before:.2f} on step 0 (over 1 px off one cubic)")


def _three_strokes_per_ink() -> None:
    from glyphart.latent import messages
    from glyphart.presets import load_preset
    record, out = grow("color-9", variant("color", {"strokes": 3, "message_size": 144}), 15.0)
    _bits_row("color, three strokes per ink", "color", record)
    gen = load_preset(str(out)).generator
    shares = inking(gen, messages(144, range(512)), [2, 5, 8])
    report("tweak", "color, three strokes per ink: glyphs each new one inks (least)",
           min(shares), "share", ">= 0.9", min(shares) >= 0.9,
           ", ".join(f"{s:.2f}" for s in shares))


def _bits_row(what: str, parent: str, record: dict) -> None:
    bits, before = record["metrics"]["bits_per_glyph_reference"], parent_bits(parent)
    report("tweak", f"{what}: reference bits / {parent}'s", bits / before, "x", ">= 0.9",
           bits / before >= 0.9, f"{bits} of {before} bits in {record['cpu_minutes']} CPU-min "
           f"({record['steps']} steps)")


# ---------------------------------------------------------------------------------------------
# studio


def bench_studio(minutes: float = 1.5) -> None:
    """The same training (script at 45 degrees, grown) from the CLI and from the studio's panel
    (its child writes the live sheet), one after the other; meanwhile 128 px tiles not yet
    drawn, and how often the page's sheet and numbers change."""
    import subprocess
    import sys
    folder = Path(tempfile.mkdtemp(prefix="glyphart-bench-studio-"))
    os.environ["GLYPHART_PRESETS"] = str(folder / "user")
    toml = folder / "cli" / "tweak.toml"
    toml.parent.mkdir()
    from glyphart.spec import dump_spec, spec_from_dict
    data = variant("script", channel={"affine": {"degrees": 45.0}})
    data["train"] |= {"minutes": minutes, "steps": 100_000}
    toml.write_text(dump_spec(spec_from_dict(data | {"name": "tweak"})))
    subprocess.run([sys.executable, "-m", "glyphart", "train", str(toml), "-q",
                    "--eval-messages", "0"], check=True)
    cli = json.loads(toml.with_suffix(".json").read_text())
    first, last, tiles, gaps = _studio_run(folder, data)
    cli_speed = cli["steps"] / (cli["wall_minutes"] * 60)
    # the studio's steps over real seconds (its sheets are off the training's clock, not off
    # the wall's): from its first sheet to its last
    studio_speed = (last["step"] - first["step"]) / (last["written"] - first["written"])
    ratio = studio_speed / cli_speed
    report("studio", "training steps/s in the studio / from the CLI", ratio, "x", ">= 0.85",
           ratio >= 0.85, f"CLI {cli_speed:.1f}, studio {studio_speed:.1f} steps/s")
    p90 = statistics.quantiles(tiles, n=10)[-1] * 1000
    report("studio", "128 px tile not cached, while training: 90th pct", p90, "ms",
           "<= 100 ms", p90 <= 100, f"median {statistics.median(tiles) * 1000:.0f} ms, "
           f"{len(tiles)} tiles")
    report("studio", "live sheet and numbers: longest gap between updates", max(gaps), "s",
           "<= 2 s", max(gaps) <= 2.0, f"{len(gaps)} updates")


def _studio_run(folder: Path, data: dict) -> tuple[dict, dict, list, list]:
    """(first and last numbers of its live sheet, tile seconds, seconds between sheet
    updates) of one training in the panel."""
    import sys
    import urllib.request
    sys.path.insert(0, str(ROOT / "tests"))
    from explore_server import running_server
    with running_server(folder / "exports", preset="script") as (url, app):
        values = {k: v for k, v in data.items() if k in ("model", "channel", "train", "render")}
        _post(url + "api/train/start", {"from": "script", "name": "tweak", "values": values})
        tiles, seen, seed = [], [], 10_000
        while True:
            status = json.loads(urllib.request.urlopen(url + "api/train/status").read())
            progress = status.get("progress")
            if progress and (not seen or seen[-1]["written"] != progress["written"]):
                seen.append(progress)
            if status["state"] not in ("training", "stopping"):
                break
            if progress:
                t0 = time.perf_counter()
                tile = f"{url}api/tile?preset=script&seed={seed}&size=128"
                urllib.request.urlopen(tile).read()
                tiles.append(time.perf_counter() - t0)
                seed += 1
            time.sleep(0.25)
    writes = [p["written"] for p in seen if p["state"] == "training"]
    return seen[0], seen[-1], tiles, [b - a for a, b in zip(writes, writes[1:])]


def _post(url: str, body: dict) -> dict:
    import urllib.request
    request = urllib.request.Request(url, json.dumps(body).encode(), method="POST",
                                     headers={"content-type": "application/json"})
    return json.loads(urllib.request.urlopen(request).read())
