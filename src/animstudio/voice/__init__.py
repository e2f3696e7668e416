"""Voices: text to speech with emotions, speech recognition, lip-sync cues and voice datasets.

The public API; each name loads its module on first use, so importing the package costs nothing.

    from animstudio.voice import load_characters, speak_checked, write_cues
    taken = speak_checked("[excited] Look at that!", character=load_characters()["giulia"])
    taken.speech.write("look.wav"); taken.wers, taken.passed          # [0.0], True

    from animstudio.voice import SayRequest, say_to_file                # what `animstudio voice say` runs
    say_to_file(SayRequest(text="Hello there", output="hi.wav", engine="espeak"))
"""

from __future__ import annotations

from animstudio.lazy import lazy_exports

_LAZY = {
    # speech and engines
    "Speech": "base", "Timed": "base", "Prosody": "base", "TTSEngine": "base", "AUDIO_FORMATS": "base",
    "speak": "prosody", "parse": "prosody", "plain_text": "prosody", "PRESETS": "prosody",
    # who speaks
    "Character": "characters", "load_characters": "characters", "get_character": "characters",
    "engine_for": "characters", "say_as": "characters", "say_line": "characters",
    # hearing back
    "MAX_WER": "qa", "hear_back": "qa", "speak_checked": "qa", "CheckedSpeech": "qa", "LineCheck": "qa",
    "check_voice": "qa", "corpus_wer": "qa", "SAMPLE_LINES": "qa", "wer_detail": "wer", "normalise": "wer",
    # recognition, alignment, lip sync
    "Transcriber": "asr", "Transcript": "asr", "get_transcriber": "asr", "write_transcript": "asr",
    "check_language": "asr", "phoneme_timings": "align", "Cue": "lipsync", "mouth_cues": "lipsync",
    "write_cues": "lipsync", "line_phonemes": "lipsync", "cues_for_speech": "lipsync",
    "render_preview": "preview",
    # scripts and datasets
    "speak_script": "batch", "read_script": "batch", "ScriptResult": "batch",
    "build_dataset": "dataset", "DatasetOptions": "dataset",
    # the commands, their requests and results (the CLI and the tools call these)
    "say_to_file": "commands", "speak_batch": "commands", "transcribe_file": "commands",
    "lipsync_file": "commands", "build_voice_dataset": "commands",
    "SayRequest": "requests", "BatchRequest": "requests", "TranscribeRequest": "requests",
    "LipsyncRequest": "requests", "DatasetRequest": "requests", "CheckRequest": "requests",
    "Said": "requests", "Batch": "requests", "Transcribed": "requests", "Lipsynced": "requests",
    "DatasetBuilt": "requests", "Hearing": "requests",
}

__getattr__, __dir__, __all__ = lazy_exports(__name__, _LAZY)
