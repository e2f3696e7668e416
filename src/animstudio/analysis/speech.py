"""Who says what in which shot: the clip's speech diarized (the voice dataset's voice activity,
speaker embeddings and clustering: who speaks when), transcribed with word timings (Whisper), each
word given to the speaker whose turn it falls in, consecutive words of one speaker made a line, and
each line placed in the shot it overlaps most.

    lines = spoken_lines("ep1.mp4", analysis.shots)
    lines[0].speaker, lines[0].shot, lines[0].text       # "speaker 1", 0, "Where are you going?"
"""

from __future__ import annotations

import os
from typing import Any

from pydantic import BaseModel, Field

from animstudio.progress import ProgressCallback, ignore

GAP_S = 1.0          # a pause this long between two words of one speaker starts a new line
FRAGMENT_S = 1.0     # a piece of a sentence shorter than this is too short to tell its voice (1.6 s windows):
                     # it goes with the rest of its sentence next to it


class SpokenLine(BaseModel):
    start_s: float
    end_s: float
    text: str
    speaker: str = Field(description="speaker 1, speaker 2...: 1 speaks the most; one voice, one name")
    shot: int | None = Field(None, description="the shot the line overlaps most (None: no shot)")


def _shot_of(start_s: float, end_s: float, shots: list[Any]) -> int | None:
    overlaps = [(min(end_s, s.end_s) - max(start_s, s.start_s), s.index) for s in shots]
    best = max(overlaps, default=(0.0, None))
    return best[1] if best[0] > 0 else None


def _speaker_at(t: float, clear: list[Any]) -> int:
    """The speaker of the clear turn (one voice) that holds ``t``, else of the nearest (-1: none)."""
    if not clear:
        return -1
    return min(clear, key=lambda turn: 0.0 if turn.start_s <= t <= turn.end_s else
               min(abs(t - turn.start_s), abs(t - turn.end_s))).speaker


def spoken_lines(clip: str | os.PathLike[str], shots: list[Any], model: str | None = None,
                 language: str | None = None, on_progress: ProgressCallback = ignore) -> list[SpokenLine]:
    """The clip's speech as lines with their speaker and shot (empty for a clip without speech)."""
    from animstudio.voice.asr import DEFAULT_MODEL, get_transcriber, load_samples
    from animstudio.voice.dataset.diarize import diarize

    samples = load_samples(clip)
    found = diarize(samples, on_progress=on_progress)
    transcript = get_transcriber(model or DEFAULT_MODEL).transcribe(samples, language, on_progress)
    clear = [turn for turn in found.turns if turn.speaker >= 0]
    lines: list[SpokenLine] = []
    for segment in transcript.segments:
        runs: list[list[Any]] = []        # [speaker, words] of one voice, in order
        for word in segment.words or []:
            speaker = _speaker_at((word.start_s + word.end_s) / 2, clear)
            if runs and runs[-1][0] == speaker and word.start_s - runs[-1][1][-1].end_s <= GAP_S:
                runs[-1][1].append(word)
            else:
                runs.append([speaker, [word]])
        for i, (_, words) in enumerate(runs):   # a fragment too short to hear whose voice it is joins its neighbour
            if len(runs) > 1 and words[-1].end_s - words[0].start_s < FRAGMENT_S:
                after = runs[i + 1][1][0].start_s - words[-1].end_s if i + 1 < len(runs) else GAP_S + 1
                before = words[0].start_s - runs[i - 1][1][-1].end_s if i > 0 else GAP_S + 1
                if min(before, after) <= GAP_S:
                    runs[i][0] = runs[i + 1][0] if after < before else runs[i - 1][0]
        merged: list[list[Any]] = []
        for speaker, words in runs:
            if merged and merged[-1][0] == speaker and words[0].start_s - merged[-1][1][-1].end_s <= GAP_S:
                merged[-1][1] += words
            else:
                merged.append([speaker, list(words)])
        for speaker, words in merged:
            text = " ".join(w.text.strip() for w in words).strip()
            if text:
                start, end = words[0].start_s, words[-1].end_s
                lines.append(SpokenLine(start_s=round(start, 3), end_s=round(end, 3), text=text,
                                        speaker="unknown" if speaker < 0 else f"speaker {speaker + 1}",
                                        shot=_shot_of(start, end, shots)))
    return lines
