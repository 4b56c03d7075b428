"""Preset files: validation errors name the file, the key and what is allowed; exit code 2."""

from __future__ import annotations

import pytest

from conftest import TINY, assert_one_line_error, run_cli, write_tiny
from glyphart.errors import GlyphartError
from glyphart.spec import dump_spec, load_spec, spec_from_dict


def test_tiny_preset_loads_with_defaults(tmp_path):
    spec = load_spec(write_tiny(tmp_path))
    assert spec.name == "tiny"
    assert spec.model.size == 16 and spec.model.start_size == 4
    assert spec.channel.noise.std == 0.25
    assert spec.channel.crop is None  # absent table = transformation off
    assert spec.render.fps == 30  # default


def test_dump_then_load_round_trips(tmp_path):
    spec = load_spec(write_tiny(tmp_path))
    again = tmp_path / "again.toml"
    again.write_text(dump_spec(spec))
    loaded = load_spec(again)
    assert loaded.model == spec.model and loaded.channel == spec.channel
    assert loaded.train == spec.train and loaded.render == spec.render
    assert loaded.model_hash == spec.model_hash


def test_model_hash_follows_model_table_only(tmp_path):
    spec = load_spec(write_tiny(tmp_path))
    other = load_spec(write_tiny(tmp_path, TINY.replace("lr = 0.003", "lr = 0.001"), "b"))
    assert other.model_hash == spec.model_hash
    wider = load_spec(write_tiny(tmp_path, TINY.replace("[32, 16, 8]", "[64, 16, 8]"), "c"))
    assert wider.model_hash != spec.model_hash

    # A key added after weights first shipped changes the hash only when it is set.
    def with_margin(value, name):
        text = TINY.replace("\nsize = 16", f"\nsize = 16\nedge_margin = {value}")
        return load_spec(write_tiny(tmp_path, text, name))
    zero = with_margin(0.0, "d")
    assert zero.model_hash == spec.model_hash
    margin = with_margin(0.1, "e")
    assert margin.model_hash != spec.model_hash


@pytest.mark.parametrize("edit, needles", [
    (("\nsize = 16", "\nsize = 16\ncolour = 3"),
     ["[model]: unknown key 'colour'", "allowed keys"]),
    (("batch = 32", 'batch = "many"'), ["[train] batch", "'many'", "an integer"]),
    (("std = 0.25", "std = -1.0"), ["[channel.noise] std", "between 0.0 and 4.0"]),
    (("message_size = 16", "message_size = 0"), ["[model] message_size", "between 1 and 4096"]),
    (('[model]', '[model]\ngenerator = "gan"'), ["[model] generator", "'resize'"]),
    (("\nsize = 16", "\nsize = 18"), ["size 18", "divisible"]),
    (("[channel.perspective]", "[channel.perspektive]"), ["unknown key 'perspektive'"]),
])
def test_bad_values_are_named(tmp_path, edit, needles):
    path = write_tiny(tmp_path, TINY.replace(*edit), "bad")
    with pytest.raises(GlyphartError) as err:
        load_spec(path)
    message = str(err.value)
    assert str(path) in message and "\n" not in message
    for needle in needles:
        assert needle in message, message


def test_wrong_type_for_bool_and_list():
    with pytest.raises(GlyphartError, match="true or false"):
        spec_from_dict({"train": {"bf16": 1}})
    with pytest.raises(GlyphartError, match="list of numbers"):
        spec_from_dict({"model": {"widths": "64,32"}})


def test_color_jitter_needs_color(tmp_path):
    with pytest.raises(GlyphartError, match="channels = 3"):
        spec_from_dict({"channel": {"color_jitter": {}}})


# -- the same errors from the command line: one line, exit 2, no traceback ---------------------


def test_cli_bad_toml_syntax(tmp_path):
    path = write_tiny(tmp_path, TINY.replace("[model]", "[model"), "broken")
    assert_one_line_error(run_cli("eval", str(path)), str(path), "invalid TOML")


def test_cli_unknown_key(tmp_path):
    path = write_tiny(tmp_path, TINY.replace("lr = 0.003", "learning_rate = 0.003"), "unk")
    assert_one_line_error(run_cli("train", str(path)), "unknown key 'learning_rate'")


def test_cli_wrong_type(tmp_path):
    path = write_tiny(tmp_path, TINY.replace("steps = 40", "steps = 4.5"), "typ")
    assert_one_line_error(run_cli("train", str(path)), "[train] steps", "an integer")


def test_cli_out_of_range(tmp_path):
    path = write_tiny(tmp_path, TINY.replace("p = 0.5", "p = 1.5", 1), "rng")
    assert_one_line_error(run_cli("eval", str(path)), "[channel.affine] p", "between 0.0 and 1.0")


def test_cli_missing_weights(tmp_path):
    path = write_tiny(tmp_path)
    assert_one_line_error(run_cli("render", "--preset", str(path)), "no trained weights",
                          "glyphart train")


def test_cli_truncated_weights(tmp_path, trained_tiny):
    path = write_tiny(tmp_path)
    data = trained_tiny.with_suffix(".safetensors").read_bytes()
    path.with_suffix(".safetensors").write_bytes(data[: len(data) // 2])
    assert_one_line_error(run_cli("eval", str(path)), "damaged or truncated", "retrain")


def test_cli_unknown_preset():
    assert_one_line_error(run_cli("eval", "no-such-preset"), "unknown preset 'no-such-preset'",
                          "available")
