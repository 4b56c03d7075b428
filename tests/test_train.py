"""Training: learning happens, gradients flow through the whole channel, weights round-trip,
and an interrupted run resumes from its checkpoint."""

from __future__ import annotations

import json
import math
import signal
import subprocess
import sys
import time

import pytest
import torch

from conftest import TINY, assert_one_line_error, run_cli, write_tiny
from glyphart.channel import REFERENCE_CHANNEL, build_channel
from glyphart.errors import GlyphartError
from glyphart.models import build_models
from glyphart.presets import load_preset, load_weights
from glyphart.spec import load_spec, spec_from_dict
from glyphart.train import checkpoint_path, train


def test_loss_falls_well_below_start(tmp_path):
    path = write_tiny(tmp_path, TINY.replace("steps = 40", "steps = 120"))
    record = train(load_spec(path), path, quiet=True, eval_messages=1024)
    assert record["steps"] == 120
    assert record["loss_final"] < 0.7 * record["loss_first"], record
    assert record["metrics"]["bits_per_glyph"] > 1.0
    assert path.with_suffix(".safetensors").is_file()
    saved = json.loads(path.with_suffix(".json").read_text())
    assert saved["metrics"] == record["metrics"] and saved["versions"]["torch"]
    assert not checkpoint_path(path).exists()  # a finished run leaves no checkpoint behind


def test_a_monitor_takes_no_time_from_the_training_budget(tmp_path):
    """Benchmarks measure as a run goes; a slow monitor must not shorten or hurry the run it
    watches (the budget and the schedule run on the training's own clock)."""
    path = write_tiny(tmp_path, TINY.replace("steps = 40", "steps = 100000"))

    def slow_monitor(step, gen, dec):
        if step < 6:  # 3 s of monitoring in all: more than the whole 1 s budget
            time.sleep(0.5)
        return False

    record = train(load_spec(path), path, minutes=1 / 60, quiet=True, evaluate_after=False,
                   monitor=slow_monitor)
    assert record["stopped_by"] == "minutes"
    # The first steps' 0.5 s of monitoring would have ended a clock counting it after 2 steps.
    assert record["steps"] >= 6, record["steps"]
    # The record keeps minutes to 0.01 (0.6 s); a loaded machine may finish the last step late.
    assert 0.6 <= record["wall_minutes"] * 60 <= 3.0, record["wall_minutes"]


def test_bits_loss_with_margin_and_logit_noise_learns(tmp_path):
    """The gray recipe's options: the bits objective, an edge margin and logit noise."""
    text = TINY.replace("steps = 40", "steps = 120\nloss = \"bits\"\nlogit_noise = 1.0")
    text = text.replace("decoder_widths = [8, 16]", "decoder_widths = [8, 16]\nedge_margin = 0.1")
    path = write_tiny(tmp_path, text)
    record = train(load_spec(path), path, quiet=True, eval_messages=1024)
    assert record["loss_final"] < record["loss_first"] - 0.2, record  # log-error per dimension
    assert record["metrics"]["bits_per_glyph"] > 1.0
    from glyphart.presets import load_preset
    import torch
    with torch.no_grad():
        images = load_preset(path).generator(torch.randn(8, 16))
    # The margin fades every border pixel to background.
    assert float(images[..., 0, :].max()) < 0.01 and float(images[..., :, -1].max()) < 0.01


ALL_TRANSFORMS = {
    "color_jitter": {}, "blur": {"p": 1.0}, "multiplicative": {}, "noise": {},
    "affine": {"p": 1.0}, "perspective": {"p": 1.0}, "warp": {"p": 1.0}, "crop": {"p": 1.0},
}


@pytest.mark.parametrize("name", sorted(ALL_TRANSFORMS))
def test_gradients_reach_generator_through_each_transformation(name):
    spec = spec_from_dict({"model": {"channels": 3, "inks": 3, "size": 16, "message_size": 8,
                                     "widths": [16, 8, 8], "decoder_widths": [8, 8]},
                           "channel": {name: ALL_TRANSFORMS[name]}})
    torch.manual_seed(0)
    gen, dec = build_models(spec.model)
    channel = build_channel(spec.channel, 16)
    assert len(channel) == 1
    z = torch.randn(4, 8)
    image = gen(z)
    image.retain_grad()
    dec(channel(image)).square().sum().backward()
    assert image.grad is not None and image.grad.abs().sum() > 0, name
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in gen.parameters())
    assert gen.project.weight.grad.abs().sum() > 0, name


def test_save_load_round_trip_gives_identical_outputs(trained_tiny):
    a = load_preset(str(trained_tiny))
    b = load_preset(str(trained_tiny))
    z = torch.randn(5, a.spec.model.message_size)
    with torch.no_grad():
        assert torch.equal(a.generator(z), b.generator(z))
        assert torch.equal(a.decoder(a.generator(z)), b.decoder(b.generator(z)))
    assert not a.generator.training and not a.decoder.training


def test_weights_of_another_model_are_refused(tmp_path, trained_tiny):
    wider = write_tiny(tmp_path, TINY.replace("[32, 16, 8]", "[48, 16, 8]"), "wider")
    weights = trained_tiny.with_suffix(".safetensors").read_bytes()
    wider.with_suffix(".safetensors").write_bytes(weights)
    spec = load_spec(wider)
    gen, dec = build_models(spec.model)
    with pytest.raises(GlyphartError, match="different \\[model\\] table.*retrain"):
        load_weights(wider.with_suffix(".safetensors"), spec, gen, dec)
    assert_one_line_error(run_cli("eval", str(wider)), "different [model] table", "glyphart train")


def test_sigkill_then_resume_finishes(tmp_path):
    path = write_tiny(tmp_path, TINY.replace("steps = 40", "steps = 100000"))
    ckpt = checkpoint_path(path)
    proc = subprocess.Popen([sys.executable, "-m", "glyphart", "train", str(path), "-q"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 120
        while not ckpt.exists() and time.time() < deadline:
            time.sleep(0.2)
        assert ckpt.exists(), "no checkpoint was written"
        time.sleep(1.5)  # let it write a few more
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    from safetensors import safe_open
    with safe_open(str(ckpt), framework="pt") as f:
        saved_step = int(f.metadata()["step"])
    assert saved_step > 0
    # Resume with a step budget a little past the checkpoint: it must start from there.
    target = saved_step + 15
    done = run_cli("train", str(path), "--resume", "--steps", str(target), "-q")
    assert done.returncode == 0, done.stderr
    record = json.loads(path.with_suffix(".json").read_text())
    assert record["resumed_from_step"] == saved_step
    assert record["steps"] == target
    assert not ckpt.exists()
    load_preset(str(path))  # the result loads


def test_sigterm_saves_a_checkpoint_and_says_how_to_resume(tmp_path):
    path = write_tiny(tmp_path, TINY.replace("steps = 40", "steps = 100000").replace(
        "checkpoint_minutes = 0.01", "checkpoint_minutes = 100"))
    preview = tmp_path / "preview.png"  # written from the loop's first steps on
    proc = subprocess.Popen([sys.executable, "-m", "glyphart", "train", str(path), "-q",
                             "--preview", str(preview)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not preview.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)  # the interpreter and torch start, slowly on a loaded machine
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2, err
    assert "--resume" in err and "Traceback" not in err
    assert checkpoint_path(path).exists()
    # Starting over without --resume is refused rather than silently discarding the run.
    assert_one_line_error(run_cli("train", str(path)), "--resume")


def test_resume_without_checkpoint_is_an_error(tmp_path):
    path = write_tiny(tmp_path)
    assert_one_line_error(run_cli("train", str(path), "--resume"), "no checkpoint")


def test_channel_reports_where_it_moved_the_corners():
    """Unwarping through the channel's own corners puts a warped glyph back in place."""
    from dataclasses import replace
    from glyphart.models import Registration
    torch.manual_seed(0)
    channel = build_channel(replace(REFERENCE_CHANNEL, noise=None), 32)
    image = torch.nn.functional.avg_pool2d(torch.rand(16, 1, 32, 32), 5, 1, 2)
    warped = channel(image)
    corners = channel.moved_corners()
    assert corners.shape == (16, 4, 2)
    back = Registration(spec_from_dict({"model": {"size": 32}}).model, 32).unwarp(warped, corners)
    moved = (warped - image).abs().mean(dim=(1, 2, 3)) > 1e-3
    assert moved.any()
    # Only pixels pushed out of the frame are lost.
    assert (back - image).abs().mean() < 0.4 * (warped - image).abs().mean()


def test_the_channel_gives_kornias_images_and_gradients_exactly():
    """The channel's warps sample only the images each one chose; what comes out, its
    gradients and the moved corners are kornia's own, bit for bit, for the same seed."""
    import kornia.augmentation as K

    from glyphart.channel import Channel, GaussianNoise
    a = REFERENCE_CHANNEL.affine
    stock = Channel(GaussianNoise(0.25),
                    K.RandomAffine(a.degrees, [a.translate] * 2, a.scale, [-a.shear, a.shear],
                                   p=0.5),
                    K.RandomPerspective(REFERENCE_CHANNEL.perspective.distortion, p=0.5))
    ours = build_channel(REFERENCE_CHANNEL, 24)
    x = torch.rand(16, 1, 24, 24, requires_grad=True)
    for seed in range(3):
        outputs = []
        for channel in (stock, ours):
            torch.manual_seed(seed)
            image = channel(x)
            outputs.append((image, torch.autograd.grad((image * image).sum(), x)[0],
                            channel.moved_corners()))
        for theirs, mine in zip(*outputs):
            assert torch.equal(theirs, mine)


def test_registration_learns_where_the_corners_went(tmp_path):
    # 250 steps: the corners found err 0.28 of the frame's guess (150: 0.41; the bound 0.5).
    text = TINY.replace("steps = 40", "steps = 250")
    text = text.replace("[channel.affine]\np = 0.5", "[channel.affine]\np = 1.0")
    text = text.replace("\nsize = 16\n", "\nsize = 32\n").replace("widths = [32, 16, 8]",
                                                                  "widths = [32, 16, 8, 8]")
    text = text.replace("decoder_widths = [8, 16]", "decoder_widths = [8, 16]\nregister = true")
    path = write_tiny(tmp_path, text)
    record = train(load_spec(path), path, quiet=True, eval_messages=1024)
    preset = load_preset(path)
    torch.manual_seed(1)
    with torch.no_grad():
        received = preset.channel(preset.generator(torch.randn(256, 16)))
        _, found = preset.decoder.locate_and_read(received)
    moved = preset.channel.moved_corners()
    frame = preset.decoder.registration.frame
    guess_error = (frame - moved).pow(2).sum(-1).mean()
    assert (found - moved).pow(2).sum(-1).mean() < 0.5 * guess_error
    assert record["metrics"]["bits_per_glyph"] > 1.0


def test_a_drafted_generator_grows_from_a_preset_at_its_draft_size(trained_tiny):
    """init_from a 16 px preset into a 32 px generator with draft = 16: before any training it
    draws exactly the small preset's glyphs, enlarged, and its detail stages are all new."""
    from glyphart.train.checkpoint import init_from as _init_from
    small = load_preset(str(trained_tiny))
    text = trained_tiny.read_text().replace("\nsize = 16\n", "\nsize = 32\ndraft = 16\n")
    text = text.replace("widths = [32, 16, 8]", "widths = [32, 16, 8, 8]")
    big = spec_from_dict(__import__("tomllib").loads(text))
    gen, dec = build_models(big.model)
    copied = _init_from(str(trained_tiny), gen, dec)
    assert copied["tensors_copied"] < copied["tensors_total"]
    gen.eval()
    z = torch.randn(6, 16)
    with torch.no_grad():
        expected = torch.nn.functional.interpolate(small.generator.logits(z), size=32,
                                                   mode="bilinear", align_corners=False)
        assert torch.allclose(gen.logits(z), expected, atol=1e-5)


def test_a_step_that_is_not_finite_is_skipped_and_many_in_a_row_are_divergence(
        tmp_path, monkeypatch):
    """One step whose loss (or gradients) is not finite leaves the weights as they were and
    the run goes on, on record; MAX_SKIPPED in a row end it with a clear error."""
    from glyphart.train import step as step_module
    real = step_module.step_loss
    poisoned = {4}  # the steps (1-based) whose loss is NaN

    def step_loss(run, z, progress):
        if run.step + 1 in poisoned:  # NaN from the forward pass: the statistics see it too
            z = z * float("nan")
        return real(run, z, progress)

    monkeypatch.setattr(step_module, "step_loss", step_loss)
    path = write_tiny(tmp_path)
    record = train(load_spec(path), path, steps=8, quiet=True, eval_messages=0)
    assert record["steps"] == 8 and record["steps_skipped"] == 1
    assert math.isfinite(record["loss_final"])
    preset = load_preset(path)  # its weights and running statistics are all finite
    assert all(torch.isfinite(t).all() for t in preset.decoder.state_dict().values())
    poisoned.update(range(1, 100))
    with pytest.raises(GlyphartError, match="diverged at step 20 .*lower \\[train\\] lr"):
        train(load_spec(path), path, steps=40, quiet=True, eval_messages=0)


def test_warmup_raises_the_learning_rate_from_zero_then_it_decays():
    from glyphart.train.step import lr_factor
    assert lr_factor(0.0, 0.1, warmup=0.1) == 0.0
    assert lr_factor(0.05, 0.1, warmup=0.1) == pytest.approx(0.5 * lr_factor(0.05, 0.1))
    assert lr_factor(0.1, 0.1, warmup=0.1) == pytest.approx(lr_factor(0.1, 0.1))
    assert lr_factor(1.0, 0.1, warmup=0.1) == pytest.approx(0.1)
    assert lr_factor(0.0, 0.1) == 1.0  # no warmup: full lr from the first step
    with pytest.raises(GlyphartError, match="warmup"):
        spec_from_dict({"train": {"warmup": 0.9}})


def test_look_penalty_asks_for_saturated_glyphs_within_the_ink_budget():
    from glyphart.train.penalties import look_penalty as _look_penalty
    spec = spec_from_dict({"train": {"saturation": 0.5, "look_ramp": [0.2, 0.6],
                                     "ink": [0.2, 0.4]}}).train
    crisp = torch.zeros(2, 1, 8, 8)
    crisp[..., :3, :] = 1.0                                  # 3/8 ink, no grey
    grey = torch.full((2, 1, 8, 8), 0.3)                     # in budget, all grey
    black = torch.zeros(2, 1, 8, 8)                          # no grey, no ink
    assert float(_look_penalty(crisp, spec, 1.0)) == 0.0
    assert float(_look_penalty(grey, spec, 1.0)) > 0.2
    assert float(_look_penalty(grey, spec, 0.1)) == 0.0      # before the ramp starts
    assert 0 < float(_look_penalty(grey, spec, 0.4)) < float(_look_penalty(grey, spec, 1.0))
    assert float(_look_penalty(black, spec, 1.0)) == pytest.approx(0.2)  # under the budget
    with pytest.raises(GlyphartError, match="ink"):
        spec_from_dict({"train": {"ink": [0.5, 0.2]}})


def test_perimeter_penalty_prefers_few_bold_shapes_at_any_resolution():
    from glyphart.train.penalties import look_penalty as _look_penalty
    spec = spec_from_dict({"train": {"perimeter": 1.0, "look_ramp": [0.0, 0.0]}}).train
    blob = torch.zeros(1, 1, 64, 64)
    blob[..., 16:48, 16:40] = 1.0                            # one shape, 3/16 ink
    dots = torch.zeros(1, 1, 64, 64)
    for y in range(4, 64, 16):
        for x in range(4, 64, 16):
            dots[..., y:y + 8, x:x + 6] = 1.0                # 16 dots, the same ink
    assert float(dots.mean()) == float(blob.mean())
    assert float(_look_penalty(dots, spec, 1.0)) > 3 * float(_look_penalty(blob, spec, 1.0))
    big_blob = blob.repeat_interleave(4, -1).repeat_interleave(4, -2)  # the same glyph at 256 px
    assert float(_look_penalty(big_blob, spec, 1.0)) == pytest.approx(
        float(_look_penalty(blob, spec, 1.0)), rel=0.05)


def test_bits_target_stops_rewarding_information_beyond_it():
    from glyphart.train.penalties import read_back_loss as _loss
    sent = torch.randn(512, 32)
    perfect, good = sent.clone(), sent + 0.1 * torch.randn(512, 32)
    assert float(_loss(perfect, sent, "bits")) < float(_loss(good, sent, "bits"))
    # 32 bits over 32 numbers: each may earn 1 bit (error 1/4); both readings are past it.
    capped = [float(_loss(r, sent, "bits", bits_target=32.0)) for r in (perfect, good)]
    assert capped[0] == capped[1] == pytest.approx(0.5 * math.log(0.25))


def test_ink_budget_holds_for_every_colour_channel():
    from glyphart.train.penalties import look_penalty as _look_penalty
    spec = spec_from_dict({"train": {"ink": [0.25, 0.45]}}).train
    balanced = torch.zeros(1, 3, 8, 8)
    for c in range(3):
        balanced[:, c, c:c + 3] = 1.0                        # 3/8 of each channel
    one_colour = torch.zeros(1, 3, 8, 8)
    one_colour[:, 0, :, :] = 1.0                             # mean over channels 1/3, blue idle
    assert float(_look_penalty(balanced, spec, 1.0)) == 0.0
    assert float(_look_penalty(one_colour, spec, 1.0)) > 0.2


def test_a_pooling_decoder_meets_the_channel_at_full_resolution(tmp_path):
    """Training and the own-channel metric run the channel before the decoder's pool, as the
    reference channel does: a preset trained through the reference channel reads the same
    under both (warping a pooled view instead would smooth away part of the noise)."""
    text = TINY.replace("decoder_widths = [8, 16]", "decoder_widths = [8, 16]\ndecoder_pool = 2")
    path = write_tiny(tmp_path, text)
    assert load_spec(path).channel == REFERENCE_CHANNEL  # TINY's channel is the reference one
    record = train(load_spec(path), path, quiet=True, eval_messages=1024)
    assert record["metrics"]["bits_per_glyph"] > 1.0
    from glyphart.channel import reference_channel
    from glyphart.metrics import read_back
    preset = load_preset(path)
    reference = reference_channel(16)
    with torch.no_grad():  # eval reads one of these for both: they must be the same
        own = read_back(preset.send, 256, 16)
        through_reference = read_back(
            lambda z: preset.decoder(reference(preset.picture(z))), 256, 16)
    assert torch.equal(own[1], through_reference[1])


def test_the_pooled_channel_gives_the_noise_eval_gives_after_its_pool():
    """[train] reader_until runs the channel on the pooled view: its noise, scaled to
    it, is as strong there as the full-size channel's after the decoder's pool (the mean of
    16 pixels: unscaled it would be 4x too strong)."""
    from torch import nn

    from glyphart.channel import pooled_spec
    torch.manual_seed(0)
    flat = torch.full((64, 1, 128, 128), 0.5)
    centre = (slice(None), slice(None), slice(8, 24), slice(8, 24))  # inside every warp
    full = nn.AvgPool2d(4)(build_channel(REFERENCE_CHANNEL, 128)(flat))[centre].std()
    pooled = build_channel(pooled_spec(REFERENCE_CHANNEL, 4), 32)(flat[..., :32, :32])
    assert 0.85 < float(pooled[centre].std() / full) < 1.15
    blur = spec_from_dict({"channel": {"blur": {"sigma": [0.4, 2.0]}}}).channel
    assert pooled_spec(blur, 4).blur.sigma == [0.1, 0.5]


def test_reader_until_draws_small_first_then_as_eval_reads(tmp_path):
    """[train] reader_until: the first part of the run draws the glyphs at the decoder's size
    (size / decoder_pool) and runs the channel there, the rest at full size as eval reads
    them; the preset trains and reads back under eval's channel. It needs a pooling decoder
    and a strokes generator."""
    from conftest import tiny_four_strokes
    from glyphart.train.run import set_up
    from glyphart.train.step import step_loss
    text = tiny_four_strokes("decoder_pool = 2", steps=150).replace(
        "[train]", "[train]\nreader_until = 0.8").replace("lr = 0.003", "lr = 0.01")
    path = write_tiny(tmp_path, text)
    run = set_up(load_spec(path), path, False, "cpu")
    seen = []
    for channel in (run.channel, run.reader_channel):
        channel.register_forward_hook(lambda module, args, out: seen.append(out.shape[-1]))
    for progress in (0.0, 0.79, 0.8, 1.0):
        step_loss(run, torch.randn(5, 16), progress)
    assert seen == [8, 8, 16, 16]
    record = train(load_spec(path), path, quiet=True, eval_messages=1024)
    assert record["loss_final"] < record["loss_first"]
    assert record["metrics"]["bits_per_glyph"] > 1.0  # eval: the channel at 16 px, then pooled
    with pytest.raises(GlyphartError, match="decoder_pool"):
        spec_from_dict({"model": {"generator": "strokes"}, "train": {"reader_until": 0.5}})
    with pytest.raises(GlyphartError, match="reader_until acts on strokes"):
        spec_from_dict({"model": {"decoder_pool": 2}, "train": {"reader_until": 0.5}})


def test_the_layout_penalty_sees_each_ink_keep_a_home():
    """Two inks that always take the same halves (one left, one right) flatten the mean of
    the union, but every glyph is one composition: penalised per ink, they cost more than
    inks that change sides from glyph to glyph."""
    from glyphart.train.penalties import look_penalty as _look_penalty
    spec = spec_from_dict({"train": {"layout": 1.0}}).train
    homes = torch.zeros(8, 2, 8, 8)
    homes[:, 0, :, :4] = 1.0
    homes[:, 1, :, 4:] = 1.0
    varied = homes.clone()
    varied[::2] = varied[::2].flip(-1)  # every other glyph swaps sides
    assert float(_look_penalty(homes, spec, 1.0)) > 0.9
    assert float(_look_penalty(varied, spec, 1.0)) < 0.1


def test_the_composition_penalty_is_what_eval_measures_and_its_gradient_varies_glyphs():
    """On crisp glyphs the penalty is 1 - eval's composition, for the ink of all layers
    together; a few steps down its gradient make one motif, redrawn, into varied glyphs."""
    from glyphart.metrics import composition, ink_masks
    from glyphart.train.penalties import look_penalty as _look_penalty
    spec = spec_from_dict({"train": {"composition": 1.0}}).train
    motif = torch.zeros(8, 2, 32, 32)
    motif[:, 0, 4:14, 4:28] = 1.0       # a bar across the top in one ink,
    motif[:, 1, 14:28, 4:12] = 1.0      # a post on the left in the other: in every glyph
    penalty = float(_look_penalty(motif, spec, 1.0))
    assert penalty == pytest.approx(1 - composition(ink_masks(motif)), abs=1e-6)
    assert penalty > 0.99
    varied = motif.clone()
    varied[::2] = varied[::2].flip(-1)  # every other glyph mirrored
    big = varied.repeat_interleave(8, -1).repeat_interleave(8, -2)  # the same at 256 px
    assert float(_look_penalty(big, spec, 1.0)) == pytest.approx(
        1 - composition(ink_masks(big)), abs=0.01)  # measured on 64 px, a blur's worth alike
    logits = (8 * motif - 4 + 0.5 * torch.randn(8, 2, 32, 32)).requires_grad_()
    optimiser = torch.optim.Adam([logits], lr=0.5)
    for _ in range(30):
        optimiser.zero_grad()
        _look_penalty(torch.sigmoid(logits), spec, 1.0).backward()
        optimiser.step()
    assert composition(ink_masks(torch.sigmoid(logits))) > 0.5


def test_eval_messages_zero_skips_the_evaluation_and_the_record_says_so(tmp_path):
    from glyphart.spec import load_spec
    from glyphart.train import train
    path = write_tiny(tmp_path)
    record = train(load_spec(path), path, steps=2, quiet=True, eval_messages=0)
    assert "metrics" not in record and "skipped" in record["metrics_skipped"]
    assert record["precision"] in ("fp32", "bf16")
