"""Seeds, messages and looping paths."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from glyphart.errors import GlyphartError
from glyphart.latent import cubic, lerp, loop_path, messages, parse_seeds, slerp


def test_seed_list_syntax():
    assert parse_seeds("0-3,42,100-101") == [0, 1, 2, 3, 42, 100, 101]
    assert parse_seeds(" 7 ") == [7]


@pytest.mark.parametrize("bad", ["", "a", "3-1", "-4", "1,,2", "1.5", "0-2-4"])
def test_bad_seed_lists_are_refused(bad):
    with pytest.raises(GlyphartError, match="seed"):
        parse_seeds(bad)


def test_message_is_the_seeded_gaussian():
    expected = torch.randn(32, generator=torch.Generator().manual_seed(42))
    assert torch.equal(messages(32, [42])[0], expected)


def test_messages_identical_across_processes():
    code = ("import torch, glyphart.latent as l; "
            "print(l.messages(64, '0-3,99').sum(1).tolist())")
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True).stdout for _ in range(2)}
    here = str(messages(64, "0-3,99").sum(1).tolist())
    assert outs == {here + "\n"}


@pytest.mark.parametrize("fn", [lerp, slerp, cubic])
def test_paths_pass_through_keys_and_close(fn):
    keys = torch.randn(4, 8)
    for i in range(4):
        assert torch.allclose(fn(keys, i / 4), keys[i], atol=1e-5)
    assert torch.allclose(fn(keys, 1.0), keys[0], atol=1e-5)


def test_loop_never_repeats_first_frame_and_steps_evenly():
    keys = torch.randn(3, 16)
    frames = list(loop_path(keys, 30, "cubic"))
    assert len(frames) == 30
    steps = [float((frames[(i + 1) % 30] - frames[i]).norm()) for i in range(30)]
    assert steps[-1] > 0  # last frame is not frame 0
    median = sorted(steps)[15]
    assert 0.5 * median < steps[-1] < 2 * median


def test_slerp_keeps_norm_between_keys():
    keys = torch.randn(2, 512)
    mid = slerp(keys, 0.25)  # halfway between key 0 and key 1
    assert abs(float(mid.norm()) - float(keys.norm(dim=1).mean())) < 0.05 * float(keys[0].norm())
    assert float(lerp(keys, 0.25).norm()) < float(mid.norm())
