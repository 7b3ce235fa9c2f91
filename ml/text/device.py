"""Where the model runs and at what precision, chosen once per run.

CUDA when present: bf16 autocast when the GPU supports it (no loss scaling needed), else fp16 autocast with a
GradScaler; TF32 matmuls for whatever stays in fp32. CPU: fp32 (bf16 autocast on CPU is slower than fp32 on most
server CPUs without AMX) with the thread count set to the cores this process may use, since torch's default
can exceed what a container or a shared machine grants.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass

import torch


@dataclass
class DeviceSettings:
    device: torch.device
    precision: str  # fp32, bf16 or fp16
    num_threads: int | None  # CPU threads set for the run (None on CUDA)

    @property
    def autocast_dtype(self) -> torch.dtype | None:
        return {"bf16": torch.bfloat16, "fp16": torch.float16}.get(self.precision)

    @property
    def needs_grad_scaler(self) -> bool:
        return self.precision == "fp16"

    def autocast(self):
        """Mixed-precision context for forward passes (a no-op in fp32)."""
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.autocast_dtype)

    def describe(self) -> dict:
        info = {"device": str(self.device), "precision": self.precision, "num_threads": self.num_threads}
        if self.device.type == "cuda":
            info["gpu"] = torch.cuda.get_device_name(self.device)
        return info


def available_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def resolve_device(device: str = "auto", precision: str = "auto", num_threads: int = 0) -> DeviceSettings:
    """Pick the device and precision, and on CPU the thread count (num_threads 0: the available cores); the
    thread count is applied by `torch_threads`."""
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    target = torch.device(device)
    if target.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' requested but torch sees no CUDA GPU (or this torch build is CPU-only)")
    if target.type == "cuda":
        if precision == "auto":
            precision = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        torch.set_float32_matmul_precision("high")  # TF32 for the matmuls autocast leaves in fp32
        return DeviceSettings(target, precision, None)
    if precision == "auto":
        precision = "fp32"
    if precision == "fp16":
        raise ValueError("fp16 autocast is for CUDA; use fp32 or bf16 on CPU")
    return DeviceSettings(target, precision, num_threads or available_cores())


@contextlib.contextmanager
def torch_threads(settings: DeviceSettings):
    """Run with the settings' CPU thread count, restoring torch's afterwards (training or scoring inside a
    long-lived process, e.g. a Dagster worker, must not change its other work's threads)."""
    before = torch.get_num_threads()
    if settings.num_threads is not None and settings.num_threads != before:
        torch.set_num_threads(settings.num_threads)
    try:
        yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)
