"""Growing a preset from its parent (grow.py): what carries over, what is new, and that the
parent's glyphs are drawn on step one where the change allows it."""

from __future__ import annotations

import re

import pytest
import torch
from conftest import tiny_four_strokes, write_tiny

from glyphart.errors import GlyphartError
from glyphart.grow import grow
from glyphart.models import build_models
from glyphart.presets import copy_preset, find, load_preset
from glyphart.spec import load_spec
from glyphart.train import train
from glyphart.train.checkpoint import init_from


def _parent(tmp_path, design: str, steps: int = 30):
    path = write_tiny(tmp_path, tiny_four_strokes(design, steps=steps), "parent")
    train(load_spec(path), path, quiet=True, eval_messages=0)
    return path


def _child(tmp_path, parent, design: str, **model):
    """A tiny strokes preset grown from `parent`, its [model] keys replaced by `model`."""
    text = tiny_four_strokes(design).replace("[train]", f"[train]\ninit_from = {str(parent)!r}")
    for key, value in model.items():
        text = re.sub(rf"\n{key} = .*\n", "\n", text, count=1)
        text = text.replace("[model]\n", f"[model]\n{key} = {value}\n", 1)
    return write_tiny(tmp_path, text, "child")


def _grown(child, parent):
    gen, dec = build_models(load_spec(child).model)
    report = init_from(str(parent), gen, dec)
    return gen.eval(), dec.eval(), report


def _ink(gen, z, size=64):
    with torch.no_grad():
        return gen.logits(z, size).sigmoid() > 0.5


def test_one_more_stroke_keeps_the_parents_strokes_and_adds_one(tmp_path):
    """Strokes with homes (not a set), a fifth stroke and four more message numbers: the new
    numbers' columns start at zero, so the four strokes are the parent's exactly, and the fifth
    (fresh rows) inks too; the decoder reads the parent's numbers where it did."""
    parent = _parent(tmp_path, 'place = "learned"')
    child = _child(tmp_path, parent, 'place = "learned"', strokes=5, message_size=20)
    gen, dec, report = _grown(child, parent)
    old = load_preset(parent)
    assert report["tensors"]["widened"] == ["generator.body.0.weight", "generator.head.weight",
                                            "generator.head.bias", "decoder.readout.weight",
                                            "decoder.readout.bias"]
    assert "new" not in report["tensors"]
    z = torch.randn(32, 16)
    grown_z = torch.cat([z, torch.randn(32, 4)], 1)
    with torch.no_grad():
        mine, theirs = gen.strokes(grown_z), old.generator.strokes(z)
    assert torch.allclose(mine.points[:, :4], theirs.points, atol=1e-5)
    assert torch.allclose(mine.radii[:, :4], theirs.radii, atol=1e-5)
    drawn, before = _ink(gen, grown_z), _ink(old.generator, z)
    assert bool((drawn | ~before).all())  # every pixel the parent inked is still ink
    assert (drawn & ~before).any(dim=(1, 2, 3)).float().mean() > 0.5  # and the fifth adds ink
    image = torch.rand(8, 1, 16, 16)
    with torch.no_grad():
        assert torch.allclose(dec(image)[:, :16], old.decoder(image), atol=1e-5)


def test_a_set_with_one_more_stroke_reads_each_parent_stroke_at_its_place(tmp_path):
    """An exchangeable set of four strokes grown to five (message 16 -> 20, a chunk of four a
    stroke): every tensor of the generator is copied (one network draws every stroke); the
    decoder's readout rows move with the strokes' chunks."""
    parent = _parent(tmp_path, "exchangeable = true")
    child = _child(tmp_path, parent, "exchangeable = true", strokes=5, message_size=20)
    gen, dec, report = _grown(child, parent)
    assert report["tensors"]["widened"] == ["decoder.readout.weight", "decoder.readout.bias"]
    assert not [n for n in report["tensors"]["copied"] if n.startswith("decoder.readout")]
    old = load_preset(parent)
    image = torch.rand(8, 1, 16, 16)
    with torch.no_grad():
        assert torch.allclose(dec(image)[:, :16], old.decoder(image), atol=1e-5)
        strokes = gen.strokes(torch.randn(64, 20))
    assert strokes.points.shape[1] == 5


def test_a_segment_more_draws_the_parents_glyphs_on_step_one(tmp_path):
    """One segment a stroke -> two: each split by de Casteljau and the head refitted to draw
    them, so the grown generator's first glyphs are its parent's (moving the head's numbers
    alone, through the sigmoids, bends them off: the shape-only carry drew other glyphs)."""
    parent = _parent(tmp_path, "exchangeable = true", steps=60)
    child = _child(tmp_path, parent, "exchangeable = true", segments=2)
    gen, _, report = _grown(child, parent)
    assert report["tensors"]["split"] == ["generator.set.head.weight",
                                          "generator.set.head.bias"]
    assert report["parent_model"] == "weights"
    old = load_preset(parent).generator
    z = torch.randn(64, 16)
    drawn, before = _ink(gen, z), _ink(old, z)
    overlap = float((drawn & before).sum() / (drawn | before).sum())
    assert overlap > 0.85, overlap
    with torch.no_grad():
        assert gen.strokes(z).segments == 2


def test_the_record_lists_what_was_copied_split_and_new(tmp_path):
    """Trained, the grown preset's record says where it came from and each tensor's fate."""
    parent = _parent(tmp_path, "exchangeable = true")
    child = _child(tmp_path, parent, "exchangeable = true\ndetail = true", segments=2)
    record = train(load_spec(child), child, steps=3, quiet=True, eval_messages=0)
    grown = record["init_from"]
    assert grown["preset"] == str(parent)
    assert grown["tensors"]["split"] == ["generator.set.head.weight", "generator.set.head.bias"]
    assert grown["tensors"]["new"] == ["generator.set.detail.weight", "generator.set.detail.bias"]
    assert grown["tensors_copied"] == len(grown["tensors"]["copied"]) == grown["tensors_total"] - 4
    assert grown["tensors_total"] == sum(len(v) for v in grown["tensors"].values())


def test_a_parent_of_which_nothing_fits_is_an_error_not_a_fresh_start():
    gen, dec = build_models(load_spec_text(tiny_four_strokes("exchangeable = true")).model)
    with pytest.raises(GlyphartError, match="none of elsewhere's tensors fit"):
        grow(gen, dec, {"generator.other.weight": torch.zeros(3, 3)}, None, "elsewhere")


def test_a_copy_grows_from_the_preset_it_was_copied_from(tmp_path):
    """`preset new X --from hd-color` grows X from hd-color, not from hd-color's own parent;
    an untrained source passes on its own init_from."""
    assert load_spec(copy_preset("hd-color", "mine")).train.init_from == "hd-color"
    untrained = tmp_path / "draft.toml"
    untrained.write_text(tiny_four_strokes("exchangeable = true").replace(
        "[train]", '[train]\ninit_from = "brush"'))
    assert load_spec(copy_preset(str(untrained), "theirs")).train.init_from == "brush"


def test_a_copy_fine_tunes_what_it_carries_at_its_parents_final_rate():
    """`preset new` writes the fine-tuning recipe: the carried tensors at the parent's
    lr_final, edges crisp from the start and glyphs drawn at full size, as the parent's
    ended (no sharpen, no reader_until)."""
    gray = load_spec(copy_preset("gray", "tweak")).train
    assert (gray.init_from, gray.carried_lr, gray.sharpen) == ("gray", gray.lr_final, 0.0)
    assert load_spec(find("hd-color").toml).train.reader_until > 0
    hd = load_spec(copy_preset("hd-color", "hd-tweak")).train
    assert (hd.init_from, hd.carried_lr, hd.reader_until) == ("hd-color", hd.lr_final, 0.0)


def test_carried_tensors_learn_at_carried_lr_and_keep_it_on_resume(tmp_path):
    """With carried_lr = 0 the parameters copied unchanged from the parent stay its own
    through a run interrupted and resumed (the checkpoint keeps the grouping), while the
    widened ones (a fifth stroke's rows) learn."""
    from safetensors.torch import load_file
    parent = _parent(tmp_path, "exchangeable = false")
    child = _child(tmp_path, parent, "exchangeable = false", strokes=5, message_size=20)
    child.write_text(child.read_text().replace("[train]", "[train]\ncarried_lr = 0.0")
                     .replace("steps = 40", "steps = 12"))

    def interrupt(step, gen, dec):
        if step == 6:
            raise KeyboardInterrupt
    with pytest.raises(GlyphartError, match="continue with --resume"):
        train(load_spec(child), child, quiet=True, eval_messages=0, monitor=interrupt)
    record = train(load_spec(child), child, quiet=True, eval_messages=0, resume=True)
    assert record["steps"] == 12
    gen, dec, report = _grown(child, parent)
    params = {f"{prefix}.{name}" for prefix, module in (("generator", gen), ("decoder", dec))
              for name, _ in module.named_parameters()}
    before, after = load_file(parent.with_suffix(".safetensors")), load_file(
        child.with_suffix(".safetensors"))
    copied = params & set(report["tensors"]["copied"])
    widened = params & set(report["tensors"]["widened"])
    assert copied and widened
    assert all(torch.equal(before[name], after[name]) for name in copied)
    for name in widened:  # the parent's part of each widened tensor moved
        kept = after[name][tuple(slice(0, n) for n in before[name].shape)]
        assert not torch.equal(before[name], kept), name


def load_spec_text(text: str):
    import tomllib

    from glyphart.spec import spec_from_dict
    return spec_from_dict(tomllib.loads(text))


def test_a_parent_whose_generator_carries_nothing_is_an_error_naming_the_rename():
    """A stroke preset grown from `gray` (now bold shapes): the decoder alone would carry
    over and the glyphs start from nothing in silence; the error says gray's strokes ship as
    script."""
    from test_shapes import TINY_SHAPES
    shapes = load_spec_text(TINY_SHAPES).model
    parent_gen, parent_dec = build_models(shapes)
    tensors = {f"generator.{k}": v for k, v in parent_gen.state_dict().items()}
    tensors |= {f"decoder.{k}": v for k, v in parent_dec.state_dict().items()}
    text = tiny_four_strokes("exchangeable = true").replace("size = 16", "size = 32")
    gen, dec = build_models(load_spec_text(text).model)
    with pytest.raises(GlyphartError, match=r"gray is a shapes preset, this one strokes\); "
                                            r"the gray it grew from ships as 'script'"):
        grow(gen, dec, tensors, shapes, "gray")
