"""Slow tier: every non-chat catalog model installs from its packages and loads in its runtime.

This proves the catalog's assembly (parts, file names, folder layout) matches what each runtime
expects. Chat LLMs are loaded by the LLM engine's own tests.
"""

from __future__ import annotations

import numpy as np
import pytest

from animstudio.models import resolve
from animstudio.models.install import install

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    root = tmp_path_factory.mktemp("warehouse")
    mp.setenv("ANIMSTUDIO_MODELS", str(root))
    yield root
    mp.undo()


def _installed(name: str, warehouse, monkeypatch):
    monkeypatch.setenv("ANIMSTUDIO_MODELS", str(warehouse))
    install(name)
    return resolve(name)


def test_whisper_base_transcribes(warehouse, monkeypatch, shared_data):
    from faster_whisper import WhisperModel

    path = _installed("whisper-base", warehouse, monkeypatch)
    model = WhisperModel(str(path), device="cpu", compute_type="int8", cpu_threads=2)
    segments, _ = model.transcribe(str(shared_data / "speech" / "faster_whisper" / "jfk.flac"), language="en")
    text = " ".join(s.text for s in segments).lower()
    assert "ask not what your country can do for you" in text


def test_minilm_embeds(warehouse, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    path = _installed("all-minilm-l6-v2", warehouse, monkeypatch)
    model = SentenceTransformer(str(path), device="cpu")
    a, b, c = model.encode(["a cartoon rabbit in a meadow", "an animated bunny on the grass",
                            "quarterly tax filing deadline"], normalize_embeddings=True)
    assert a.shape == (384,)
    assert float(a @ b) > float(a @ c) + 0.3


def test_piper_voice_loads(warehouse, monkeypatch):
    from piper import PiperVoice

    path = _installed("piper-en_US-joe-medium", warehouse, monkeypatch)
    voice = PiperVoice.load(str(path), config_path=str(path) + ".json")
    assert voice.config.sample_rate == 22050


def test_kokoro_onnx_loads(warehouse, monkeypatch):
    import onnxruntime as ort

    path = _installed("kokoro-82m-int8", warehouse, monkeypatch)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert {i.name for i in session.get_inputs()} == {"tokens", "style", "speed"}
    voices = np.load(path.parent / "voices_ja.npz")
    assert voices["jm_kumo"].shape == (510, 1, 256)
