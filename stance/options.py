"""Closed sets of choices shared by the library, the command line and the service."""

from __future__ import annotations

from enum import StrEnum


class Precision(StrEnum):
    """Inference precision: ``fp32`` exact; ``bf16`` autocast (fast with AMX/AVX512-BF16);
    ``auto`` picks bf16 where the CPU runs it natively, else fp32."""

    fp32 = "fp32"
    bf16 = "bf16"
    auto = "auto"
