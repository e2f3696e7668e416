"""The voice tools (registered through ``register_tools``): each takes one request model of
:mod:`animstudio.voice.requests`, the same one the ``animstudio voice`` command's flags come from.

    get_tool("voice.say")(text="Hello there", output="hi.wav")      # Said(output='hi.wav', duration_s=1.1, ...)
    animstudio tools call voice.say --args '{"text": "Hello there", "output": "hi.wav"}'
"""

from __future__ import annotations

from typing import Any

from animstudio.hookspecs import hookimpl
from animstudio.tools import tool
from animstudio.voice import commands
from animstudio.voice.requests import (
    Batch,
    BatchRequest,
    DatasetBuilt,
    DatasetRequest,
    Lipsynced,
    LipsyncRequest,
    Said,
    SayRequest,
    Transcribed,
    TranscribeRequest,
)


@tool("voice.say", example={"text": "Hello there", "output": "hi.wav"},
      plan=("character", "emotion"))
def say(request: SayRequest) -> Said:
    """Speak a line into a WAV file (or .flac, .ogg, .mp3) with an engine's voice or a character's, in an
    emotion, with phoneme timings and optional mouth cues; with check, the line is transcribed back, spoken
    once more if too many words come back wrong, and its word error rate returned."""
    return commands.say_to_file(request)


@tool("voice.batch", example={"script": "scene.yaml", "output": "out/scene", "check": True}, plan=("check",))
def batch(request: BatchRequest) -> Batch:
    """Speak a script (.yaml, .csv or .srt of lines with character, emotion and start) into a folder: a WAV
    and mouth cues per line, a manifest, and one mixed track with every line at its start."""
    return commands.speak_batch(request)


@tool("voice.transcribe", example={"file": "interview.wav", "language": "en"}, plan=("format", "output", "language"))
def transcribe(request: TranscribeRequest) -> Transcribed:
    """Speech to text with segment and word timings (Whisper), returned and optionally written as
    subtitles (SRT or VTT) or JSON."""
    return commands.transcribe_file(request)


@tool("voice.lipsync", example={"audio": "line.wav", "output": "line.json", "text": "Hello there"},
      plan=("format", "text"))
def lipsync(request: LipsyncRequest) -> Lipsynced:
    """Mouth-shape cues (A-H, X) for a recording, written as Rhubarb TSV/JSON or Moho .dat: forced alignment
    with the text when given, else speech recognition; optionally a preview video."""
    return commands.lipsync_file(request)


@tool("voice.dataset", example={"input": "episode.mkv", "output": "voices", "language": "en"}, plan=("language",))
def dataset(request: DatasetRequest) -> DatasetBuilt:
    """Collect training clips of every speaker in a film or recording (a voice dataset for GPT-SoVITS):
    speech found, speakers told apart (and named from reference recordings), clips cut, checked and
    transcribed, with a GPT-SoVITS list and a report."""
    return commands.build_voice_dataset(request)


@hookimpl
def register_tools(register: Any) -> None:
    """Register this capability's tools."""
    for each in (say, batch, transcribe, lipsync, dataset):
        register(each)
