"""Spoken lines heard back: Whisper transcribes what an engine said and the word error rate against
the written line catches dropped, repeated or garbled words.

    check = hear_back(speech, "[excited] Look at that!")
    check.wer, check.heard        # 0.0, 'Look at that!'

The hearing check of a line to keep: speak it, hear it back, and speak it once more when more than
``MAX_WER`` of its words come back wrong.

    taken = speak_checked("[excited] Look at that!", engine)   # or character=load_characters()["giulia"]
    taken.speech, taken.wers, taken.heard, taken.passed        # the last take, [0.6, 0.0], 'Look at that!', True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from animstudio.progress import Progress, ProgressCallback, ignore
from animstudio.voice.base import Prosody, Speech, TTSEngine
from animstudio.voice.effects import resample
from animstudio.voice.prosody import plain_text
from animstudio.voice.wer import WerDetail, wer_detail

if TYPE_CHECKING:
    from animstudio.voice.characters import Character

MAX_WER = 0.35   # a line heard back with more word errors than this fails the hearing check (and is spoken again)

SAMPLE_LINES = {   # ten everyday sentences per language, to hear how well a voice speaks it
    "en": [
        "We are going to the seaside tomorrow, all of us together.",
        "The cat is sleeping on the sofa next to the window.",
        "Tonight we will eat pizza in the main square.",
        "My grandmother makes coffee every single morning.",
        "The station is far away, so let us take a taxi.",
        "The museum opens at nine and closes at six.",
        "I bought some fresh bread at the market.",
        "The train to Florence leaves in ten minutes.",
        "The mountains are covered with snow in winter.",
        "Thank you very much, you have been very kind.",
    ],
    "it": [
        "Domani andiamo al mare con tutta la famiglia.",
        "Il gatto dorme sul divano vicino alla finestra.",
        "Questa sera mangiamo la pizza in piazza.",
        "Mia nonna prepara il caffè ogni mattina.",
        "La stazione è lontana, prendiamo un taxi.",
        "Il museo apre alle nove e chiude alle sei.",
        "Ho comprato del pane fresco al mercato.",
        "Il treno per Firenze parte tra dieci minuti.",
        "Le montagne sono coperte di neve in inverno.",
        "Grazie mille, siete stati molto gentili.",
    ],
}


@dataclass
class LineCheck:
    text: str            # the written line, markup removed
    heard: str           # what Whisper heard
    detail: WerDetail

    @property
    def wer(self) -> float:
        return self.detail.wer


def hear_back(speech: Speech, line: str, transcriber: object | None = None) -> LineCheck:
    """Transcribe ``speech`` in its language and score it against ``line``."""
    from animstudio.voice.asr import get_transcriber

    samples = resample(speech.audio, speech.sample_rate, 16000)
    ears = transcriber or get_transcriber()
    heard = ears.transcribe(samples, language=speech.language or None).text  # type: ignore[attr-defined]
    text = plain_text(line)
    return LineCheck(text, heard, wer_detail(text, heard, speech.language or "en"))


def corpus_wer(checks: list[LineCheck]) -> float:
    """All word errors over all reference words."""
    words = sum(c.detail.reference_words for c in checks)
    return sum(c.detail.errors for c in checks) / max(1, words)


def check_voice(speak: Callable[[str], Speech], lines: list[str],
                on_progress: ProgressCallback = ignore) -> list[LineCheck]:
    """Each line spoken by ``speak`` and heard back, in order."""
    from animstudio.voice.asr import get_transcriber

    ears = get_transcriber()
    checks = []
    for i, line in enumerate(lines):
        on_progress(Progress("speak and hear back", i, len(lines), "lines"))
        checks.append(hear_back(speak(line), line, ears))
    on_progress(Progress("speak and hear back", len(lines), len(lines), "lines"))
    return checks


@dataclass
class CheckedSpeech:
    """A line spoken and heard back: the take kept (the last) and the check of every take."""

    speech: Speech
    checks: list[LineCheck]
    max_wer: float = MAX_WER

    @property
    def wers(self) -> list[float]:
        return [c.wer for c in self.checks]

    @property
    def wer(self) -> float:
        return self.checks[-1].wer

    @property
    def heard(self) -> str:
        return self.checks[-1].heard

    @property
    def passed(self) -> bool:
        return self.wer <= self.max_wer


def speak_checked(line: str, engine: TTSEngine | None = None, character: Character | None = None, *,
                  emotion: str = "neutral", voice: str | None = None, language: str | None = None,
                  base: Prosody | None = None, max_wer: float = MAX_WER, first: Speech | None = None,
                  transcriber: object | None = None,
                  on_retry: Callable[[LineCheck], None] | None = None) -> CheckedSpeech:
    """``line`` spoken (as ``character``, else by ``engine``; see :func:`~animstudio.voice.characters.say_line`)
    and heard back; a take with a word error rate above ``max_wer`` is spoken once more (``on_retry`` is told
    why first). The last take is kept, passed or not. ``first`` is a take already made (from a cache, say)
    to check before speaking anew."""
    from animstudio.voice.asr import get_transcriber
    from animstudio.voice.characters import say_line

    def speak() -> Speech:
        return say_line(line, engine, character, emotion=emotion, voice=voice, language=language, base=base)

    ears = transcriber or get_transcriber()
    speech = first if first is not None else speak()
    checks = [hear_back(speech, line, ears)]
    if checks[0].wer > max_wer:
        if on_retry is not None:
            on_retry(checks[0])
        speech = speak()
        checks.append(hear_back(speech, line, ears))
    return CheckedSpeech(speech, checks, max_wer)
