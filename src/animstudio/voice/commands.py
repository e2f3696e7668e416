"""What each voice command does, for every face: the CLI, the tools and the agent call these with a
request model (:mod:`animstudio.voice.requests`) and get a typed result back. Nothing here prints.

    said = say_to_file(SayRequest(text="Hello there", output="hi.wav", engine="espeak", check=True))
    said.output, said.duration_s, said.check.wer        # 'hi.wav', 0.93, 0.0

Each checks its arguments (paths, formats, languages) before any model is loaded or any line spoken.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from animstudio.errors import InvalidInputError
from animstudio.progress import ProgressCallback, ignore
from animstudio.voice.requests import (
    Batch,
    BatchRequest,
    DatasetBuilt,
    DatasetRequest,
    DatasetSpeaker,
    Hearing,
    Lipsynced,
    LipsyncRequest,
    MouthCue,
    PhonemeTime,
    Said,
    SayRequest,
    Transcribed,
    TranscribeRequest,
    UnmatchedName,
)


def _speaker(request: SayRequest) -> tuple[Any, Any, Any]:
    """(engine, character or None, base prosody or None) for a request to speak."""
    from animstudio.plugins import get_backend
    from animstudio.voice.base import Prosody
    from animstudio.voice.characters import engine_for, get_character

    if request.character:
        if request.engine or request.voice:
            raise InvalidInputError("--character brings its own engine and voice; drop --engine/--voice, or drop "
                                    "--character")
        who = get_character(request.character)
        if request.language or request.url or request.rate != 1.0 or request.pitch:
            who = who.model_copy(update={
                "language": request.language or who.language,
                "options": who.options | ({"url": request.url} if request.url else {}),
                "prosody": who.prosody.model_copy(update={"rate": who.prosody.rate * request.rate,
                                                          "pitch_semitones": who.prosody.pitch_semitones
                                                          + request.pitch})})
        return engine_for(who), who, None
    cls = get_backend("tts_engine", request.engine or "piper")
    engine = cls(url=request.url) if request.url and "url" in cls.Options.model_fields else cls()
    return engine, None, Prosody(rate=request.rate, pitch_semitones=request.pitch)


def hearing(checked: Any) -> Hearing:
    """The typed record of a :class:`~animstudio.voice.qa.CheckedSpeech`."""
    return Hearing(heard=checked.heard, wer=round(checked.wer, 4), attempts=[round(w, 4) for w in checked.wers],
                   passed=checked.passed)


def say_to_file(request: SayRequest) -> Said:
    """Speak one line into ``request.output`` (and its mouth cues into ``request.cues``)."""
    from animstudio.files import atomic_output, check_output_file
    from animstudio.voice.base import AUDIO_FORMATS
    from animstudio.voice.characters import say_line
    from animstudio.voice.lipsync import CUE_SUFFIXES, cues_for_speech, write_cues
    from animstudio.voice.qa import speak_checked
    from animstudio.voice.text import check_length

    text = check_length(request.text)
    output = check_output_file(request.output, "speech", tuple(AUDIO_FORMATS))
    cues = check_output_file(request.cues, "cue file", CUE_SUFFIXES) if request.cues is not None else None
    engine, who, base = _speaker(request)
    how = {"emotion": request.emotion, "voice": request.voice, "language": request.language, "base": base}
    checked = speak_checked(text, engine, who, max_wer=request.max_wer, **how) if request.check else None
    speech = checked.speech if checked else say_line(text, engine, who, **how)
    with atomic_output(output, "speech") as tmp:   # the speech and its cues, or nothing
        speech.write(tmp)
        if cues is not None:
            write_cues(cues_for_speech(speech, tmp, text), cues, cues.suffix.lstrip(".").lower(),
                       duration_s=speech.duration_s, sound_file=output.name)
    return Said(output=str(output), duration_s=round(speech.duration_s, 3), sample_rate=speech.sample_rate,
                language=speech.language, cues=str(cues) if cues is not None else None,
                phonemes=[PhonemeTime(phoneme=p.text, start=p.start_s, end=p.end_s) for p in speech.phonemes],
                check=hearing(checked) if checked else None)


def speak_batch(request: BatchRequest, on_progress: ProgressCallback = ignore) -> Batch:
    """Speak a script into a folder: a WAV and cues per line, and the mixed track."""
    from animstudio.voice.batch import speak_script

    result = speak_script(request.script, request.output, on_progress=on_progress, check=request.check,
                          max_wer=request.max_wer, executor=request.executor)
    manifest = json.loads(result.manifest.read_text(encoding="utf-8"))
    return Batch(folder=str(result.mix.parent), mix=str(result.mix), manifest=str(result.manifest),
                 duration_s=manifest["duration_s"], sample_rate=manifest["sample_rate"], cached=result.cached,
                 lines=result.lines)


def transcribe_file(request: TranscribeRequest, on_progress: ProgressCallback = ignore) -> Transcribed:
    """Speech to text with word timings, written to ``request.output`` or returned."""
    from animstudio.files import check_input_file, check_output_file
    from animstudio.voice.asr import FORMATS, check_language, get_transcriber, write_transcript

    fmt = request.format
    output = None
    if request.output is not None:   # checked before any work
        output = check_output_file(request.output, "transcript", tuple(f".{f}" for f in FORMATS))
        named = output.suffix.lower().lstrip(".")
        if fmt is not None and fmt != named:
            raise InvalidInputError(f"--format {fmt} but the output {output.name} is named .{named}; make them "
                                    f"agree, e.g. -o {output.with_suffix('.' + fmt).name} (or leave --format out: "
                                    "the suffix picks the format)")
        fmt = named   # type: ignore[assignment]
    language = check_language(request.language) if request.language else None
    check_input_file(request.file, "audio file")
    transcript = get_transcriber().transcribe(request.file, language=language, on_progress=on_progress)
    if not transcript.text.strip():
        raise InvalidInputError(f"no speech found in {request.file}: it holds silence, music or noise, so there is "
                                "nothing to transcribe")
    subtitles = None
    if output is not None:
        write_transcript(transcript, output, fmt)
    elif fmt in ("srt", "vtt"):
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            subtitles = write_transcript(transcript, Path(tmp) / f"out.{fmt}", fmt).read_text(encoding="utf-8")
    return Transcribed.model_validate(transcript.to_json() | {"output": str(output) if output else None,
                                                              "subtitles": subtitles})


def _lipsync_text(request: LipsyncRequest) -> str | None:
    from animstudio.files import check_input_file

    text = request.text
    if text is not None and request.text_file is not None:
        raise InvalidInputError("pass the text once: --text or --text-file, not both")
    if request.text_file is not None:
        try:
            text = check_input_file(request.text_file, "text file").read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidInputError(f"text file {request.text_file} is not UTF-8 text; save it as UTF-8") from exc
    if text is not None and not text.strip():
        raise InvalidInputError("the text is empty; pass what is said, or leave --text out to recognise it")
    return text


def lipsync_file(request: LipsyncRequest, on_progress: ProgressCallback = ignore) -> Lipsynced:
    """Mouth cues for a recording (forced alignment with its text, else speech recognition), and a preview."""
    from animstudio.files import check_input_file, check_output_path
    from animstudio.media import probe
    from animstudio.voice.align import phoneme_timings
    from animstudio.voice.asr import check_language
    from animstudio.voice.lipsync import mouth_cues, write_cues
    from animstudio.voice.phonemize import espeak_voice

    audio = check_input_file(request.audio, "audio file")
    kind = request.format or request.output.suffix.lstrip(".").lower()
    if kind not in ("tsv", "json", "dat"):
        raise InvalidInputError(f"unknown cue format {kind or 'for an output without a suffix'!r}; "
                                f"use --format tsv, json or dat")
    text = _lipsync_text(request)
    language = check_language(request.language)
    if language != "en":
        espeak_voice(language)               # one espeak-ng cannot phonemize fails before the work too
    check_output_path(request.output, "cue file")
    if request.preview is not None:
        from animstudio.voice.preview import find_shapes

        find_shapes(request.shapes)          # a bad drawings folder fails before the work starts
        check_output_path(request.preview, "preview")
    elif request.shapes is not None:
        raise InvalidInputError("--shapes is for the preview; add --preview OUT.mp4")
    duration = probe(audio).duration_s
    cues = mouth_cues(phoneme_timings(audio, text, language), duration)
    write_cues(cues, request.output, kind, duration_s=duration, sound_file=audio.name)
    if request.preview is not None:
        from animstudio.voice.preview import render_preview

        render_preview(cues, audio, request.preview, shapes_dir=request.shapes, on_progress=on_progress)
    return Lipsynced(output=str(request.output), duration_s=round(duration, 3),
                     cues=[MouthCue(start=c.start_s, end=c.end_s, shape=c.shape) for c in cues],
                     speaking=sum(1 for c in cues if c.shape != "X"),
                     preview=str(request.preview) if request.preview is not None else None)


def build_voice_dataset(request: DatasetRequest, on_progress: ProgressCallback = ignore) -> DatasetBuilt:
    """Per-speaker training clips, a GPT-SoVITS list and a report, from a film's audio."""
    from animstudio.voice.dataset.build import build_dataset

    report = build_dataset(request.input, request.output, request.options(), on_progress=on_progress)
    out = Path(request.output)
    return DatasetBuilt(
        folder=str(out), report=str(out / "report.json"), training_list=str(out / "dataset.list"),
        clips=len(report.clips), seconds=round(sum(s.seconds for s in report.speakers), 3),
        rejected=len(report.rejected),
        speakers=[DatasetSpeaker(name=s.name, clips=s.clips, seconds=s.seconds, rejected=s.rejected,
                                 reference=s.reference) for s in report.speakers],
        unmatched_names=[UnmatchedName(name=u.name, reference=u.reference, closest=u.closest,
                                       similarity=u.similarity) for u in report.unmatched_names])
