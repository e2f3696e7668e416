"""Voice datasets from film audio: who speaks when, cut into clean, transcribed clips per speaker.

    >>> from animstudio.voice.dataset import build_dataset
    >>> report = build_dataset("episode.mkv", "voices/", names={"Ada": "ada.wav"}, min_seconds=3)
    >>> [(s.name, s.clips, s.seconds) for s in report.speakers]
    [('Ada', 14, 81.2), ('speaker_2', 9, 47.5)]

The folder holds ``<speaker>/<speaker>_0001.wav`` (16-bit mono), ``dataset.list`` (GPT-SoVITS:
``wav_path|speaker|lang|text``), ``report.json`` and ``report.md`` (kept and rejected clips, with
reasons). Modules: ``vad`` (speech), ``speakers`` (embeddings, clustering), ``segments`` (turns,
clips), ``quality`` (checks), ``report``, ``build`` (the pipeline and writing).
"""

from __future__ import annotations

import importlib
from typing import Any

# loaded on first use, so the CLI can read the options without importing numpy
_LAZY = {"build_dataset": "build", "DatasetOptions": "options", "DatasetReport": "report"}

__all__ = ["DatasetOptions", "DatasetReport", "build_dataset"]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'animstudio.voice.dataset' has no attribute {name!r}")
    return getattr(importlib.import_module(f"animstudio.voice.dataset.{_LAZY[name]}"), name)
