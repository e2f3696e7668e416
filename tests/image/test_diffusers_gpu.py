"""The diffusers backend on a CUDA GPU (skipped without one): fp16 by default, the same seed gives the
same pixels, and the broker offloads the whole pipeline to RAM and brings it back for the next
picture, which comes out the same."""

from __future__ import annotations

import numpy as np
import pytest
import tiny

from animstudio.image.base import ImageRequest

SMALL = {"width": 64, "height": 64, "steps": 3, "sampler": "Euler"}


@pytest.mark.gpu
def test_fp16_on_the_gpu_reproduces_and_survives_an_offload(tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")
    pytest.importorskip("diffusers")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU on this machine")
    from animstudio.image.diffusers_backend import DiffusersBackend
    from animstudio.models.broker import broker, reset

    monkeypatch.setenv("ANIMSTUDIO_HOME", str(tmp_path / "home"))
    reset()
    try:
        backend = DiffusersBackend(checkpoint=str(tiny.sdxl(tmp_path / "tiny-sdxl")), device="cuda")
        first = np.asarray(backend.generate(ImageRequest(prompt="a red fox", seed=5, **SMALL))[0], np.int16)
        again = np.asarray(backend.generate(ImageRequest(prompt="a red fox", seed=5, **SMALL))[0], np.int16)
        assert np.array_equal(first, again)
        (name,) = [n for n in broker().resident if n.startswith("sdxl:")]
        pipe = broker().resident[name].model
        assert pipe.unet.dtype == torch.float16 and pipe.unet.device.type == "cuda"
        assert broker().offload(name)
        assert pipe.unet.device.type == "cpu" and pipe.vae.device.type == "cpu"
        assert pipe.text_encoder_2.device.type == "cpu"
        after = np.asarray(backend.generate(ImageRequest(prompt="a red fox", seed=5, **SMALL))[0], np.int16)
        assert pipe.unet.device.type == "cuda" and np.array_equal(first, after)
        assert broker().counters.restores == 1 and broker().counters.loads == 1
    finally:
        reset()
