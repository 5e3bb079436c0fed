"""Prometheus metrics; with several worker processes they are merged through
``PROMETHEUS_MULTIPROC_DIR`` so /metrics counts every worker's requests."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)


class Metrics:
    def __init__(self) -> None:
        self.multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        # a private registry per app keeps tests (many apps per process) independent
        self.registry = None if self.multiprocess else CollectorRegistry()
        kwargs: dict[str, Any] = {} if self.multiprocess else {"registry": self.registry}
        self.requests = Counter(
            "stance_requests_total", "HTTP requests", ["path", "method", "status"], **kwargs
        )
        self.latency = Histogram(
            "stance_request_latency_seconds",
            "HTTP request latency",
            ["path"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            **kwargs,
        )
        self.batch_size = Histogram(
            "stance_batch_size",
            "items per model forward pass",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
            **kwargs,
        )
        self.batch_seconds = Histogram("stance_batch_seconds", "seconds per model batch", **kwargs)
        self.predictions = Counter("stance_predictions_total", "predictions by label", ["label"], **kwargs)
        self.text_jobs = Counter(
            "stance_text_jobs_total",
            "quote-extraction jobs in worker processes by outcome (ok, error, timeout, cancelled, lost)",
            ["outcome"],
            **kwargs,
        )

    def observe_request(self, path: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(path, method, str(status)).inc()
        self.latency.labels(path).observe(seconds)

    def observe_batch(self, size: int, seconds: float) -> None:
        self.batch_size.observe(size)
        self.batch_seconds.observe(seconds)

    def observe_predictions(self, labels: Iterable[str]) -> None:
        for label in labels:
            self.predictions.labels(label).inc()

    def observe_text_job(self, outcome: str) -> None:
        self.text_jobs.labels(outcome).inc()

    def render(self) -> tuple[bytes, str]:
        if self.multiprocess:
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry), CONTENT_TYPE_LATEST
        assert self.registry is not None  # set whenever not multiprocess
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
