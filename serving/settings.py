"""Service settings from the environment (``STANCE_`` prefix) or ``stance serve`` flags.

The API key comes from ``STANCE_API_KEY`` or a file named by ``STANCE_API_KEY_FILE`` /
``--api-key-file``, never from a command-line argument (visible in ``ps``). ``stance serve`` removes
``STANCE_API_KEY`` from its own environment once read, so no child process inherits it.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from stance.options import Precision


class ServiceSettings(BaseSettings):
    """Every field can be set as ``STANCE_<NAME>`` (``STANCE_MODEL_PATH``, ``STANCE_API_KEY``)."""

    model_config = SettingsConfigDict(env_prefix="STANCE_", extra="ignore")

    model_path: str = "models/default"
    allow_unverified: bool = False
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    workers: int = Field(1, ge=1, le=64)
    api_key: SecretStr | None = None
    api_key_file: Path | None = None
    int8: bool = False
    precision: Precision = Precision.auto
    num_threads: int = Field(0, ge=0, le=256)
    batching: bool = True
    max_batch_size: int = Field(64, ge=1, le=4096)
    max_wait_ms: float = Field(5.0, ge=0, le=1000)
    max_queue: int = Field(4096, ge=1)
    max_body_bytes: int = Field(2_000_000, ge=1024)
    max_text_chars: int = Field(200_000, ge=1)
    max_quote_chars: int = Field(10_000, ge=1)
    # a /v1/stance item's context is the quote's paragraph: /v1/analyze sends at most 600
    # characters and the model reads 128 tokens in all; 2,000 takes a long paragraph whole and
    # bounds what one item costs to tokenise on the model thread every client shares
    max_context_chars: int = Field(2_000, ge=1)
    max_items: int = Field(256, ge=1)
    max_topics: int = Field(16, ge=1)
    # 32 levels is deeper than any request schema here (3) with room for clients' own wrappers
    max_json_depth: int = Field(32, ge=4, le=512)
    retry_after_s: int = Field(1, ge=1)
    # 10 s: a 200,000-character article takes about 1 s with the linear splitter; 10x headroom
    request_timeout_s: float = Field(10.0, gt=0, le=3600)
    # 2 processes for quote extraction: one slow text cannot take every worker on a 2-core box
    text_workers: int = Field(2, ge=1, le=64)
    max_text_queue: int = Field(64, ge=1)
    # added to the text workers' nice value: under CPU pressure stance and /health go first, and a
    # hostile text slows other texts only (10: a busy worker then gets about a tenth of a core)
    text_worker_nice: int = Field(10, ge=0, le=19)
    # requests in flight on /v1/*; past it 429 (ops endpoints are never limited)
    max_concurrency: int = Field(256, ge=1)
    # open sockets per process; past it a request gets a JSON 503 and its socket is closed
    max_connections: int = Field(2048, ge=1)
    # open sockets from one client address: a browser opens 6, a pooled client a few dozen; past it 429
    max_connections_per_client: int = Field(64, ge=1)
    # a request's headers arrive in milliseconds; a socket silent or trickling for 10 s is a slowloris
    header_timeout_s: float = Field(10.0, gt=0, le=600)
    # 32 KB: nginx's default for all headers (4 x 8 KB); a key and cookies need a few hundred bytes
    max_header_bytes: int = Field(32_768, ge=1024, le=1_048_576)
    # an idle kept-alive socket is closed after this long
    keep_alive_s: float = Field(5.0, gt=0, le=600)
    # a client has this long to send its whole body (slowloris bodies are dropped with 408)
    body_timeout_s: float = Field(10.0, gt=0, le=600)
    # the SQLite file the page's corrections go to (POST /v1/labels); made on the first label
    labels_db: Path = Path("labels.sqlite3")

    @model_validator(mode="after")
    def _read_key_file(self) -> ServiceSettings:
        if self.api_key is None and self.api_key_file is not None:
            try:
                key = self.api_key_file.read_text(encoding="utf-8").strip()
            except OSError as err:
                raise ValueError(f"api_key_file {self.api_key_file}: {err.strerror}") from None
            if not key:
                raise ValueError(f"api_key_file {self.api_key_file} is empty")
            self.api_key = SecretStr(key)
        return self

    def key(self) -> str | None:
        """The API key in clear, or None when the API is open."""
        return self.api_key.get_secret_value() if self.api_key else None
