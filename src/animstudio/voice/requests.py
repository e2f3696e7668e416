"""What each voice command takes and gives back, declared once: the tools' argument schemas and the
CLI flags (:func:`animstudio.options.with_options`) both come from these models.

    SayRequest(text="Hello there", output="hi.wav", engine="espeak").rate     # 1.0
    SayRequest(text="Hi", output="hi.wav", rate=9)                           # ValidationError: rate <= 4
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from animstudio.files import suffixes
from animstudio.voice.base import Rate, Semitones
from animstudio.voice.dataset.options import DatasetOptions
from animstudio.voice.qa import MAX_WER


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


MaxWer = Annotated[float, Field(ge=0, le=1, description="the hearing check's limit: a line heard back with more "
                                                        "word errors than this (0-1) is spoken once more, then "
                                                        "flagged")]


class VoiceChoice(Request):
    """Who speaks: a character of the registry, or an engine and one of its voices."""

    character: str | None = Field(None, description="a character of the voice registry (characters.yaml; see "
                                                    "`animstudio voice voices`)")
    engine: str | None = Field(None, description="the TTS engine (default piper; see `animstudio voice voices`)")
    voice: str | None = Field(None, description="a voice of the engine (default: its first)")
    language: str | None = Field(None, description="language code (en, it...); default the voice's")


class _Line(Request):
    text: str = Field(min_length=1, description="the line to speak; markup: [excited], [pause 0.4], *stress*")
    output: Path = Field(description="the file to write: .wav, .flac, .ogg or .mp3",
                         json_schema_extra=suffixes(".wav", ".flac", ".ogg", ".mp3"))


class SayRequest(VoiceChoice, _Line):   # the last base's fields come first: text, output, then who speaks
    rate: Rate = Field(1.0, description="speaking rate (1 = the voice's own)")
    pitch: Semitones = Field(0.0, description="pitch shift, semitones")
    emotion: str = Field("neutral", description="how it is said: neutral, happy, sad, angry, excited, whisper, "
                                                "scared or sarcastic (markup in the text switches it: [excited])")
    url: str | None = Field(None, description="the GPT-SoVITS server (gpt-sovits engine)")
    cues: Path | None = Field(None, description="also write mouth cues: .tsv, .json (Rhubarb) or .dat (Moho)")
    check: bool = Field(False, description="transcribe the line back and score its word error rate; a line "
                                           "heard too wrong is spoken once more")
    max_wer: MaxWer = MAX_WER
    executor: str | None = Field(None, description="where the lines are spoken: local or ray (default: the "
                                                   "executor setting; ray.address names the cluster)")


class CheckRequest(VoiceChoice):
    lines: Path | None = Field(None, description="a UTF-8 file of lines to use instead of the sample lines, "
                                                 "one per line")


class BatchRequest(Request):
    script: Path = Field(description="lines to speak: .yaml, .csv or .srt")
    output: Path = Field(description="the folder for the WAVs, cues and the mixed track")
    check: bool = Field(False, description="transcribe each line back and record its word error rate; a line "
                                           "heard too wrong is spoken once more")
    max_wer: MaxWer = MAX_WER
    executor: str | None = Field(None, description="where the lines are spoken: local or ray (default: the "
                                                   "executor setting; ray.address names the cluster)")


class TranscribeRequest(Request):
    file: Path = Field(description="a recording or a video with sound")
    output: Path | None = Field(None, description="write here (.srt subtitles, the usual; .vtt for web players; "
                                                  ".json) instead of returning it")
    format: Literal["srt", "vtt", "json"] | None = Field(None, description="srt (subtitles, the usual), vtt (only "
                                                                           "for web players) or json; default: the "
                                                                           "output's suffix, else json")
    language: str | None = Field(None, description="language code (en, it...); default: detected")


class LipsyncRequest(Request):
    audio: Path = Field(description="the recording (any file with sound)")
    output: Path = Field(description="the cue file to write: .tsv, .json or .dat",
                         json_schema_extra=suffixes(".tsv", ".json", ".dat"))
    text: str | None = Field(None, description="what is said (better timing; English is force-aligned)")
    text_file: Path | None = Field(None, description="read what is said from this UTF-8 file")
    format: Literal["tsv", "json", "dat"] | None = Field(None, description="the cues' format (default: "
                                                                           "from the output's suffix)")
    language: str = Field("en", description="language code of the speech (en, it...)")
    preview: Path | None = Field(None, description="also render a preview video (.mp4)")
    shapes: Path | None = Field(None, description="a folder of mouth drawings for the preview (A.png ... F.png, "
                                                  "optional G, H, X)")


class _DatasetPaths(Request):
    input: Path = Field(description="a film, episode or recording with dialogue")
    output: Path = Field(description="the dataset folder to create (new or empty)")


class DatasetRequest(DatasetOptions, _DatasetPaths):   # input and output first, then how it is built
    def options(self) -> DatasetOptions:
        return DatasetOptions.model_validate(self.model_dump(exclude={"input", "output"}))


# ---------------------------------------------------------------- what the tools give back

class PhonemeTime(BaseModel):
    phoneme: str
    start: float
    end: float


class Hearing(BaseModel):
    heard: str = Field(description="what speech recognition heard in the take kept")
    wer: float = Field(description="its word error rate against the written line")
    attempts: list[float] = Field(description="the word error rate of each take (two when the first failed)")
    passed: bool = Field(description="whether the take kept is within max_wer")


class Said(BaseModel):
    output: str = Field(description="the speech written")
    duration_s: float
    sample_rate: int
    language: str
    phonemes: list[PhonemeTime] = Field(default_factory=list, description="phoneme timings, where the engine "
                                                                          "gives them")
    cues: str | None = Field(None, description="the mouth-cue file written")
    check: Hearing | None = Field(None, description="the hearing check, when asked for")


class BatchLine(BaseModel):
    """A line of a script, spoken (an entry of the folder's lines.json)."""

    index: int
    text: str
    character: str | None
    emotion: str
    start_s: float
    duration_s: float
    wav: str
    cues: str
    cached: bool = Field(description="whether the take came from the cache of lines spoken before")
    phonemes: list[PhonemeTime] = Field(default_factory=list)
    heard: str | None = Field(None, description="with check: what was heard of the take kept")
    wer: float | None = Field(None, description="with check: its word error rate")
    attempts: list[float] | None = Field(None, description="with check: the word error rate of each take")
    passed: bool | None = Field(None, description="with check: whether the take kept is within max_wer")

    def hearing(self) -> Hearing | None:
        if self.wer is None:
            return None
        return Hearing(heard=self.heard or "", wer=self.wer, attempts=self.attempts or [self.wer],
                       passed=bool(self.passed))


class Batch(BaseModel):
    folder: str
    mix: str = Field(description="every line at its start, in one track")
    manifest: str = Field(description="lines.json: each line's files, times and phonemes")
    duration_s: float
    sample_rate: int
    cached: int = Field(description="how many lines came from the cache")
    lines: list[BatchLine]


class TranscriptWord(BaseModel):
    start: float
    end: float
    word: str
    probability: float


class TranscriptSegment(BaseModel):
    start: float
    end: float
    text: str
    words: list[TranscriptWord] = Field(default_factory=list)


class Transcribed(BaseModel):
    text: str
    language: str
    duration_s: float
    segments: list[TranscriptSegment]
    output: str | None = Field(None, description="the transcript file written")
    subtitles: str | None = Field(None, description="the SRT or VTT text, when asked for without an output")


class MouthCue(BaseModel):
    start: float
    end: float
    shape: str = Field(description="A-H, or X at rest")


class Lipsynced(BaseModel):
    output: str
    duration_s: float
    cues: list[MouthCue]
    speaking: int = Field(description="cues with the mouth not at rest")
    preview: str | None = None


class DatasetSpeaker(BaseModel):
    name: str
    clips: int
    seconds: float
    rejected: int
    reference: str | None = None


class UnmatchedName(BaseModel):
    name: str
    reference: str = Field(description="the recording that was to name a speaker")
    closest: str | None = Field(description="the speaker most alike, though not enough")
    similarity: float


class DatasetBuilt(BaseModel):
    folder: str
    report: str = Field(description="report.json: every clip kept and stretch rejected, with reasons")
    training_list: str = Field(description="dataset.list: wav|speaker|language|text, for GPT-SoVITS training")
    clips: int
    seconds: float = Field(description="seconds of clips kept")
    rejected: int
    speakers: list[DatasetSpeaker]
    unmatched_names: list[UnmatchedName] = Field(default_factory=list, description="names whose recording "
                                                                                   "matched no speaker")
