"""A script of lines, spoken: a WAV, timings and mouth cues per line, and one track with every line
at its start time. Lines already spoken with the same voice, settings and text come from a cache.

Scripts are YAML (``lines:`` of ``{character, text, emotion, start}``), CSV (a header naming
``character,text`` and optionally ``emotion,start``) or SRT (``NAME: text`` per cue, started at
the cue's time). A line may name ``engine``/``voice`` instead of a character.

    result = speak_script("scene3.yaml", "out/scene3")
    result.mix, result.lines[0].wav, result.cached     # out/scene3/mix.wav, out/scene3/001-giulia.wav, 0
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import re
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from animstudio.errors import InvalidInputError
from animstudio.files import check_input_file, check_output_folder, output_folder, read_text_file, write_text_atomic
from animstudio.progress import Progress, ProgressCallback, ignore
from animstudio.voice.base import Speech, Timed
from animstudio.voice.effects import resample
from animstudio.voice.qa import MAX_WER, CheckedSpeech
from animstudio.voice.requests import BatchLine, PhonemeTime
from animstudio.voice.text import MAX_LINE_CHARS

CACHE_VERSION = 1
COMMAND = "voice batch"   # what writes the output folder
GAP_S = 0.3              # silence between lines that give no start time
MAX_START_S = 6 * 3600   # the latest start of a line: the track is held in memory
FIELDS = ("text", "character", "emotion", "start", "engine", "voice")
UNSAFE = re.compile(r"[^\w-]+")
SPEAKER = re.compile(r"^\s*([\w .'-]{1,40}?)\s*:\s+(.+)$", re.S)


@dataclass
class Line:
    text: str
    character: str | None = None
    emotion: str = "neutral"
    start_s: float | None = None
    engine: str | None = None
    voice: str | None = None


@dataclass
class ScriptResult:
    lines: list[BatchLine]
    mix: Path
    manifest: Path

    @property
    def cached(self) -> int:
        return sum(1 for line in self.lines if line.cached)


def read_script(path: str | os.PathLike[str]) -> list[Line]:
    p = check_input_file(path, "script")
    kind = p.suffix.lower()
    if kind in (".yaml", ".yml"):
        lines = _yaml_lines(p)
    elif kind == ".csv":
        lines = _csv_lines(p)
    elif kind == ".srt":
        lines = _srt_lines(p)
    else:
        raise InvalidInputError(f"{p}: a script is a .yaml, .csv or .srt file")
    if not lines:
        raise InvalidInputError(f"{p} has no lines to speak")
    return lines


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _start(start: Any, where: str) -> float | None:
    """Seconds from the start of the track, or None for "after the line before"."""
    if start is None or (isinstance(start, str) and not start.strip()):
        return None
    try:
        if isinstance(start, bool) or not isinstance(start, int | float | str):
            raise TypeError(type(start).__name__)
        start_s = float(start)
    except (TypeError, ValueError, OverflowError) as exc:
        raise InvalidInputError(f"{where}: start {_shown(start)} is not a number of seconds; give seconds "
                                "such as 1.5") from exc
    if not math.isfinite(start_s):
        raise InvalidInputError(f"{where}: start {_shown(start)} is not a finite number of seconds; give seconds "
                                "such as 1.5")
    if start_s < 0:
        raise InvalidInputError(f"{where}: start {start_s:g} is before the start of the track; give 0 or more "
                                "seconds")
    if start_s > MAX_START_S:
        raise InvalidInputError(f"{where}: start {start_s:g} s is past {MAX_START_S // 3600} hours "
                                f"({MAX_START_S} s), the longest track a script makes; start the line earlier")
    return start_s


def _name(entry: dict[Any, Any], key: str, where: str) -> str | None:
    value = entry.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInputError(f"{where}: {key} {_shown(value)} is not a name; write one name, e.g. "
                                f"{key}: {'happy' if key == 'emotion' else 'narrator'}")
    return value.strip() or None


def _line(entry: dict[Any, Any], where: str) -> Line:
    unknown = sorted(str(k) for k in entry if k not in FIELDS)
    text = entry.get("text")
    if text is not None and not isinstance(text, str):
        raise InvalidInputError(f"{where}: text {_shown(text)} is not a line of words; write the line in quotes, "
                                'e.g. text: "Hello there."')
    text = (text or "").strip()
    if not text:
        raise InvalidInputError(f"{where}: a line needs `text`" + (f" (unknown field(s): {', '.join(unknown)})"
                                                                   if unknown else ""))
    if unknown:
        raise InvalidInputError(f"{where}: unknown field(s) {', '.join(unknown)}; a line has "
                                f"{', '.join(FIELDS)}")
    if len(text) > MAX_LINE_CHARS:
        raise InvalidInputError(f"{where}: the line is {len(text):,} characters long; split it into lines of at "
                                f"most {MAX_LINE_CHARS:,}")
    names = {key: _name(entry, key, where) for key in ("character", "emotion", "engine", "voice")}
    return Line(text=text, character=names["character"], emotion=names["emotion"] or "neutral",
                start_s=_start(entry.get("start"), where), engine=names["engine"], voice=names["voice"])


def _yaml_lines(p: Path) -> list[Line]:
    import yaml

    try:
        data = yaml.safe_load(read_text_file(p, "script"))
    except (yaml.YAMLError, ValueError) as exc:   # ValueError: a number too long to read
        raise InvalidInputError(f"{p}: not valid YAML ({(str(exc).splitlines() or [''])[0][:200]})") from exc
    entries = data.get("lines") if isinstance(data, dict) else data
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise InvalidInputError(f"{p}: expected `lines:` as a list of {{character, text, emotion, start}}")
    return [_line(e, f"{p} line {i}") for i, e in enumerate(entries, 1)]


def _csv_lines(p: Path) -> list[Line]:
    try:
        rows = list(csv.DictReader(io.StringIO(read_text_file(p, "script"), newline="")))
    except csv.Error as exc:
        raise InvalidInputError(f"{p}: not a valid CSV file ({exc}); save it as CSV with a header row") from exc
    if rows and "text" not in rows[0]:
        raise InvalidInputError(f"{p}: the first row must name the columns, with at least `text` "
                                "(and character, emotion, start)")
    return [_line({k.strip(): (v or "").strip() for k, v in row.items() if isinstance(k, str) and k.strip()},
                  f"{p} row {i}") for i, row in enumerate(rows, 2)]


def _srt_lines(p: Path) -> list[Line]:
    from animstudio.media.subtitles import read_subtitles

    lines = []
    for i, cue in enumerate(read_subtitles(p), 1):
        text = " ".join(cue.text.split())
        match = SPEAKER.match(text)
        character, text = (match.group(1), match.group(2)) if match else (None, text)
        lines.append(_line({"text": text, "character": character, "start": cue.start_s}, f"{p} cue {i}"))
    return lines


def _cache_dir() -> Path:
    from animstudio.config import load_settings

    return load_settings().home / "cache" / "voice"


def _key(engine: Any, voice: str | None, language: str | None, line: Line, base: Any) -> str:
    what = {"v": CACHE_VERSION, "engine": engine.name, "options": engine.options.model_dump(mode="json"),
            "voice": voice, "language": language, "prosody": base.model_dump(), "emotion": line.emotion,
            "text": line.text}
    return hashlib.sha256(json.dumps(what, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:32]


def _speak(line: Line, characters: dict[str, Any], engines: dict[Any, Any], cache: Path,
           max_wer: float | None = None) -> tuple[Speech, bool, CheckedSpeech | None]:
    """The line's speech and its phoneme timings (the engine's, else aligned), from the cache when there;
    with ``max_wer``, heard back and spoken once more if it fails (the take kept replaces the cached one)."""
    import soundfile as sf

    from animstudio.plugins import get_backend
    from animstudio.voice.base import Prosody
    from animstudio.voice.characters import engine_for, get_character, say_line, voice_of
    from animstudio.voice.lipsync import line_phonemes
    from animstudio.voice.qa import speak_checked

    who = None
    if line.character:
        who = get_character(line.character, characters)
        if who.name not in engines:
            engines[who.name] = engine_for(who)
        engine, language, base = engines[who.name], who.language, who.prosody
        voice = voice_of(who, engine, line.emotion)
    else:
        name = line.engine or "piper"
        if name not in engines:
            engines[name] = get_backend("tts_engine", name)()
        engine, voice, language, base = engines[name], line.voice, None, Prosody()
    key = _key(engine, voice, language, line, base)
    wav, meta = cache / f"{key}.wav", cache / f"{key}.json"
    cached = None
    if wav.is_file() and meta.is_file():
        audio, rate = sf.read(str(wav), dtype="float32")
        info = json.loads(meta.read_text(encoding="utf-8"))
        cached = Speech(audio, rate, [Timed(**p) for p in info["phonemes"]], language=info["language"])
    checked = None
    if max_wer is not None:
        checked = speak_checked(line.text, engine, who, emotion=line.emotion, voice=voice, max_wer=max_wer,
                                first=cached)
        speech = checked.speech
    else:
        speech = cached or say_line(line.text, engine, who, emotion=line.emotion, voice=voice)
    if speech is cached:
        return speech, True, checked
    cache.mkdir(parents=True, exist_ok=True)
    speech.write(wav)
    speech.phonemes = line_phonemes(speech, wav, line.text)
    write_text_atomic(meta, json.dumps({"language": speech.language,
                                        "phonemes": [asdict(p) for p in speech.phonemes]}))
    return speech, False, checked


def speak_script(script: str | os.PathLike[str], out_dir: str | os.PathLike[str],
                 on_progress: ProgressCallback = ignore, check: bool = False, max_wer: float = MAX_WER,
                 executor: str | None = None) -> ScriptResult:
    """Speak every line of ``script`` into ``out_dir`` (built beside it, then moved in; a folder holding
    files of anything but an earlier ``voice batch`` is refused before any line is spoken). With ``check``
    each line is heard back and spoken once more when its word error rate is above ``max_wer``. The lines
    are spoken as tasks of ``executor`` (default: the ``executor`` setting; ``ray`` spreads them over a
    cluster); the files are written here."""
    from animstudio.voice.characters import get_character, load_characters

    lines = read_script(script)
    characters = load_characters()
    for i, line in enumerate(lines, 1):   # unknown characters before any audio is made
        if line.character and line.character not in characters:
            try:
                get_character(line.character, characters)
            except InvalidInputError as exc:
                raise InvalidInputError(f"line {i}: {exc}") from exc
    out = check_output_folder(out_dir, COMMAND)
    with output_folder(out, COMMAND) as tmp:
        result = _speak_all(lines, characters, tmp, on_progress, max_wer if check else None, executor)
    for spoken in result:
        spoken.wav, spoken.cues = str(out / spoken.wav), str(out / spoken.cues)
    return ScriptResult(result, out / "mix.wav", out / "lines.json")


_ENGINES = threading.local()     # a worker's engines, kept loaded for the next line of the same characters


def speak_line(task: tuple[Line, dict[str, Any], Path, float | None]) -> tuple[Speech, bool, CheckedSpeech | None]:
    """One line spoken (the task an executor runs, wherever it runs). The engines stay loaded for the
    next line while the characters are the same ones; a character changed since gets its engine anew."""
    line, characters, cache, max_wer = task
    same = repr(sorted((name, repr(who)) for name, who in characters.items()))
    if getattr(_ENGINES, "characters", None) != same:
        _ENGINES.characters, _ENGINES.engines = same, {}
    return _speak(line, characters, _ENGINES.engines, cache, max_wer)


def _speak_all(lines: list[Line], characters: dict[str, Any], tmp: Path, on_progress: ProgressCallback,
               max_wer: float | None, executor: str | None = None) -> list[BatchLine]:
    import soundfile as sf

    from animstudio.jobs.executor import Resources, get_executor
    from animstudio.voice.lipsync import mouth_cues, write_cues

    cache = _cache_dir()
    said = {"lines": 0}

    def heard(index: int, result: Any) -> None:
        said["lines"] += 1
        on_progress(Progress("speak lines", said["lines"], len(lines), "lines", lines[index].text[:40]))

    on_progress(Progress("speak lines", 0, len(lines), "lines"))
    try:
        results = get_executor(executor).map(speak_line, [(line, characters, cache, max_wer) for line in lines],
                                             Resources(cpus=1), on_result=heard)
    finally:
        _ENGINES.__dict__.clear()    # spoken here (the local executor): the engines go with the batch, as before
    spoken: list[tuple[BatchLine, Speech]] = []
    t = 0.0
    for i, (line, (speech, cached, checked)) in enumerate(zip(lines, results, strict=True), 1):
        start = line.start_s if line.start_s is not None else (t + GAP_S if spoken else 0.0)
        t = max(t, start + speech.duration_s)
        stem = f"{i:03d}-{UNSAFE.sub('_', line.character or line.engine or 'line')}"
        speech.write(tmp / f"{stem}.wav")
        write_cues(mouth_cues(speech.phonemes, speech.duration_s), tmp / f"{stem}.json",
                   duration_s=speech.duration_s, sound_file=f"{stem}.wav")
        heard = {} if checked is None else {"heard": checked.heard, "wer": round(checked.wer, 4),
                                            "attempts": [round(w, 4) for w in checked.wers], "passed": checked.passed}
        info = BatchLine(index=i, text=line.text, character=line.character, emotion=line.emotion,
                         start_s=round(start, 3), duration_s=round(speech.duration_s, 3), wav=f"{stem}.wav",
                         cues=f"{stem}.json", cached=cached, **heard,
                         phonemes=[PhonemeTime(phoneme=p.text, start=p.start_s, end=p.end_s) for p in speech.phonemes])
        spoken.append((info, speech))
    rate = max(s.sample_rate for _, s in spoken)
    track = np.zeros(round(t * rate) + 1, np.float32)
    for line_info, speech in spoken:
        audio = resample(speech.audio, speech.sample_rate, rate)
        at = round(line_info.start_s * rate)
        track[at:at + len(audio)] += audio[: len(track) - at]
    peak = float(np.abs(track).max(initial=0.0))
    if peak > 0.99:   # overlapping lines: keep the sum below full scale
        track *= np.float32(0.99 / peak)
    sf.write(str(tmp / "mix.wav"), track, rate, subtype="PCM_16")
    manifest = {"sample_rate": rate, "duration_s": round(len(track) / rate, 3), "mix": "mix.wav",
                "lines": [s.model_dump(mode="json") for s, _ in spoken]}
    write_text_atomic(tmp / "lines.json", json.dumps(manifest, ensure_ascii=False, indent=2))
    return [s for s, _ in spoken]
