"""Build a voice dataset from a film's audio: per-speaker clips, a GPT-SoVITS list, a report.

Steps: decode to 16 kHz mono; find speech (Silero VAD); embed 1.6 s windows (Resemblyzer) and
cluster them into speakers; cut speaker turns into clips; reject clips that are too short, too
long, clipped, noisy, overlapping or wordless; transcribe the rest (faster-whisper); write the
folder. Nothing appears at ``output`` unless the whole build succeeds.

    >>> report = build_dataset("episode.mkv", "voices/", names={"Ada": "ada_line.wav"})
    >>> [(s.name, s.clips, s.seconds) for s in report.speakers]
    voices/Ada/Ada_0001.wav ...  voices/dataset.list  voices/report.json  voices/report.md
"""

from __future__ import annotations

import json
import os
import time
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from animstudio.errors import InvalidInputError
from animstudio.files import (
    atomic_output,
    check_input_file,
    check_output_folder,
    output_folder,
    sha256_file,
    write_text_atomic,
)
from animstudio.progress import Progress, ProgressCallback, ignore
from animstudio.voice.dataset import quality
from animstudio.voice.dataset.options import DatasetOptions, parse_options
from animstudio.voice.dataset.report import Clip, DatasetReport, Rejected, Speaker, UnmatchedName, count
from animstudio.voice.dataset.segments import Turn, split_turn, turns, windows
from animstudio.voice.dataset.vad import FRAME_S, speech_probabilities, speech_regions

RATE = 16000
PEAK = 10 ** (-1 / 20)           # clips are scaled so their loudest sample is at -1 dBFS
REGION_PAD_S = 0.1               # silence kept either side of speech
LIST_FILE = "dataset.list"
COMMAND = "voice dataset"            # what writes the output folder


@dataclass
class _Candidate:
    turn: Turn
    speaker: str
    snr_db: float = 0.0
    text: str = ""
    language: str = ""


def build_dataset(source: str | os.PathLike[str], output: str | os.PathLike[str],
                  options: DatasetOptions | dict[str, Any] | None = None, on_progress: ProgressCallback = ignore,
                  **kwargs: Any) -> DatasetReport:
    """Build the dataset folder ``output`` from the speech in ``source`` (any file with sound)."""
    from animstudio.media import decode_audio, probe
    from animstudio.voice.dataset.speakers import SpeakerEncoder, find_speakers, match_names, window_verdicts

    opts = parse_options(options, **kwargs)
    src = check_input_file(source, "input file")
    refs = {name: check_input_file(path, f"reference recording for {name}") for name, path in opts.names.items()}
    out = check_output_folder(output, COMMAND)
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(step: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[step] = round(now - clock, 3)
        clock = now

    encoder = SpeakerEncoder()
    references = {name: _reference_voice(path, name, encoder) for name, path in refs.items()}  # bad ones fail early
    on_progress(Progress("decode audio", 0, None))
    samples, _ = decode_audio(src, RATE, mono=True)
    samples = samples - np.float32(np.mean(samples)) if len(samples) else samples
    duration = len(samples) / RATE
    native = next((a.sample_rate for a in probe(src, count_frames=False).audio), 0) or RATE
    on_progress(Progress("decode audio", duration, duration, "s"))
    lap("decode")

    probs = speech_probabilities(samples, on_progress)
    regions = speech_regions(probs, duration_s=duration, pad_s=REGION_PAD_S)
    if not regions:
        raise InvalidInputError(f"no speech found in {src}: voice activity detection heard no voices; "
                                f"pass a recording with dialogue")
    lap("find speech")

    wins = windows(regions, duration)
    vectors = encoder.embed([samples[int(w.start_s * RATE): int(w.end_s * RATE)] for w in wins],
                            on_progress=on_progress)
    _, voices = find_speakers(vectors, opts.same_speaker)
    named, unmatched = match_names(references, voices)
    others = list(unmatched)
    known = np.vstack([voices, *[references[n][None, :] for n in others]])
    verdicts = window_verdicts(vectors, known, others)
    speaker_turns = turns(regions, wins, verdicts, probs)
    if not any(t.speaker >= 0 for t in speaker_turns):
        raise InvalidInputError(f"no speakers found in {src}: no stretch of speech is clearly one voice "
                                f"(overlapping voices or noise throughout); pass a recording with clear dialogue")
    names = _speaker_names(len(voices), named)
    lap("speakers")

    kept, rejected = _check_clips(speaker_turns, names, samples, probs, opts, src, native)
    heard = len(kept)
    _transcribe(kept, rejected, samples, opts.language, on_progress)
    lap("transcribe")
    if heard and not kept:
        raise InvalidInputError(f"no speech found in {src}: {count(heard, 'stretch')} that sounded like voices "
                                f"held no words (music or other sounds?); pass a recording with dialogue")
    if not kept:
        raise InvalidInputError(f"no usable clips in {src}: {_reasons(rejected)}; lower --min-seconds or "
                                f"--min-snr-db, or pass a longer recording")

    rate = opts.sample_rate or native
    language = opts.language or (kept[0].language if kept else "")
    report = DatasetReport(
        input=str(src), output=str(out), duration_s=round(duration, 3),
        speech_s=round(sum(e - s for s, e in regions), 3), language=language,
        rejected=sorted(rejected, key=lambda r: r.start_s),
        unmatched_names=[UnmatchedName(n, str(refs[n]), names[unmatched[n][0]] if unmatched[n][0] >= 0 else None,
                                       round(unmatched[n][1], 3)) for n in others],
        options={**opts.model_dump(mode="json"), "sample_rate": rate},
        models={"voice activity": "silero-vad", "speaker embeddings": "resemblyzer-encoder", "speech recognition":
                "whisper-base"},
        input_sha256=sha256_file(src))
    _write(out, report, kept, names, named, refs, src, samples, rate, on_progress)
    lap("write")
    report.timings_s = timings
    write_text_atomic(out / "report.json", json.dumps(report.to_json(), ensure_ascii=False, indent=2) + "\n")
    return report


def _reference_voice(path: Path, name: str, encoder: Any) -> np.ndarray:
    """The voice of a --name recording: the mean embedding of its speech."""
    from animstudio.media import decode_audio

    samples, _ = decode_audio(path, RATE, mono=True)
    probs = speech_probabilities(samples, task=f"reference {name}")
    regions = speech_regions(probs, duration_s=len(samples) / RATE)
    if not regions:
        raise InvalidInputError(f"no speech found in {path}, the reference recording for {name}; pass a "
                                f"recording of that character speaking")
    speech = np.concatenate([samples[int(s * RATE): int(e * RATE)] for s, e in regions])
    return encoder.embed_recording(speech)


def _speaker_names(count: int, named: dict[int, tuple[str, float]]) -> list[str]:
    taken = {n for n, _ in named.values()}
    names, number = [], 0
    for i in range(count):
        if i in named:
            names.append(named[i][0])
            continue
        number += 1
        while f"speaker_{number}" in taken:
            number += 1
        names.append(f"speaker_{number}")
    return names


def _check_clips(speaker_turns: list[Turn], names: list[str], samples: np.ndarray, probs: np.ndarray,
                 opts: DatasetOptions, src: Path, native: int) -> tuple[list[_Candidate], list[Rejected]]:
    """Candidate clips from speaker turns, and the stretches rejected before transcription."""
    from animstudio.media import decode_audio

    powers = quality.frame_powers(samples)
    kept: list[_Candidate] = []
    rejected: list[Rejected] = []
    for turn in speaker_turns:
        if turn.speaker < 0:
            rejected.append(Rejected(turn.start_s, turn.end_s, None, turn.reason))
            continue
        for part in split_turn(turn, probs, opts.min_seconds, opts.max_seconds):
            who = names[part.speaker]
            if part.duration_s < opts.min_seconds:
                rejected.append(Rejected(part.start_s, part.end_s, who, f"too short ({part.duration_s:.2f} s "
                                                                        f"< {opts.min_seconds:g} s)"))
                continue
            if part.duration_s > opts.max_seconds + FRAME_S:
                rejected.append(Rejected(part.start_s, part.end_s, who, f"too long ({part.duration_s:.2f} s "
                                                                        f"> {opts.max_seconds:g} s)"))
                continue
            # clipping shows in the original channels at the original rate; mixing and resampling blur it
            channels, _ = decode_audio(src, native, mono=False, start_s=part.start_s, end_s=part.end_s)
            clipped = max(quality.clipped_fraction(channel) for channel in channels)
            if clipped > quality.MAX_CLIPPED:
                rejected.append(Rejected(part.start_s, part.end_s, who, f"clipped ({clipped:.2%} of samples at "
                                                                        f"full scale)"))
                continue
            fa = int(part.start_s / FRAME_S)
            fb = max(fa + 1, int(np.ceil(part.end_s / FRAME_S)))
            noise = quality.noise_power(powers, probs, fa, fb)
            snr = quality.snr_db(powers[fa:fb], probs[fa:fb], noise)
            if snr < opts.min_snr_db:
                rejected.append(Rejected(part.start_s, part.end_s, who, f"noisy (speech {snr:.1f} dB above the "
                                                                        f"noise, < {opts.min_snr_db:g} dB)"))
                continue
            kept.append(_Candidate(part, who, round(snr, 1)))
    return kept, rejected


def _transcribe(kept: list[_Candidate], rejected: list[Rejected], samples: np.ndarray, language: str | None,
                on_progress: ProgressCallback) -> None:
    """Transcribe each candidate (the longest first, to detect the language when not given); move
    the ones with no words to ``rejected``."""
    if not kept:
        return
    from animstudio.voice.asr import get_transcriber

    transcriber = get_transcriber()
    order = sorted(range(len(kept)), key=lambda i: -kept[i].turn.duration_s)
    task = "transcribe"
    on_progress(Progress(task, 0, len(kept), "clips"))
    for done, i in enumerate(order, 1):
        c = kept[i]
        piece = samples[int(c.turn.start_s * RATE): int(c.turn.end_s * RATE)]
        t = transcriber.transcribe(piece, language=language)
        language = language or t.language or None
        c.text = " ".join(t.text.replace("|", " ").split())
        c.language = t.language or language or ""
        on_progress(Progress(task, done, len(kept), "clips"))
    for c in [c for c in kept if not any(ch.isalnum() for ch in c.text)]:
        kept.remove(c)
        rejected.append(Rejected(c.turn.start_s, c.turn.end_s, c.speaker, "no words recognised"))


def _reasons(rejected: list[Rejected]) -> str:
    counts: dict[str, int] = {}
    for r in rejected:
        key = r.reason.split(" (")[0]
        counts[key] = counts.get(key, 0) + 1
    return ", ".join(f"{n} {why}" for why, n in sorted(counts.items(), key=lambda kv: -kv[1])) or "none"


def _clip_audio(src: Path, samples: np.ndarray, rate: int, start_s: float, end_s: float) -> np.ndarray:
    """A clip at the output rate, scaled so its peak is at -1 dBFS."""
    if rate == RATE:
        clip = samples[int(start_s * RATE): int(end_s * RATE)].astype(np.float32)
    else:
        from animstudio.media import decode_audio

        clip, _ = decode_audio(src, rate, mono=True, start_s=start_s, end_s=end_s)
        clip = clip - np.float32(np.mean(clip)) if len(clip) else clip
    peak = float(np.max(np.abs(clip))) if len(clip) else 0.0
    return clip * (PEAK / peak) if peak > 0 else clip


def _write_wav(path: Path, clip: np.ndarray, rate: int) -> None:
    pcm = (np.clip(clip, -1.0, 1.0) * 32767).round().astype("<i2")
    with atomic_output(path, "clip") as tmp, wave.open(str(tmp), "wb") as wf:
        wf.setnchannels(1)
        wf.setsampwidth(2)
        wf.setframerate(rate)
        wf.writeframes(pcm.tobytes())


def _write(out: Path, report: DatasetReport, kept: list[_Candidate], names: list[str],
           named: dict[int, tuple[str, float]], refs: dict[str, Path], src: Path, samples: np.ndarray, rate: int,
           on_progress: ProgressCallback) -> None:
    """Write clips, lists and the report into a temp folder beside ``out``, then move them into ``out``."""
    final = out.resolve()
    with output_folder(out, COMMAND) as tmp:
        kept.sort(key=lambda c: c.turn.start_s)
        counts: dict[str, int] = {}
        lines: dict[str, list[str]] = {}
        for done, c in enumerate(kept, 1):
            counts[c.speaker] = counts.get(c.speaker, 0) + 1
            rel = f"{c.speaker}/{c.speaker}_{counts[c.speaker]:04d}.wav"
            (tmp / c.speaker).mkdir(exist_ok=True)
            _write_wav(tmp / rel, _clip_audio(src, samples, rate, c.turn.start_s, c.turn.end_s), rate)
            report.clips.append(Clip(rel, c.speaker, c.turn.start_s, c.turn.end_s, c.text, c.language, c.snr_db))
            lines.setdefault(c.speaker, []).append(f"{final / rel}|{c.speaker}|{c.language}|{c.text}")
            on_progress(Progress("write clips", done, len(kept), "clips"))
        for i, name in enumerate(names):
            mine = [c for c in report.clips if c.speaker == name]
            ref = named[i] if i in named else None
            report.speakers.append(Speaker(
                name=name, clips=len(mine), seconds=round(sum(c.duration_s for c in mine), 3),
                rejected=sum(1 for r in report.rejected if r.speaker == name),
                reference=str(refs[ref[0]]) if ref else None, similarity=round(ref[1], 3) if ref else None))
            if lines.get(name):
                write_text_atomic(tmp / name / f"{name}.list", "\n".join(lines[name]) + "\n")
        everything = [line for name in names for line in lines.get(name, [])]
        write_text_atomic(tmp / LIST_FILE, "\n".join(everything) + "\n")
        write_text_atomic(tmp / "report.md", report.to_markdown())
        write_text_atomic(tmp / "report.json", json.dumps(report.to_json(), ensure_ascii=False, indent=2) + "\n")
