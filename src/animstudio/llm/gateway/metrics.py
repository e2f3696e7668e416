"""Prometheus metrics of one gateway (its own registry, so several gateways can share a process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("llm_requests_total", "chat requests", ["model", "status"], registry=r)
        self.latency = Histogram("llm_request_seconds", "time to a full answer (or to the end of a stream)",
                                 ["model", "stream"], buckets=BUCKETS, registry=r)
        self.tokens = Counter("llm_tokens_total", "tokens", ["model", "kind"], registry=r)
        self.cache = Counter("llm_cache_total", "response cache lookups", ["result"], registry=r)
        self.cache_errors = Counter("llm_cache_backend_errors_total", "cache backend failures (served uncached)",
                                    registry=r)
        self.upstream_errors = Counter("llm_upstream_errors_total", "failed calls to an engine", ["upstream"],
                                       registry=r)
        self.in_flight = Gauge("llm_in_flight", "requests being answered", registry=r)
        from animstudio.models.metrics import BrokerCollector

        r.register(BrokerCollector())   # the models this process holds, beside the gateway's own figures

    def count_usage(self, model: str, usage: dict | None) -> None:
        for kind in ("prompt_tokens", "completion_tokens"):
            if usage and usage.get(kind):
                self.tokens.labels(model, kind.removesuffix("_tokens")).inc(int(usage[kind]))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
