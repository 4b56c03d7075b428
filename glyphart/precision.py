"""Which precision a training runs in, chosen by what the machine computes natively.

bf16 autocast pays only where the hardware has bf16 arithmetic: on CPUs with AVX512_BF16 or
AMX (Zen 4, Sapphire Rapids) it trained convolutional presets 1.5-1.8x faster with the same loss
curve (DESIGN.md); on an AVX2-only CPU torch emulates it with conversions, which only costs
time. So [train] bf16 = true means "bf16 where native", and everything else runs in fp32.
"""

from __future__ import annotations

import torch

NATIVE_BF16 = ("AVX512_BF16", "AMX_BF16", "AMX")  # capability names that compute bf16 natively


def native_bf16(device: torch.device | str = "cpu") -> bool:
    """True where bf16 arithmetic is native: CUDA, or a CPU whose flags (Linux) or torch's
    capability name say AVX512_BF16 / AMX. oneDNN's own `_is_mkldnn_bf16_supported` is only
    asked where neither answers: it also says yes on AVX-512 CPUs that emulate bf16."""
    if torch.device(device).type == "cuda":
        return True
    capability = torch.backends.cpu.get_cpu_capability().upper()
    if any(name in capability for name in NATIVE_BF16):
        return True
    flags = cpu_flags()
    if flags:
        return bool(flags & {"avx512_bf16", "amx_bf16"})
    if capability == "AVX2" or capability.startswith("DEFAULT"):
        return False
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def cpu_flags() -> set[str]:
    """The CPU's feature flags from /proc/cpuinfo (empty where there is none)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def training_precision(bf16_setting: bool, device: torch.device | str = "cpu") -> str:
    """"bf16" or "fp32": the [train] bf16 setting, where the machine has it natively."""
    return "bf16" if bf16_setting and native_bf16(device) else "fp32"


def autocast(precision: str, device: torch.device | str = "cpu"):
    return torch.autocast(torch.device(device).type, dtype=torch.bfloat16,
                          enabled=precision == "bf16")
