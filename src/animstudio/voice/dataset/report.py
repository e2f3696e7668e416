"""What a voice dataset holds: speakers, clips, rejected stretches with reasons, as JSON and markdown.

    >>> report = build_dataset("film.mkv", "voices/")
    >>> report.speakers[0].name, report.speakers[0].clips, report.speakers[0].seconds
    >>> print(report.to_markdown())
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


def count(n: int, word: str) -> str:
    """``count(1, "clip")`` -> "1 clip"; ``count(2, "clip")`` -> "2 clips"."""
    return f"{n} {word}" if n == 1 else f"{n} {word}es" if word.endswith("ch") else f"{n} {word}s"


@dataclass
class Clip:
    path: str                 # relative to the dataset folder, e.g. "speaker_1/speaker_1_0001.wav"
    speaker: str
    start_s: float            # where it is in the input
    end_s: float
    text: str
    language: str
    snr_db: float

    @property
    def duration_s(self) -> float:
        return round(self.end_s - self.start_s, 3)


@dataclass
class Rejected:
    start_s: float
    end_s: float
    speaker: str | None       # None where nobody's voice was clear
    reason: str

    @property
    def duration_s(self) -> float:
        return round(self.end_s - self.start_s, 3)


@dataclass
class Speaker:
    name: str
    clips: int
    seconds: float            # of kept clips
    rejected: int
    reference: str | None = None      # the --name recording that named it
    similarity: float | None = None   # of the reference to this speaker's voice


@dataclass
class UnmatchedName:
    name: str
    reference: str
    closest: str | None       # the speaker most alike, though not enough
    similarity: float


@dataclass
class DatasetReport:
    input: str
    output: str
    duration_s: float
    speech_s: float
    language: str
    speakers: list[Speaker] = field(default_factory=list)
    clips: list[Clip] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    unmatched_names: list[UnmatchedName] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    models: dict[str, str] = field(default_factory=dict)
    input_sha256: str = ""
    timings_s: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key, items in (("clips", self.clips), ("rejected", self.rejected)):
            for row, item in zip(data[key], items, strict=True):
                row["duration_s"] = item.duration_s
        return data

    def to_markdown(self) -> str:
        lines = [f"# Voice dataset from {self.input}", "",
                 f"{self.duration_s:.1f} s of audio, {self.speech_s:.1f} s of speech, language {self.language or '?'}: "
                 f"{count(len(self.clips), 'clip')} from {count(len(self.speakers), 'speaker')}, "
                 f"{count(len(self.rejected), 'stretch')} rejected.", "",
                 "| speaker | clips | seconds | rejected | named from |", "|---|---|---|---|---|"]
        for s in self.speakers:
            ref = f"{s.reference} ({s.similarity:.2f})" if s.reference else ""
            lines.append(f"| {s.name} | {s.clips} | {s.seconds:.1f} | {s.rejected} | {ref} |")
        for u in self.unmatched_names:
            lines += ["", f"Reference {u.reference} for {u.name} matched no speaker (closest: "
                          f"{u.closest or 'none'}, {u.similarity:.2f} alike)."]
        if self.rejected:
            lines += ["", "## Rejected", "", "| start | end | speaker | reason |", "|---|---|---|---|"]
            lines += [f"| {r.start_s:.2f} | {r.end_s:.2f} | {r.speaker or ''} | {r.reason} |" for r in self.rejected]
        lines += ["", "## Clips", "", "| clip | start | end | text |", "|---|---|---|---|"]
        lines += [f"| {c.path} | {c.start_s:.2f} | {c.end_s:.2f} | {c.text.replace('|', '/')} |" for c in self.clips]
        return "\n".join(lines) + "\n"
