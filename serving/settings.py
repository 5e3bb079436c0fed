"""Service settings from the environment (``STANCE_`` prefix) or ``stance serve`` flags."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Every field can be set as ``STANCE_<NAME>`` (``STANCE_MODEL_PATH``, ``STANCE_API_KEY``)."""

    model_config = SettingsConfigDict(env_prefix="STANCE_", extra="ignore")

    model_path: str = "models/default"
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    workers: int = Field(1, ge=1, le=64)
    api_key: str | None = None
    int8: bool = False
    precision: Literal["fp32", "bf16", "auto"] = "auto"
    num_threads: int = Field(0, ge=0, le=256)
    batching: bool = True
    max_batch_size: int = Field(64, ge=1, le=4096)
    max_wait_ms: float = Field(5.0, ge=0, le=1000)
    max_queue: int = Field(4096, ge=1)
    max_body_bytes: int = Field(2_000_000, ge=1024)
    max_text_chars: int = Field(200_000, ge=1)
    max_quote_chars: int = Field(10_000, ge=1)
    max_items: int = Field(256, ge=1)
    max_topics: int = Field(16, ge=1)
    retry_after_s: int = Field(1, ge=1)
