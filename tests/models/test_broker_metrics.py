"""The gateway's /metrics carries the broker's loads, evictions, resident models and budgets."""

from __future__ import annotations

import numpy as np

from animstudio.models.broker import broker


def test_broker_figures_are_exposed_with_the_gateways():
    from animstudio.llm.gateway.metrics import Metrics

    before = broker().counters.loads
    with broker().use("metrics-test-model", lambda: np.ones(4 << 20, np.uint8), estimate=4 << 20):
        text = Metrics().exposition().decode()
    broker().unload("metrics-test-model")
    assert f"model_broker_loads_total {float(before + 1)}" in text
    assert 'model_broker_resident_bytes{device="ram",home="ram",model="metrics-test-model"}' in text
    assert 'model_broker_budget_bytes{device="ram"}' in text and "llm_requests_total" in text
    assert "model_broker_offloads_total" in text and "model_broker_restore_seconds_total" in text
