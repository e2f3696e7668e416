"""The broker's figures for Prometheus: loads, unloads, evictions, offloads to RAM and moves back,
and releases asked by other processes (counted, with the seconds each kind of move took), what is
resident now (and where) and the budgets. The
gateway's ``/metrics`` serves them beside its own.

    registry.register(BrokerCollector())
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily


class BrokerCollector:
    def collect(self) -> Iterator[Any]:
        from animstudio.models.broker import broker

        status = broker().status()
        counters = status["counters"]
        for name, help_text in (("loads", "models loaded"), ("unloads", "models unloaded"),
                                ("evictions", "idle models unloaded to make room"),
                                ("released_on_request", "idle models released because another process asked"),
                                ("offloads", "idle GPU models moved to RAM to make room"),
                                ("restores", "offloaded models moved back to the GPU")):
            yield CounterMetricFamily(f"model_broker_{name}", help_text, value=counters[name])
        for name, help_text in (("load", "seconds spent loading models"),
                                ("offload", "seconds spent moving models to RAM"),
                                ("restore", "seconds spent moving models back to the GPU")):
            yield CounterMetricFamily(f"model_broker_{name}_seconds", help_text, value=counters[f"{name}_seconds"])
        resident = GaugeMetricFamily("model_broker_resident_bytes", "memory a resident model takes",
                                     labels=["model", "device", "home"])
        for m in status["models"]:
            resident.add_metric([m["name"], m["device"], m["home"]], m["bytes"])
        yield resident
        budget = GaugeMetricFamily("model_broker_budget_bytes", "the memory budget", labels=["device"])
        for device, value in status["budgets"].items():
            budget.add_metric([device], value)
        yield budget
