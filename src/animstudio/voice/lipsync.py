"""Mouth shapes from phoneme timings: the nine classic shapes A-H and X that 2D animators draw.

A closed (p b m) · B slightly open, teeth together (most consonants, "ee") · C open (eh, ae, uh)
· D wide open (aa, ai) · E rounded (aw, er) · F puckered (oo, oh, w) · G upper teeth on lip (f v)
· H tongue up (l) · X at rest (silence). Cues are merged, too-short ones folded into a neighbour
(no flicker), and every sequence starts and ends at rest. Writers give Rhubarb's TSV and JSON and
Moho/OpenToonz switch data (.dat).

    cues = mouth_cues(speech.phonemes, speech.duration_s)
    write_cues(cues, "line.json", duration_s=speech.duration_s, sound_file="line.wav")
"""

from __future__ import annotations

import json
import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from animstudio.errors import InvalidInputError
from animstudio.files import write_text_atomic
from animstudio.voice.base import Speech, Timed

SHAPES = "ABCDEFGHX"
CUE_SUFFIXES = (".tsv", ".json", ".dat")   # Rhubarb TSV and JSON, Moho switch data
_GROUPS = {
    "A": "p b m",
    "G": "f v",
    "H": "l ɫ",
    "F": "u uː ʊ w o oː ɵ y ʏ",
    "E": "ɔ ɔː ɒ ɜ ɜː ɚ ɝ ø œ",
    "D": "a aː ɑ ɑː ɐ ɶ",
    "C": "ɛ ɛː e eː æ ʌ ə",
    "B": "i iː ɪ j t d k g ɡ s z ʃ ʒ θ ð n ŋ ɲ ɹ r ɾ h x ç ʔ c ɟ q ʁ ʀ ʎ",
}
PHONEME_SHAPE = {p: shape for shape, group in _GROUPS.items() for p in group.split()}
MIN_CUE_S = 0.04   # a frame at 24 fps: shorter shapes would flicker


@dataclass
class Cue:
    start_s: float
    end_s: float
    shape: str


def shape_of(phoneme: str) -> str:
    """The mouth shape of one IPA phoneme (stress and length marks ignored); X for pauses."""
    base = "".join(ch for ch in unicodedata.normalize("NFD", phoneme) if unicodedata.category(ch) != "Mn")
    base = base.replace("ˈ", "").replace("ˌ", "").strip()
    if not base or not any(ch.isalpha() for ch in base):
        return "X"   # punctuation, spaces, pauses
    if base in PHONEME_SHAPE:
        return PHONEME_SHAPE[base]
    return PHONEME_SHAPE.get(base.rstrip("ː"), PHONEME_SHAPE.get(base[0], "B"))


def mouth_cues(phonemes: list[Timed], duration_s: float, min_cue_s: float = MIN_CUE_S) -> list[Cue]:
    """Smoothed cues covering 0..``duration_s``: at rest before, between words' pauses and after."""
    raw: list[Cue] = []
    t = 0.0
    for p in sorted(phonemes, key=lambda p: p.start_s):
        if raw and (p.text in ("ː", "ˑ", "ˈ", "ˌ") or p.text.isspace()):
            # a long vowel, a stress mark or the joint between two words: the mouth holds its shape
            raw[-1].end_s = max(raw[-1].end_s, p.end_s)
            t = max(t, p.end_s)
            continue
        shape = shape_of(p.text)
        if p.start_s > t + 1e-6:
            raw.append(Cue(t, p.start_s, "X"))
        raw.append(Cue(max(t, p.start_s), max(p.end_s, p.start_s), shape))
        t = max(t, p.end_s)
    if duration_s > t:
        raw.append(Cue(t, duration_s, "X"))
    cues = _merge(raw)
    while True:   # fold the shortest too-short cue into its longer neighbour, until none is left
        short = [i for i, c in enumerate(cues) if c.end_s - c.start_s < min_cue_s and 0 < i < len(cues) - 1]
        if not short:
            break
        i = min(short, key=lambda k: cues[k].end_s - cues[k].start_s)
        left, right = cues[i - 1], cues[i + 1]
        if left.end_s - left.start_s >= right.end_s - right.start_s:
            left.end_s = cues[i].end_s
        else:
            right.start_s = cues[i].start_s
        del cues[i]
        cues = _merge(cues)
    if not cues:
        return [Cue(0.0, round(duration_s, 3), "X")]
    if cues[0].shape != "X":   # speech from the first sample: the mouth still opens from rest
        rest = min(min_cue_s, (cues[0].end_s - cues[0].start_s) / 2)
        cues[0].start_s += rest
        cues.insert(0, Cue(0.0, rest, "X"))
    if cues[-1].shape != "X":   # and closes at the very end
        rest = min(min_cue_s, (cues[-1].end_s - cues[-1].start_s) / 2)
        cues[-1].end_s -= rest
        cues.append(Cue(cues[-1].end_s, cues[-1].end_s + rest, "X"))
    return [Cue(round(c.start_s, 3), round(c.end_s, 3), c.shape) for c in cues]


def _merge(cues: list[Cue]) -> list[Cue]:
    out: list[Cue] = []
    for c in cues:
        if c.end_s <= c.start_s and out:
            continue
        if out and out[-1].shape == c.shape:
            out[-1].end_s = max(out[-1].end_s, c.end_s)
        else:
            out.append(Cue(c.start_s, c.end_s, c.shape))
    return out


def write_cues(cues: list[Cue], path: str | os.PathLike[str], fmt: str | None = None, duration_s: float = 0.0,
               sound_file: str = "", fps: float = 24.0) -> Path:
    """Rhubarb TSV (``start<TAB>shape``), Rhubarb JSON, or Moho/OpenToonz switch data (.dat)."""
    fmt = fmt or Path(path).suffix.lstrip(".").lower()
    if fmt == "tsv":
        text = "".join(f"{c.start_s:.2f}\t{c.shape}\n" for c in cues)
    elif fmt == "json":
        text = json.dumps({"metadata": {"soundFile": sound_file, "duration": round(duration_s, 2)},
                           "mouthCues": [{"start": round(c.start_s, 2), "end": round(c.end_s, 2), "value": c.shape}
                                         for c in cues]}, indent=2) + "\n"
    elif fmt == "dat":
        lines, last = ["MohoSwitch1"], None
        for c in cues:
            frame = int(round(c.start_s * fps)) + 1   # Moho counts frames from 1
            if frame != last:
                lines.append(f"{frame} {c.shape}")
                last = frame
        text = "\n".join(lines) + "\n"
    else:
        raise InvalidInputError(f"unknown mouth-cue format {fmt!r}; use tsv, json or dat")
    return write_text_atomic(path, text)


def line_phonemes(speech: Speech, audio_path: str | os.PathLike[str], line: str) -> list[Timed]:
    """The phoneme timings of a spoken line: the engine's own, else the written line (markup removed)
    aligned with the audio."""
    if speech.phonemes:
        return speech.phonemes
    from animstudio.voice.align import phoneme_timings
    from animstudio.voice.prosody import plain_text

    return phoneme_timings(audio_path, plain_text(line), language=speech.language or "en")


def cues_for_speech(speech: Speech, audio_path: str | os.PathLike[str], line: str) -> list[Cue]:
    return mouth_cues(line_phonemes(speech, audio_path, line), speech.duration_s)
