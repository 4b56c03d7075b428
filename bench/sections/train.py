"""`train`: per preset, the model part of a training step and the full step; the CPU options
side by side."""

from __future__ import annotations


from measure import report, train_step, seconds_per_step


def bench_train(peak: float) -> None:
    """The model part of a training step (generator + decoder, forward + backward, optimizer)
    and the full step with the channel, per preset, at the preset's own settings; then the
    CPU options torch offers, side by side on gray and hd-color."""
    from glyphart.presets import BUILTIN_NAMES, find
    from glyphart.spec import load_spec

    for name in BUILTIN_NAMES:
        spec = load_spec(find(name).toml)
        step, flops = train_step(spec)
        batch = spec.train.batch
        dt = seconds_per_step(step, with_channel=False)
        achieved = flops / dt / 1e9
        target = name in ("gray", "hd-color")
        report("train", f"{name}: model part", achieved, "GFLOP/s",
               ">=60% peak" if target else "", achieved / peak >= 0.6 if target else None,
               f"{100 * achieved / peak:.0f}% of peak, {batch / dt:.0f} img/s")
        dt = seconds_per_step(step, with_channel=True)
        report("train", f"{name}: full step (batch {batch})", batch / dt, "img/s")

    import torch
    threads = torch.get_num_threads()
    for name in ("gray", "hd-color"):
        spec = load_spec(find(name).toml)
        for label, options, n_threads in (
                ("fp32", {"bf16": False}, threads),
                ("bf16, standard layout", {"bf16": True, "channels_last": False}, threads),
                ("bf16 + channels_last (train.py)", {"bf16": True}, threads),
                ("bf16 + channels_last, 1 thread", {"bf16": True}, 1),
                ("bf16 + channels_last + torch.compile", {"bf16": True, "compiled": True},
                 threads)):
            torch.set_num_threads(n_threads)
            try:
                step, _ = train_step(spec, **options)
                dt = seconds_per_step(step, with_channel=True)
            except Exception as e:  # noqa: BLE001 - e.g. no C++ compiler for inductor
                report("options", f"{name}: {label}", 0, "img/s", note=f"failed: {e!r:.60}")
                continue
            finally:
                torch.set_num_threads(threads)
            report("options", f"{name}: full step, {label}", spec.train.batch / dt, "img/s")
