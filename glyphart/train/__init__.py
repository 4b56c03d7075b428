"""Training: fresh random messages, generator -> channel -> decoder, read-back loss.

`train()` (loop.py) reads as a page over its parts: run.py (set-up, clocks), step.py and
penalties.py (one step), checkpoint.py (checkpoints: safetensors + JSON metadata, nothing
pickled, written atomically every few minutes and on Ctrl-C / SIGTERM; `resume=True` continues
with optimizer and RNG state), video.py (the training video) and record.py (NAME.json).
"""

from .checkpoint import CHECKPOINT_FORMAT, checkpoint_path
from .loop import train
from .run import resolve_device

__all__ = ["CHECKPOINT_FORMAT", "checkpoint_path", "resolve_device", "train"]
