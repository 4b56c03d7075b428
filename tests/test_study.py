"""The studies run end to end on tiny settings and give sane numbers and real figures."""

from __future__ import annotations

import json
import sys

import pytest

from conftest import assert_one_line_error, run_cli

pytest.importorskip("sklearn")
pytest.importorskip("matplotlib")


def _png_metadata(path):
    from glyphart.render.writers.png import read_metadata
    assert path.stat().st_size > 1000
    return read_metadata(path)


def test_reconstruct_quick(trained_tiny, tmp_path):
    from glyphart.study import run_study
    result = run_study("reconstruct", preset=str(trained_tiny), out=tmp_path, quick=True,
                       quiet=True)
    saved = json.loads((tmp_path / "reconstruct.json").read_text())
    assert saved == result
    for key in ("agreement_trained", "agreement_random_mean", "agreement_inputs"):
        assert 0.0 <= result[key] <= 1.0
    # Raw digits are far easier to classify by nearest neighbour than chance.
    assert result["agreement_inputs"] > 0.5
    assert _png_metadata(tmp_path / "reconstruct.png")["study"] == "reconstruct"


def test_probe_quick_freezes_for_real(trained_tiny, tmp_path):
    from glyphart.study import run_study
    result = run_study("probe", preset=str(trained_tiny), out=tmp_path, quick=True, quiet=True)
    configs = result["configs"]
    assert set(configs) == {"pretrained frozen", "pretrained trainable", "random frozen",
                            "random trainable"}
    for key, c in configs.items():
        assert len(c["curve_mean"]) == result["epochs"]
        assert all(0.0 <= v <= 1.0 for v in c["curve_mean"])
        if "frozen" in key:
            assert c["decoder_changed_max"] == 0.0, key
        else:
            assert c["decoder_changed_max"] > 0.0, key
    assert _png_metadata(tmp_path / "probe.png")["study"] == "probe"


def test_invert_quick(trained_tiny, tmp_path):
    from glyphart.study import run_study
    result = run_study("invert", preset=str(trained_tiny), out=tmp_path, quick=True, quiet=True)
    assert len(result["mse_trained"]) == result["targets"] == 4
    # Optimising the message beats drawing nothing at all.
    assert 0.0 < result["mse_trained_mean"] < result["mse_blank"]
    assert 0.0 < result["mse_random_mean"]
    assert (tmp_path / "invert.png").is_file()


def test_sweep_quick_trains_each_size(trained_tiny, tmp_path):
    from glyphart.study import run_study
    result = run_study("sweep", preset=str(trained_tiny), out=tmp_path, quick=True, quiet=True,
                       minutes=0.1)
    sizes = [r["message_size"] for r in result["runs"]]
    assert sizes == [8, 32]
    for r in result["runs"]:
        assert r["steps"] > 0
        assert r["bits_reference"] >= 0.0
        assert 0.0 <= r["high_frequency_fraction"] <= 1.0
        assert (tmp_path / "sheets" / f"tiny-{r['message_size']}.png").is_file()
    assert (tmp_path / "sweep.png").is_file()
    assert (tmp_path / "sweep-tiny.png").is_file()  # glyphs per message size, one row each
    assert json.loads((tmp_path / "sweep.json").read_text())["runs"] == result["runs"]


def test_study_cli_quick_and_errors(trained_tiny, tmp_path):
    proc = run_cli("study", "reconstruct", "--preset", str(trained_tiny), "--out",
                   str(tmp_path / "r"), "--quick", "-q", check_ok=True)
    assert (tmp_path / "r" / "reconstruct.json").is_file(), proc.stderr
    assert_one_line_error(run_cli("study", "probe", "--minutes", "3"), "--minutes", "sweep")
    assert_one_line_error(run_cli("study", "probe", "--preset", "no-such-preset"),
                          "unknown preset")


def test_missing_study_extra_says_how_to_install(monkeypatch, tmp_path):
    from glyphart.errors import GlyphartError
    from glyphart.study import run_study
    monkeypatch.setitem(sys.modules, "sklearn", None)
    with pytest.raises(GlyphartError, match=r'pip install -c constraints.txt "\.\[study\]"'):
        run_study("probe", out=tmp_path, quick=True, quiet=True)
