"""The studio server's figures for Prometheus (``GET /metrics``, behind the API key like every route
but ``/health``): the jobs of its store by kind and status, and the model broker of its process.

    exposition(JobStore())      # the text format Prometheus scrapes
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily


class JobsCollector:
    def __init__(self, store: Any) -> None:
        self.store = store

    def collect(self) -> Iterator[Any]:
        jobs = GaugeMetricFamily("studio_jobs", "jobs in the store, by kind and status", labels=["kind", "status"])
        for (kind, status), count in sorted(self.store.counts().items()):
            jobs.add_metric([kind, status], count)
        yield jobs


def exposition(store: Any) -> bytes:
    from animstudio.models.metrics import BrokerCollector

    registry = CollectorRegistry()
    registry.register(JobsCollector(store))
    registry.register(BrokerCollector())
    return generate_latest(registry)
