"""Phoneme timings for any recording, in IPA, so :func:`animstudio.voice.lipsync.mouth_cues` can draw it.

Three ways, best first:

- English with its text: forced alignment with PocketSphinx (its US English acoustic model and
  CMU dictionary). Words the dictionary lacks get espeak-ng's pronunciation, turned into ARPAbet.
- Another language with its text: speech recognition finds the words' times; each word's
  espeak-ng phonemes (from the given text where the word counts match) are spread over its span.
- No text: the same, with the recognised words.

    phonemes = phoneme_timings("line.wav", "Ask not what your country can do for you.")
    cues = mouth_cues(phonemes, duration_s)
"""

from __future__ import annotations

import logging
import os
import re
import unicodedata
from typing import Any

import numpy as np

from animstudio.errors import InvalidInputError, MissingDependencyError
from animstudio.voice.asr import load_samples
from animstudio.voice.base import Timed

log = logging.getLogger(__name__)

RATE = 16000                      # PocketSphinx's model and Whisper both want 16 kHz mono
FRAME_S = 0.01                    # PocketSphinx times are in 10 ms frames
DIPHTHONG_SPLIT = 0.6             # share of a diphthong given to its first, more open part
VOWEL_WEIGHT = 2.0                # spreading a word's phonemes: a vowel lasts this many consonants

# ARPAbet (CMU dictionary, PocketSphinx's en-us model) -> General American IPA. Diphthongs are two
# phonemes, because the mouth moves through two shapes (AY: wide open, then teeth together).
ARPABET_IPA: dict[str, tuple[str, ...]] = {
    "AA": ("ɑ",), "AE": ("æ",), "AH": ("ʌ",), "AO": ("ɔ",), "AW": ("a", "ʊ"), "AX": ("ə",), "AXR": ("ɚ",),
    "AY": ("a", "ɪ"), "EH": ("ɛ",), "ER": ("ɚ",), "EY": ("e", "ɪ"), "IH": ("ɪ",), "IX": ("ɨ",), "IY": ("i",),
    "OW": ("o", "ʊ"), "OY": ("ɔ", "ɪ"), "UH": ("ʊ",), "UW": ("u",),
    "B": ("b",), "CH": ("tʃ",), "D": ("d",), "DH": ("ð",), "DX": ("ɾ",), "F": ("f",), "G": ("ɡ",), "HH": ("h",),
    "JH": ("dʒ",), "K": ("k",), "L": ("l",), "M": ("m",), "N": ("n",), "NG": ("ŋ",), "P": ("p",), "R": ("ɹ",),
    "S": ("s",), "SH": ("ʃ",), "T": ("t",), "TH": ("θ",), "V": ("v",), "W": ("w",), "Y": ("j",), "Z": ("z",),
    "ZH": ("ʒ",),
}   # SIL and the noise fillers are pauses: no phoneme, so the mouth rests (X)

# espeak-ng's English IPA -> the ARPAbet the acoustic model knows (for words the dictionary lacks)
IPA_ARPABET: dict[str, str] = {
    "ɑ": "AA", "ɒ": "AA", "æ": "AE", "a": "AE", "ʌ": "AH", "ə": "AH", "ɐ": "AH", "ɔ": "AO", "aʊ": "AW",
    "aɪ": "AY", "ɛ": "EH", "e": "EH", "ɚ": "ER", "ɝ": "ER", "ɜ": "ER", "eɪ": "EY", "ɪ": "IH", "ᵻ": "IH",
    "ɨ": "IH", "i": "IY", "oʊ": "OW", "o": "OW", "əʊ": "OW", "ɔɪ": "OY", "ʊ": "UH", "u": "UW", "ʉ": "UW",
    "b": "B", "tʃ": "CH", "d": "D", "ð": "DH", "f": "F", "ɡ": "G", "g": "G", "h": "HH", "dʒ": "JH", "k": "K",
    "l": "L", "ɫ": "L", "m": "M", "n": "N", "ŋ": "NG", "p": "P", "ɹ": "R", "r": "R", "ɾ": "T", "ʔ": "T",
    "s": "S", "ʃ": "SH", "t": "T", "θ": "TH", "v": "V", "w": "W", "j": "Y", "z": "Z", "ʒ": "ZH", "x": "K",
    "ç": "HH", "ɬ": "L",
}
VOWELS = set("aeiouyæɑɒɐɔəɘɚɛɜɝɞɤɨɪɯɵøœɶʉʊʌʏᵻ")
WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


class AlignmentError(InvalidInputError):
    """The text could not be aligned with the recording (they differ, or the speech is unclear)."""


# ---------------------------------------------------------------- audio



def check_speech(samples: np.ndarray, what: str = "the recording") -> None:
    """A plain error for audio with nothing to lip-sync (empty, or never above -60 dBFS)."""
    from animstudio.voice.asr import SILENCE_PEAK

    if len(samples) < RATE * 0.05 or float(np.max(np.abs(samples))) < SILENCE_PEAK:
        raise InvalidInputError(f"{what} holds no speech (it is silent or shorter than 50 ms); "
                                f"pass a recording of the line")


def words_of(text: str) -> list[str]:
    """The words of ``text``, lower-cased, punctuation dropped (apostrophes inside words kept)."""
    return [w.replace("’", "'") for w in WORD.findall(text.lower())]


# ---------------------------------------------------------------- forced alignment (English)


def _decoder(cmn: str = "batch") -> Any:
    """A fresh decoder with the packaged en-us model and dictionary (0.3 s to load). Fresh each time:
    a decoder carries its cepstral mean from one recording into the next, so results would depend on
    what was aligned before."""
    try:
        from pocketsphinx import Decoder
    except ImportError as exc:
        raise MissingDependencyError.for_extra("pocketsphinx", "voice", "Forced alignment") from exc
    return Decoder(lm=None, samprate=RATE, cmn=cmn, loglevel="FATAL")


def _arpabet(word: str) -> str:
    """ARPAbet for a word the dictionary lacks, from espeak-ng's letter-to-sound rules."""
    from animstudio.voice.phonemize import phonemes

    phones = []
    for ph in (p for w in phonemes(word, "en") for p in w):
        base = _strip_marks(ph)
        if base in IPA_ARPABET:
            phones.append(IPA_ARPABET[base])
        else:   # a sequence espeak writes as one phoneme but we know by its parts (e.g. 'iə')
            phones.extend(IPA_ARPABET[ch] for ch in base if ch in IPA_ARPABET)
    return " ".join(phones)


def _strip_marks(phoneme: str) -> str:
    """A phoneme without stress, length or combining marks (syllabic n̩ -> n)."""
    base = "".join(ch for ch in unicodedata.normalize("NFD", phoneme) if unicodedata.category(ch) != "Mn")
    return base.replace("ˈ", "").replace("ˌ", "").replace("ː", "").replace("ˑ", "").strip()


def _add_missing_words(decoder: Any, words: list[str]) -> None:
    missing = [w for w in dict.fromkeys(words) if decoder.lookup_word(w) is None]
    if not missing:
        return
    try:
        guesses = {w: _arpabet(w) for w in missing}
    except MissingDependencyError as exc:
        raise MissingDependencyError(f"the words {', '.join(missing)} are not in the pronunciation dictionary and "
                                     f"their pronunciation is guessed with espeak-ng: {exc}") from exc
    unsayable = [w for w, phones in guesses.items() if not phones]
    if unsayable:
        raise InvalidInputError(f"cannot tell how to pronounce {', '.join(unsayable)}; spell those words out "
                                f"in the text")
    for w, phones in guesses.items():
        log.info("pronouncing %r as %s (not in the dictionary)", w, phones)
        decoder.add_word(w, phones, True)


def forced_alignment(audio: str | os.PathLike[str] | np.ndarray, text: str) -> list[Timed]:
    """Phoneme timings of an English recording of ``text`` (a media file, or 16 kHz mono float samples).

    Every word of the text is placed in the audio; pauses between words are left out (the mouth
    rests there). Raises :class:`AlignmentError` when the text does not fit the recording."""
    words = words_of(text)
    if not words:
        raise InvalidInputError("the text has no words; pass what is said in the recording")
    samples = load_samples(audio)
    check_speech(samples)
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes()
    decoder = _decoder()
    _add_missing_words(decoder, words)
    try:
        decoder.set_align_text(" ".join(words))
        for second_pass in (False, True):   # words first, then phones and states within them
            if second_pass:
                decoder.set_alignment()
            decoder.start_utt()
            decoder.process_raw(pcm, full_utt=True)
            decoder.end_utt()
        alignment = decoder.get_alignment()
    except RuntimeError as exc:
        raise AlignmentError("the text could not be aligned with the recording; check that it is what is "
                             "said, in English, or leave the text out to use speech recognition") from exc
    if alignment is None:
        raise AlignmentError("the text could not be aligned with the recording; check that it is what is said")
    out: list[Timed] = []
    for phone in alignment.phones():
        ipa = ARPABET_IPA.get(phone.name)
        if ipa is None:   # SIL, noise: a pause
            continue
        start, end = phone.start * FRAME_S, (phone.start + phone.duration) * FRAME_S
        if len(ipa) == 1:
            out.append(Timed(ipa[0], round(start, 3), round(end, 3)))
        else:
            mid = start + (end - start) * DIPHTHONG_SPLIT
            out += [Timed(ipa[0], round(start, 3), round(mid, 3)), Timed(ipa[1], round(mid, 3), round(end, 3))]
    return out


# ---------------------------------------------------------------- any language: word timings


def _is_vowel(phoneme: str) -> bool:
    return any(ch in VOWELS for ch in _strip_marks(phoneme))


def from_words(words: list[Timed], language: str = "en") -> list[Timed]:
    """Phoneme timings from word timings: each word's espeak-ng phonemes spread over its span.

    A vowel is given ``VOWEL_WEIGHT`` times a consonant's share. A word espeak-ng cannot say
    (punctuation alone) gives no phonemes; its span stays at rest."""
    from animstudio.voice.phonemize import _run, espeak_voice

    spoken = [(w, " ".join(words_of(w.text))) for w in words if w.end_s > w.start_s]
    spoken = [(w, t) for w, t in spoken if t]
    if not spoken:
        return []
    answers = _run([t for _, t in spoken], espeak_voice(language), "_")
    out: list[Timed] = []
    for (word, _), answer in zip(spoken, answers, strict=True):
        phones = [p for piece in answer.split() for p in piece.split("_") if p and _strip_marks(p)]
        if not phones:
            continue
        weights = np.array([VOWEL_WEIGHT if _is_vowel(p) else 1.0 for p in phones])
        edges = word.start_s + (word.end_s - word.start_s) * np.concatenate([[0.0], np.cumsum(weights)]) / weights.sum()
        out += [Timed(p, round(float(a), 3), round(float(b), 3)) for p, a, b in zip(phones, edges, edges[1:],
                                                                                      strict=False)]
    return out


def recognised_words(samples: np.ndarray, language: str | None) -> list[Timed]:
    """Word timings from speech recognition (faster-whisper, the catalog's whisper-base)."""
    from animstudio.voice.asr import get_transcriber

    transcript = get_transcriber().transcribe(samples, language=language)
    return [Timed(w.text, w.start_s, w.end_s) for s in transcript.segments for w in s.words if words_of(w.text)]


# ---------------------------------------------------------------- the dispatcher


def phoneme_timings(audio: str | os.PathLike[str] | np.ndarray, text: str | None = None,
                    language: str = "en") -> list[Timed]:
    """IPA phoneme timings of a recording, the best way its language and text allow.

    English with text: forced alignment (if the text does not fit the recording, the recognised
    words' times are used with the text as below). Other languages with text: recognised word
    times, labelled with the text's words when there are as many, else with the recognised words.
    No text: the recognised words."""
    samples = load_samples(audio)
    check_speech(samples)
    language = (language or "en").lower().split("-")[0]
    if text is not None and not words_of(text):
        raise InvalidInputError("the text has no words; pass what is said, or leave the text out to recognise it")
    if text is not None and language == "en":
        try:
            return forced_alignment(samples, text)
        except AlignmentError as exc:
            log.warning("%s; using recognised word times instead", exc)
    words = recognised_words(samples, language)
    if not words:
        raise InvalidInputError("no speech was recognised in the recording; pass a recording of the line")
    if text is not None:
        given = words_of(text)
        if len(given) == len(words):
            words = [Timed(g, w.start_s, w.end_s) for g, w in zip(given, words, strict=True)]
        else:
            log.info("the text has %d words but %d were recognised; using the recognised words",
                     len(given), len(words))
    return from_words(words, language)

