"""`glyphart gallery FOLDER`: a static index.html for a batch export, opened from the file system
with no server. Each file gets a thumbnail (FOLDER/thumbs/), its parameters read back from its
own metadata, and the `glyphart` command that remakes it; every link is relative."""

from __future__ import annotations

import html
import io
import json
import re
import shlex
import subprocess
from pathlib import Path
from urllib.parse import quote

from PIL import Image, ImageDraw

from ..atomic import write_text

KINDS = {".png": "image", ".svg": "vector", ".pdf": "pdf", ".webm": "video", ".mp4": "video",
         ".gif": "video", ".ttf": "font", ".otf": "font", ".woff2": "font"}
THUMB = 320
# metadata option -> the render flag that sets it, by output (what `glyphart render` takes)
FLAGS = {
    "sheet": {"grid": "--grid", "glyph_px": "--glyph-px", "gap": "--gap", "labels": "--labels"},
    "poster": {"size": "--size", "dpi": "--dpi", "landscape": "--landscape", "margin": "--margin",
               "layout": "--layout", "grid": "--grid"},
    "plot": {"size": "--size", "landscape": "--landscape", "margin": "--margin", "grid": "--grid",
             "pen": "--pen", "hatch": "--hatch"},
    "video": {"grid": "--video-grid", "fps": "--fps", "interp": "--interp", "px": "--video-px",
              "gap": "--gap", "crf": "--crf", "speed": "--speed", "seconds": "--seconds",
              "frames_per_key": "--frames-per-key"},
}
PAINT = {"palette": "--palette", "inks": "--inks", "paper": "--paper", "blend": "--blend",
         "style": "--style"}
OUTPUT_FLAG = {"sheet": "--sheet", "poster": "--poster", "plot": "--plot", "video": "--video"}


# -- reading each file's parameters back --------------------------------------------------------

def read_parameters(path: Path) -> dict:
    """The glyphart parameters a file carries, by its kind; {} when it carries none."""
    try:
        text = _metadata_text(path)
    except Exception:  # noqa: BLE001 - a file that cannot be read shows as one without metadata
        return {}
    if not text:
        return {}
    if text.startswith("glyphart "):  # a font's description: "glyphart {json}"
        text = text[len("glyphart "):]
    try:
        value = json.loads(text)
    except ValueError:
        return {"description": text}
    return value if isinstance(value, dict) else {"description": text}


def _metadata_text(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".png":
        with Image.open(path) as im:
            return im.text.get("glyphart") or im.text.get("parameters", "")
    if suffix == ".svg":
        found = re.search(r"<metadata[^>]*>(.*?)</metadata>", path.read_text(errors="replace"),
                          re.S)
        return html.unescape(found.group(1).replace("<![CDATA[", "").replace("]]>", "")
                             ).strip() if found else ""
    if suffix == ".pdf":
        return _pdf_subject(path.read_bytes())
    if suffix in (".webm", ".mp4", ".gif"):
        return _video_comment(path)
    if suffix in (".ttf", ".otf", ".woff2"):
        from fontTools.ttLib import TTFont
        return TTFont(path)["name"].getDebugName(10) or ""
    return ""


def _pdf_subject(data: bytes) -> str:
    """The document information Subject: a literal (…) string or a hex <FEFF…> one."""
    found = re.search(rb"/Subject\s*\(((?:\\.|[^\\)])*)\)", data, re.S)
    if found:
        raw = re.sub(rb"\\([nrtbf()\\]|[0-7]{1,3})", _pdf_escape, found.group(1))
        if raw.startswith(b"\xfe\xff"):
            return raw[2:].decode("utf-16-be", errors="replace")
        return raw.decode("latin-1")
    found = re.search(rb"/Subject\s*<([0-9A-Fa-f\s]*)>", data)
    if found:
        raw = bytes.fromhex(found.group(1).decode())
        utf16 = raw.startswith(b"\xfe\xff")  # PDF text strings: UTF-16 with a BOM, or Latin-1
        return raw[2:].decode("utf-16-be") if utf16 else raw.decode("latin-1")
    return ""


def _pdf_escape(match) -> bytes:
    code = match.group(1)
    table = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}
    if code in table:
        return table[code]
    return bytes([int(code, 8)]) if code[:1].isdigit() else code


def _video_comment(path: Path) -> str:
    """The comment tag, read with the ffmpeg imageio-ffmpeg bundles (ffmetadata: no truncation)."""
    import imageio_ffmpeg
    out = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(path),
                          "-f", "ffmetadata", "-"], capture_output=True, text=True,
                         timeout=60).stdout
    lines, value = out.splitlines(), None
    for i, line in enumerate(lines):
        if line.lower().startswith("comment="):
            value = line[len("comment="):]
            while value.endswith("\\") and i + 1 < len(lines):  # an escaped newline
                i += 1
                value = value[:-1] + "\n" + lines[i]
            break
    return re.sub(r"\\(.)", r"\1", value) if value is not None else ""


# -- the command that remakes a file -----------------------------------------------------------

def remake_command(name: str, params: dict) -> str:
    preset, seeds, kind = params.get("preset"), params.get("seeds"), params.get("kind")
    if not preset:
        return ""
    if isinstance(seeds, list):
        from ..latent import compact_seeds
        seeds = compact_seeds(seeds)
    if Path(name).suffix.lower() in (".ttf", ".otf", ".woff2") or kind == "font":
        return shlex.join(["glyphart", "font", "--preset", preset, "--seeds", str(seeds),
                           "--out", name])
    if kind not in OUTPUT_FLAG:
        return ""
    words = ["glyphart", "render", "--preset", preset, "--seeds", str(seeds)]
    options = params.get("options", {}) if isinstance(params.get("options"), dict) else {}
    for key, flag in {**PAINT, **FLAGS[kind]}.items():
        value = options.get(key, params.get(key))
        if value in (None, "", False, "auto") or (key == "style" and value == "ink"):
            continue
        words += [flag] if value is True else [flag, str(value)]
    if kind == "video" and options.get("frames") and options.get("fps") and \
            "seconds" not in options:
        words += ["--seconds", f"{options['frames'] / options['fps']:g}"]
    words += separation_flags(params.get("separations"))
    if params.get("picked_from"):
        words += ["--pick", str(len(str(seeds).split(",")))]  # the pool is in --seeds
    separation = params.get("separation")
    if isinstance(separation, dict) and separation.get("composite"):  # a master: its composite
        name = str(Path(name).with_name(str(separation["composite"])))
    return shlex.join(words + [OUTPUT_FLAG[kind], name])


def separation_flags(separations) -> list[str]:
    """The flags that separate a file as its metadata's "separations" says."""
    if not isinstance(separations, dict):
        return []
    words = ["--separations"] + (["pages"] if separations.get("mode") == "pages" else [])
    words += ["--marks"] if separations.get("marks") else []
    words += ["--trap", f"{separations['trap_mm']:g}"] if separations.get("trap_mm") else []
    density = separations.get("density")
    words += ["--ink-density", ",".join(f"{d:g}" for d in density)] if density else []
    return words


# -- thumbnails ---------------------------------------------------------------------------------

def thumbnail(path: Path, out: Path) -> bool:
    """A THUMB px PNG of the file at `out`; False when none can be made (the card says so)."""
    kind = KINDS[path.suffix.lower()]
    if kind == "image" or path.suffix.lower() == ".gif":
        with Image.open(path) as im:
            im.seek(0)
            picture = im.convert("RGB")
    elif kind == "video":
        import imageio_ffmpeg
        reader = imageio_ffmpeg.read_frames(str(path))
        meta = next(reader)
        frame = next(reader)
        reader.close()
        picture = Image.frombytes("RGB", meta["size"], frame)
    elif kind == "pdf":
        try:
            import pypdfium2
        except ImportError:
            picture = _card("PDF")
        else:
            document = pypdfium2.PdfDocument(str(path))
            page = document[0]
            picture = page.render(scale=THUMB / max(page.get_size())).to_pil().convert("RGB")
            document.close()
    elif kind == "font":
        picture = _font_card(path)
    else:
        return False
    picture.thumbnail((THUMB, THUMB))
    out.parent.mkdir(parents=True, exist_ok=True)
    picture.save(out)
    return True


def _card(text: str) -> Image.Image:
    card = Image.new("RGB", (THUMB, THUMB), "#f3eee3")
    ImageDraw.Draw(card).text((THUMB // 2, THUMB // 2), text, fill="#16140f", anchor="mm")
    return card


def _font_card(path: Path) -> Image.Image:
    from fontTools.ttLib import TTFont
    from PIL import ImageFont
    font = TTFont(path)
    font.flavor = None  # woff2 -> plain sfnt, which Pillow reads
    data = io.BytesIO()
    font.save(data)
    letters = "".join(chr(c) for c in sorted(font.getBestCmap())[:8] if chr(c).isprintable())
    face = ImageFont.truetype(io.BytesIO(data.getvalue()), THUMB // 6)
    card = Image.new("RGB", (THUMB, THUMB), "#f3eee3")
    draw = ImageDraw.Draw(card)
    draw.text((THUMB // 2, THUMB // 3), letters[:4], font=face, fill="#16140f", anchor="mm")
    draw.text((THUMB // 2, 2 * THUMB // 3), letters[4:8], font=face, fill="#16140f", anchor="mm")
    return card


# -- the page -----------------------------------------------------------------------------------

STYLE = """body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#1b1c1f;color:#ddd}
h1{font-size:18px;padding:12px 16px;margin:0;background:#111}
main{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:14px;padding:14px}
figure{margin:0;background:#26272c;border-radius:4px;padding:10px}
figure img{width:100%;aspect-ratio:1;object-fit:contain;background:#000;display:block}
figcaption a{color:#9cf;font-weight:600}
dl{display:grid;grid-template-columns:auto 1fr;gap:0 8px;font-size:12px;margin:6px 0}
dt{color:#999}dd{margin:0;word-break:break-all}
pre{white-space:pre-wrap;word-break:break-all;background:#111;padding:6px;font-size:12px;margin:0}
.masters{display:flex;gap:6px;margin:6px 0}.masters a{flex:1;font-size:11px;color:#9cf}
.masters img{width:100%;aspect-ratio:1;object-fit:contain;background:#fff;display:block}"""


def write_gallery(folder: str | Path) -> Path:
    folder = Path(folder)
    files = sorted(p for p in folder.rglob("*") if p.is_file() and
                   p.suffix.lower() in KINDS and "thumbs" not in p.relative_to(folder).parts)
    params = {path: read_parameters(path) for path in files}
    masters = masters_of(files, params)
    beside = {master for group in masters.values() for master in group}
    cards = [_card_html(folder, path, params[path],
                        {master: params[master] for master in masters.get(path, [])})
             for path in files if path not in beside]
    page = (f"<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>glyphart gallery: {html.escape(folder.resolve().name)}</title>"
            f"<style>{STYLE}</style></head><body>\n"
            f"<h1>glyphart gallery: {html.escape(folder.resolve().name)} "
            f"({len(files)} files)</h1>\n<main>\n" + "\n".join(cards)
            + "\n</main></body></html>\n")
    out = folder / "index.html"
    write_text(out, page)
    return out


def masters_of(files: list[Path], params: dict) -> dict[Path, list[Path]]:
    """Composite -> its separations (each names its composite, in print order): a
    composite's card shows them, so they get no cards of their own."""
    groups: dict[Path, list[Path]] = {}
    for path in files:
        separation = params[path].get("separation")
        composite = path.with_name(str(separation.get("composite", ""))) \
            if isinstance(separation, dict) else None
        if composite in params and composite != path:
            groups.setdefault(composite, []).append(path)
    return {composite: sorted(group, key=lambda p: params[p]["separation"].get("ink", 0))
            for composite, group in groups.items()}


def _picture(folder: Path, path: Path) -> str:
    """The file's thumbnail as an <img> (made under thumbs/), or a note that none could be."""
    relative = path.relative_to(folder)
    thumb_rel = Path("thumbs") / relative.with_suffix(relative.suffix + ".png")
    if KINDS[path.suffix.lower()] == "vector":
        thumb_rel, made = relative, True  # the browser draws an SVG itself
    else:
        try:
            made = thumbnail(path, folder / thumb_rel)
        except Exception:  # noqa: BLE001 - an unreadable file still gets its card
            made = False
    return (f'<img src="{quote(thumb_rel.as_posix())}" alt="{html.escape(path.name)}" '
            f'loading="lazy">' if made else "<p>(no preview)</p>")


def _masters_html(folder: Path, masters: dict[Path, dict]) -> str:
    links = []
    for path, params in masters.items():
        separation = params["separation"]
        label = f"ink {separation['ink']} {separation.get('colour', '')}" \
            if "ink" in separation else "masters"
        links.append(f'<a href="{quote(path.relative_to(folder).as_posix())}">'
                     f"{_picture(folder, path)}{html.escape(label)}</a>")
    return f'<div class="masters">{"".join(links)}</div>'


def _card_html(folder: Path, path: Path, params: dict, masters: dict[Path, dict]) -> str:
    relative = path.relative_to(folder)
    link = quote(relative.as_posix())
    picture = _picture(folder, path)
    rows = "".join(f"<dt>{html.escape(str(k))}</dt><dd>{html.escape(_shown(v))}</dd>"
                   for k, v in _flat(params).items())
    command = remake_command(relative.as_posix(), params)
    return (f'<figure><a href="{link}">{picture}</a>'
            + (_masters_html(folder, masters) if masters else "")
            + f'<figcaption><a href="{link}">'
            f"{html.escape(relative.as_posix())}</a><dl>{rows}</dl>"
            + (f"<pre>{html.escape(command)}</pre>" if command else "")
            + "</figcaption></figure>")


def _flat(params: dict) -> dict:
    flat = {k: v for k, v in params.items() if k != "options"}
    if isinstance(params.get("options"), dict):
        flat.update({k: v for k, v in params["options"].items() if v not in ("", None)})
    return flat


def _shown(value) -> str:
    return value if isinstance(value, str) else json.dumps(value)
