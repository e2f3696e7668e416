"""The gateway's /v1/embeddings serves the registered embedders by name: one added by a plugin module
answers when a request (or the setting knowledge.embedder) names it, and an unknown name lists them all."""

from __future__ import annotations

import types

import numpy as np
import pytest
from fastapi.testclient import TestClient

from animstudio import plugins
from animstudio.hookspecs import hookimpl
from animstudio.knowledge.embedders import TextEmbedder
from animstudio.llm.gateway.app import create_app


class LetterEmbedder(TextEmbedder):
    """Counts of the letters a-z, scaled to unit length: texts with the same letters embed alike."""

    name = "letters"
    dimension = 26

    def embed(self, texts: list[str]) -> np.ndarray:
        rows = np.zeros((len(texts), 26), np.float32)
        for row, text in zip(rows, texts, strict=True):
            for ch in text.lower():
                if "a" <= ch <= "z":
                    row[ord(ch) - ord("a")] += 1
        return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-9)


@pytest.fixture(autouse=True)
def letters_plugin():
    plugin = types.ModuleType("letters_plugin")

    @hookimpl
    def register_embedders(register):
        register(LetterEmbedder)

    plugin.register_embedders = register_embedders
    plugins.register_module(plugin, name="letters_plugin")


def test_a_registered_embedder_is_served_by_name():
    with TestClient(create_app({})) as http:
        reply = http.post("/v1/embeddings", json={"model": "letters", "input": ["abc", "cab ba", "zz"]})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["model"] == "letters" and body["usage"] == {"prompt_tokens": 4, "total_tokens": 4}
    abc, cab, zz = (np.array(d["embedding"]) for d in body["data"])
    third = 1 / np.sqrt(3)
    assert np.allclose(abc[:3], [third] * 3) and not abc[3:].any()
    assert np.allclose(cab[:3], [2 / 3, 2 / 3, 1 / 3])   # a, b twice; c once
    assert zz[25] == pytest.approx(1.0) and [d["index"] for d in body["data"]] == [0, 1, 2]


def test_the_default_embedder_is_the_setting(monkeypatch):
    monkeypatch.setenv("ANIMSTUDIO_KNOWLEDGE__EMBEDDER", "letters")
    with TestClient(create_app({})) as http:
        reply = http.post("/v1/embeddings", json={"input": "zebra"})
    assert reply.status_code == 200 and reply.json()["model"] == "letters"
    assert len(reply.json()["data"][0]["embedding"]) == 26


def test_unknown_names_and_bad_input():
    with TestClient(create_app({}, embedder="letters")) as http:
        unknown = http.post("/v1/embeddings", json={"model": "nope", "input": ["x"]})
        assert unknown.status_code == 404
        assert unknown.json()["error"]["message"] == ("unknown embedding model 'nope'; this gateway serves: "
                                                      "all-minilm-l6-v2, letters")
        for body in ({"input": []}, {"input": [1, 2]}, {}, ["not", "an", "object"]):
            bad = http.post("/v1/embeddings", json=body)
            assert bad.status_code == 400, body
            assert "\n" not in bad.json()["error"]["message"]
