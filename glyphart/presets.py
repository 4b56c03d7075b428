"""Find presets (built-in, user folder, or a path) and load/save their weights.

A preset is NAME.toml, with NAME.safetensors (trained weights) and NAME.json (training record)
beside it. Weights are safetensors (nothing is unpickled) and record the hash of the [model]
table they were trained for, so an edited TOML is refused instead of silently misloaded.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from . import __version__
from .atomic import atomic_path, write_text
from .errors import GlyphartError
from .spec import Spec, dump_spec, load_spec, model_to_json

# Built-ins that changed kind, and the name their old weights ship under now.
RENAMED = {"gray": "script", "hd-gray": "hd-script"}
BUILTIN_NAMES = ("seed", "brush", "gray", "color", "hd-gray", "hd-color", "script", "hd-script")
WEIGHTS_FORMAT = "glyphart-weights-1"


def builtin_dir() -> Path:
    """The shipped presets (read-only): `presets/` at the top of a checkout (an editable
    install), which the wheel carries as the package's `builtin_presets` folder."""
    package = Path(__file__).resolve().parent
    installed = package / "builtin_presets"
    return installed if installed.is_dir() else package.parent / "presets"


def user_dir() -> Path:
    """GLYPHART_PRESETS, else the platform's per-user data folder."""
    if os.environ.get("GLYPHART_PRESETS"):
        return Path(os.environ["GLYPHART_PRESETS"]).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA", Path.home() / "AppData" / "Roaming"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "glyphart" / "presets"


@dataclass
class PresetFiles:
    """Where a preset's files are; nothing is loaded yet."""
    toml: Path
    origin: str  # "built-in", "user" or "path"
    shadowed: bool = False  # a built-in hidden by a user preset of the same name

    @property
    def name(self) -> str:
        return self.toml.stem

    @property
    def weights(self) -> Path:
        return self.toml.with_suffix(".safetensors")

    @property
    def record(self) -> Path:
        return self.toml.with_suffix(".json")

    @property
    def trained(self) -> bool:
        return self.weights.is_file()


def _is_path(name: str) -> bool:
    return name.endswith(".toml") or os.sep in name or "/" in name


def is_builtin_path(path: Path) -> bool:
    """True for anything in a shipped presets folder, however it is spelled: this
    installation's, or another glyphart's (a checkout beside an installed copy)."""
    shipped = builtin_dir().resolve()
    return any(folder == shipped or _is_shipped_folder(folder)
               for folder in Path(path).resolve().parents)


def _is_shipped_folder(folder: Path) -> bool:
    """An installed glyphart's builtin_presets, or a checkout's presets/ beside glyphart/."""
    if folder.name == "builtin_presets":
        package = folder.parent
    elif folder.name == "presets":
        package = folder.parent / "glyphart"
    else:
        return False
    return (package / "presets.py").is_file() and (package / "__init__.py").is_file()


def refuse_builtin(path: Path, action: str) -> None:
    """Shipped presets are read-only: no training or copying ever writes into their folder."""
    if is_builtin_path(path):
        raise GlyphartError(f"{path} is a built-in preset, which glyphart never changes; "
                            f"{action} to the user folder or another .toml path instead")


def available() -> list[PresetFiles]:
    """User presets first, then built-ins; a built-in that a user preset of the same name
    shadows is listed too, marked `shadowed`."""
    found: list[PresetFiles] = []
    names: set[str] = set()
    for folder, origin in ((user_dir(), "user"), (builtin_dir(), "built-in")):
        if folder.is_dir():
            for toml in sorted(folder.glob("*.toml")):
                found.append(PresetFiles(toml, origin, shadowed=toml.stem in names))
            names |= {toml.stem for toml in folder.glob("*.toml")}
    order = {n: i for i, n in enumerate(BUILTIN_NAMES)}
    return sorted(found, key=lambda p: (order.get(p.name, 99), p.name, p.shadowed))


def find(name_or_path: str | Path) -> PresetFiles:
    text = str(name_or_path)
    if not text.strip():
        raise GlyphartError("empty preset name; give a name from `glyphart presets` or a "
                            ".toml path")
    if _is_path(text):
        path = Path(text).expanduser()
        if not path.is_file():
            raise GlyphartError(f"preset file {path} does not exist")
        return PresetFiles(path, "built-in" if is_builtin_path(path) else "path")
    for candidate in available():
        if candidate.name == text and not candidate.shadowed:
            return candidate
    names = ", ".join(sorted({p.name for p in available()})) or "none"
    raise GlyphartError(f"unknown preset {text!r}; available: {names} "
                        "(or give a path to a .toml file)")


def training_destination(files: PresetFiles) -> Path:
    """Where training a preset writes: the preset itself, or for a built-in its user copy."""
    if files.origin == "built-in":
        return user_dir() / files.toml.name
    return files.toml


def shadows_builtin(toml: Path) -> bool:
    return toml.parent.resolve() == user_dir().resolve() and \
        (builtin_dir() / toml.name).is_file()


def safe_file_name(name: str) -> str:
    """A preset name made safe to use in a file name: no folders, no hidden or empty names.
    A TOML someone else wrote can set any `name`; it must never place a file elsewhere."""
    cleaned = re.sub(r"[^A-Za-z0-9._+-]+", "-", name).strip(".-")
    return cleaned or "preset"


def user_preset_path(name: str) -> Path:
    """NAME.toml in the user folder; NAME must be a plain name."""
    if not name.strip() or name in (".", "..") or any(c in name for c in "/\\\0") \
            or ".." in name or name.startswith("."):
        raise GlyphartError(f"bad preset name {name!r}: use a plain name such as my-glyphs "
                            "(no folders, no leading dot), or a path ending in .toml")
    return user_dir() / f"{name}.toml"


# ---------------------------------------------------------------------------------------------
# loaded presets


class Preset:
    """A preset with its spec; models are built (and weights loaded) on first use.

    `.generator` and `.decoder` are torch modules in eval mode; `.channel` is the preset's
    noisy channel (random at every call).
    """

    def __init__(self, files: PresetFiles, spec: Spec, device: str = "cpu"):
        self.files, self.spec, self.device = files, spec, device

    @property
    def name(self) -> str:
        return self.spec.name or self.files.name

    @property
    def trained(self) -> bool:
        return self.files.trained

    @cached_property
    def _models(self):
        from .models import build_models
        gen, dec = build_models(self.spec.model)
        load_weights(self.files.weights, self.spec, gen, dec, name=self.name)
        return gen.to(self.device).eval(), dec.to(self.device).eval()

    @property
    def generator(self):
        return self._models[0]

    @property
    def decoder(self):
        return self._models[1]

    @cached_property
    def channel(self):
        from .channel import build_channel
        return build_channel(self.spec.channel, self.spec.model.size).to(self.device)

    def strokes(self, messages):
        """The strokes of a strokes preset's glyphs: control points (B, K, 3S+1, 2) and
        half-widths at the joints (B, K, S+1), in the glyph's unit square (x right, y down).
        `messages` is a (B, N) tensor, or seeds (a list or a string such as "0-7")."""
        import torch
        from .latent import messages as seeded
        if not getattr(self.generator, "has_strokes", False):
            raise GlyphartError(f"preset {self.name!r} draws {self.spec.model.generator} "
                                "glyphs, which have no strokes; strokes presets such as brush "
                                "have them")
        z = messages if isinstance(messages, torch.Tensor) else seeded(self, messages)
        with torch.no_grad():
            strokes = self.generator.strokes(z.to(self.device))
        return type(strokes)(strokes.points.cpu(), strokes.radii.cpu(), strokes.taper)

    def paint(self, palette: str = "", inks: str = "", paper: str = "", blend: str = ""):
        """The paint (paper, inks, blend) of the preset's [render] table, or of the given
        palette, colours and blend."""
        from .inks import make_paint
        r = self.spec.render
        named = palette or r.palette
        return make_paint(self.spec.model.layers, named, inks or (r.inks if not palette else ""),
                          paper or (r.paper if not palette else ""), blend, r.blend)

    def picture(self, z, paint=None):
        """What the decoder reads: the glyphs' coverage, or for a colour preset its ink layers
        laid on paper (the preset's own palette unless `paint` is given)."""
        coverage = self.generator(z)
        if not self.spec.model.inks:
            return coverage
        return (paint or self.paint()).composite(coverage)

    def send(self, z, paint=None):
        """generator -> own channel -> decoder, as in training."""
        return self.decoder(self.channel(self.picture(z, paint)))

    @cached_property
    def weights_hash(self) -> str:
        if not self.trained:
            return ""
        return hashlib.sha256(self.files.weights.read_bytes()).hexdigest()[:16]

    @cached_property
    def record(self) -> dict:
        try:
            return json.loads(self.files.record.read_text())
        except (OSError, ValueError):
            return {}

    def __repr__(self) -> str:
        m = self.spec.model
        return (f"Preset({self.name!r}, channels={m.channels}, size={m.size}, "
                f"message_size={m.message_size}, trained={self.trained})")


def load_preset(name_or_path: str | Path, device: str = "cpu", require_weights: bool = True
                ) -> Preset:
    """Load a preset by name or TOML path. With require_weights, an untrained one is an error."""
    files = find(name_or_path)
    spec = load_spec(files.toml)
    preset = Preset(files, spec, device)
    if require_weights:
        if not files.trained:
            raise GlyphartError(f"preset {preset.name!r} has no trained weights "
                                f"({files.weights} is missing); train it with "
                                f"`glyphart train {name_or_path}`")
        preset.generator  # load now, so errors surface here and not mid-render
    return preset


# ---------------------------------------------------------------------------------------------
# weights


def save_weights(path: Path, spec: Spec, generator, decoder, dtype: str = "float16",
                 extra: dict | None = None) -> None:
    import torch
    from safetensors.torch import save_file

    target = getattr(torch, dtype)
    tensors = {}
    for prefix, module in (("generator", generator), ("decoder", decoder)):
        for key, value in module.state_dict().items():
            value = value.detach().cpu()
            if value.is_floating_point():
                value = value.to(target)
            tensors[f"{prefix}.{key}"] = value.contiguous()
    metadata = {"format": WEIGHTS_FORMAT, "model_hash": spec.model_hash, "preset": spec.name,
                "glyphart_version": __version__, "model": model_to_json(spec.model)}
    metadata.update({k: str(v) for k, v in (extra or {}).items()})
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=metadata)


def _retrain_hint(name: str) -> str:
    return f"retrain it with `glyphart train {name}`"


def read_tensors(path: Path, what: str, remedy: str) -> tuple[dict, dict]:
    """(tensors, metadata) of a safetensors file; a damaged one is a one-line error."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file, safe_open
    try:
        with safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
        return load_file(str(path)), metadata
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise GlyphartError(f"{what} {path} is damaged or truncated "
                            f"({str(e).splitlines()[0]}); {remedy}") from None


def module_part(tensors: dict, prefix: str, module) -> dict | None:
    """The tensors under `prefix.` with the prefix dropped, if they fit `module` exactly
    (same names and shapes); None if they do not."""
    own = module.state_dict()
    part = {k[len(prefix) + 1:]: v for k, v in tensors.items() if k.startswith(prefix + ".")}
    if set(part) != set(own) or any(part[k].shape != own[k].shape for k in own):
        return None
    return part


def check_tensor_values(loaded: dict, own: dict, what: str, remedy: str) -> None:
    """Refuse tensors whose kind differs from the module's (integer or bool where floats
    belong) or that hold NaN or infinity: they would load, then draw nonsense."""
    import torch
    for key, value in loaded.items():
        if own[key].is_floating_point() != value.is_floating_point() or value.dtype == torch.bool:
            raise GlyphartError(f"{what}: {key} holds {value.dtype} values where "
                                f"{own[key].dtype} belongs; {remedy}")
        if value.is_floating_point() and not torch.isfinite(value).all():
            raise GlyphartError(f"{what}: {key} holds NaN or infinite values; {remedy}")


def load_weights(path: Path, spec: Spec, generator, decoder, name: str = "") -> dict:
    """Load weights into the modules; refuse missing, damaged or mismatched files clearly."""
    name = name or spec.name
    if not path.is_file():
        raise GlyphartError(f"preset {name!r}: weights file {path} is missing; "
                            f"{_retrain_hint(name)}")
    tensors, metadata = read_tensors(path, f"preset {name!r}: weights file",
                                     f"{_retrain_hint(name)} or copy it again")
    if metadata.get("format") != WEIGHTS_FORMAT:
        raise GlyphartError(f"preset {name!r}: {path} is not a glyphart weights file; "
                            f"{_retrain_hint(name)}")
    if metadata.get("model_hash") != spec.model_hash:
        raise GlyphartError(f"preset {name!r}: weights {path.name} were trained for a different "
                            f"[model] table (hash {metadata.get('model_hash')} != "
                            f"{spec.model_hash}); undo the [model] edit or {_retrain_hint(name)}")
    for prefix, module in (("generator", generator), ("decoder", decoder)):
        own = module.state_dict()
        part = module_part(tensors, prefix, module)
        if part is None:
            raise GlyphartError(f"preset {name!r}: weights {path.name} do not fit the "
                                f"{prefix} of this spec; {_retrain_hint(name)}")
        check_tensor_values(part, own, f"preset {name!r}: weights {path.name}",
                            _retrain_hint(name))
        module.load_state_dict({k: v.to(own[k].dtype) for k, v in part.items()})
    return metadata


# ---------------------------------------------------------------------------------------------
# copying presets for artists to tweak


def copy_preset(source: str, dest: str | Path | None = None, with_weights: bool = False,
                force: bool = False) -> Path:
    """Copy a preset's TOML (and optionally weights + record) to a new name or path."""
    files = find(source)
    spec = load_spec(files.toml)
    dest_text = str(dest) if dest is not None else files.name
    if dest_text.endswith(".toml"):
        target = Path(dest_text).expanduser()
    else:
        target = user_preset_path(dest_text)
    refuse_builtin(target, "copy it")
    if target.resolve() == files.toml.resolve():
        raise GlyphartError(f"{target} is the source preset itself; choose another name")
    if target.exists() and not force:
        raise GlyphartError(f"{target} already exists; pass --force to overwrite it")
    spec.name = target.stem
    grow_from_source(spec, files, source)
    write_text(target, dump_spec(spec))
    if with_weights:
        if not files.trained:
            raise GlyphartError(f"preset {files.name!r} has no weights to copy")
        # The weights record the [model] hash only, not the name: a straight copy stays valid.
        for src, dst in ((files.weights, target.with_suffix(".safetensors")),
                         (files.record, target.with_suffix(".json"))):
            if src.is_file():
                with atomic_path(dst) as tmp:
                    shutil.copyfile(src, tmp)
    return target


def grow_from_source(spec: Spec, files: PresetFiles, source: str) -> None:
    """A copy grows from the preset it was copied from ([train] init_from), when that has
    weights; an untrained source passes on its own init_from. Grown, it fine-tunes: what it
    carries unchanged learns at the rate its parent ended on (carried_lr = lr_final: at the
    recipe's full rate a 45-degree tweak of gray fell from 0.82 of its bits to 0.62 in the
    first CPU-minute, at its final rate it holds what it reads); its edges start crisp, as its
    parent's ended (no [train] sharpen), and it draws at full size from the first step, where
    its parent ended (no reader_until: a 45-degree hd-script drawn small first fell from 0.92
    of its bits to 0.86 in its first CPU-minute, at full size it holds 0.92-0.95)."""
    if files.trained:
        spec.train.init_from = str(files.toml.resolve()) if _is_path(source) else files.name
        spec.train.carried_lr = min(spec.train.carried_lr, spec.train.lr_final)
        spec.train.sharpen = 0.0
        spec.train.reader_until = 0.0
