"""The voice registry: who speaks how. A character names an engine, a voice, a language, a base
prosody, and for cloning engines a reference clip and its transcript per emotion.

Characters are read from ``characters.yaml`` in the studio home, then from ``characters.yaml`` in
the current project folder (a project's entry replaces the home's of the same name):

    characters:
      narrator: {engine: piper, voice: en_US-joe-medium}
      giulia:   {engine: kokoro, voice: jf_alpha, language: it, prosody: {rate: 1.05}}
      rick:
        engine: gpt-sovits
        language: en
        options: {url: "http://gpu-box:9880"}
        gpt_weights: GPT_weights_v2/rick-e15.ckpt
        sovits_weights: SoVITS_weights_v2/rick_e8_s200.pth
        emotions:
          neutral: {ref_audio: /data/rick/calm.wav, prompt_text: "Listen, Morty, I know it's hard."}
          angry:   {ref_audio: /data/rick/shout.wav, prompt_text: "Get in the car!"}

    speech = say_as(load_characters()["giulia"], "[excited] Guarda! [pause 0.3] *Che bello*.")
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from animstudio.errors import InvalidInputError, invalid_input
from animstudio.voice.base import Prosody, Speech, TTSEngine

FILE_NAME = "characters.yaml"


class EmotionReference(BaseModel):
    """A clip of the character in one mood, for engines that clone a voice from a reference."""

    model_config = ConfigDict(extra="forbid")
    ref_audio: str
    prompt_text: str = Field("", description="what is said in ref_audio")
    prompt_lang: str | None = Field(None, description="its language; default the character's")
    aux_ref_audio: list[str] = Field(default_factory=list, description="more clips whose timbre is blended in")


class Character(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = ""
    engine: str = "piper"
    voice: str | None = None
    language: str | None = None
    prosody: Prosody = Field(default_factory=Prosody)
    options: dict[str, Any] = Field(default_factory=dict, description="the engine's options (url, ...)")
    gpt_weights: str | None = None
    sovits_weights: str | None = None
    emotions: dict[str, EmotionReference] = Field(default_factory=dict)
    source: str = Field("", exclude=True)

    def reference_voice(self, emotion: str) -> str:
        """The name under which the engine knows this character in ``emotion`` (neutral, else the first,
        when the character has no clip for it)."""
        if not self.emotions:
            raise InvalidInputError(f"character {self.name!r} ({self.source}) uses {self.engine}, which clones a "
                                    "voice from a reference clip: give it `emotions: {neutral: {ref_audio: ..., "
                                    "prompt_text: ...}}`")
        chosen = emotion if emotion in self.emotions else "neutral" if "neutral" in self.emotions \
            else next(iter(self.emotions))
        return f"{self.name}:{chosen}"


def registry_files(project: str | os.PathLike[str] | None = None) -> list[Path]:
    from animstudio.config import load_settings

    candidates = [load_settings().home / FILE_NAME, Path(project or Path.cwd()) / FILE_NAME]
    return [p for p in candidates if p.is_file()]


def load_characters(files: list[Path] | None = None) -> dict[str, Character]:
    """Every character of the registry files, later files replacing earlier ones by name."""
    import yaml

    found: dict[str, Character] = {}
    for path in registry_files() if files is None else files:
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise InvalidInputError(f"{path}: not a readable YAML file ({str(exc).splitlines()[0]})") from exc
        entries = data.get("characters") if isinstance(data, dict) else None
        if not isinstance(entries, dict):
            raise InvalidInputError(f"{path}: expected a top-level `characters:` mapping of name -> voice")
        for name, entry in entries.items():
            try:
                found[str(name)] = Character.model_validate({**(entry or {}), "name": str(name), "source": str(path)})
            except ValidationError as exc:
                raise invalid_input(exc, f"{path}: character {name!r}") from exc
    return found


def registry() -> dict[str, list[dict[str, Any]] | list[str]]:
    """What can speak: each engine's voices with their languages, the characters of the voice
    registry, and the emotions a line may be said in."""
    from animstudio.plugins import backends
    from animstudio.voice.prosody import PRESETS

    voices = [{"engine": name, "voice": v, "language": ", ".join(langs)}
              for name, cls in sorted(backends("tts_engine").items()) for v, langs in sorted(cls().voices().items())]
    characters = [{"character": c.name, "engine": c.engine, "voice": c.voice or "", "language": c.language or "",
                   "emotions": sorted(c.emotions), "source": c.source} for c in load_characters().values()]
    return {"voices": voices, "characters": characters, "emotions": list(PRESETS)}


def get_character(name: str, characters: dict[str, Character] | None = None) -> Character:
    characters = load_characters() if characters is None else characters
    if name not in characters:
        where = ", ".join(str(p) for p in registry_files()) or f"no {FILE_NAME} in the studio home or this folder"
        raise InvalidInputError(f"unknown character {name!r}; known characters: "
                                f"{', '.join(sorted(characters)) or 'none'} ({where})")
    return characters[name]


def _clones(engine_cls: type[TTSEngine], character: Character) -> bool:
    """Whether the engine takes reference clips as its voices and the character has clips to give."""
    return "voices" in engine_cls.Options.model_fields and bool(character.emotions)


def voice_of(character: Character, engine: TTSEngine, emotion: str) -> str | None:
    """The voice name ``engine`` knows the character by in ``emotion``."""
    return character.reference_voice(emotion) if _clones(type(engine), character) else character.voice


def engine_for(character: Character) -> TTSEngine:
    """The character's engine, with its options and, for cloning engines, its reference clips as voices."""
    from animstudio.plugins import get_backend

    cls = get_backend("tts_engine", character.engine)
    options = dict(character.options)
    if _clones(cls, character):
        lang = character.language or "en"
        options["voices"] = {f"{character.name}:{emotion}": {
            "ref_audio_path": ref.ref_audio, "prompt_text": ref.prompt_text, "prompt_lang": ref.prompt_lang or lang,
            "aux_ref_audio_paths": ref.aux_ref_audio, "gpt_weights": character.gpt_weights,
            "sovits_weights": character.sovits_weights, "languages": (lang,),
        } for emotion, ref in character.emotions.items()} | options.get("voices", {})
    return cls(options)


def say_as(character: Character, line: str, emotion: str = "neutral", engine: TTSEngine | None = None) -> Speech:
    """``line`` (with its markup) in the character's voice, language and base prosody."""
    from animstudio.voice.prosody import speak

    engine = engine or engine_for(character)
    return speak(engine, line, voice=voice_of(character, engine, emotion), emotion=emotion, base=character.prosody,
                 language=character.language)


def say_line(line: str, engine: TTSEngine | None = None, character: Character | None = None, emotion: str = "neutral",
             voice: str | None = None, language: str | None = None, base: Prosody | None = None) -> Speech:
    """``line`` as ``character`` says it (see :func:`say_as`), else spoken by ``engine`` with ``voice``,
    ``language`` and ``base`` prosody.

        say_line("[sad] Gone.", engine=get_backend("tts_engine", "espeak")(), voice="en-us")
    """
    if character is not None:
        return say_as(character, line, emotion=emotion, engine=engine)
    if engine is None:
        raise InvalidInputError("say_line needs an engine or a character to speak with")
    from animstudio.voice.prosody import speak

    return speak(engine, line, voice=voice, emotion=emotion, base=base, language=language)
