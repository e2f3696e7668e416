"""The voice tools on real inputs (espeak-ng, Piper, Whisper, pocketsphinx, the dataset models), their schemas
and examples, bad arguments, `animstudio tools call voice.say`, and the hearing check's retry-once policy
with a scripted engine that mumbles its first take, heard by the real Whisper."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import ClassVar

import jsonschema
import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from animstudio import plugins
from animstudio.errors import InvalidInputError
from animstudio.hookspecs import hookimpl
from animstudio.tools import get_tool, tools
from animstudio.voice.base import Prosody, Speech, TTSEngine
from animstudio.voice.engines.espeak import EspeakEngine
from animstudio.voice.wer import wer
from conftest import SHARED_DATA, assert_bad_input, run_cli

VOICE_TOOLS = ("voice.say", "voice.batch", "voice.transcribe", "voice.lipsync", "voice.dataset")
JFK = SHARED_DATA / "speech" / "faster_whisper" / "jfk.flac"
JFK_TEXT = ("And so my fellow Americans, ask not what your country can do for you, ask what you can do for "
            "your country.")
LINE = "The train leaves at noon."
MUMBLED = "Bread and butter."


@pytest.fixture
def models(voice_warehouse, monkeypatch):
    monkeypatch.setenv("ANIMSTUDIO_MODELS", str(voice_warehouse))
    return voice_warehouse


def covers(cues: list, duration_s: float) -> None:
    """Cues that start at rest at 0, follow each other without a gap and end at rest at the audio's end."""
    assert cues[0].start == 0 and cues[0].shape == "X" and cues[-1].shape == "X"
    assert cues[-1].end == pytest.approx(duration_s, abs=0.002)
    assert all(b.start == a.end for a, b in zip(cues, cues[1:], strict=False))
    assert {c.shape for c in cues} <= set("ABCDEFGHX") and len({c.shape for c in cues}) >= 4


# -- the tools' contracts --------------------------------------------------------------------------------------

def test_every_voice_tool_is_registered_with_an_example_its_schema_accepts():
    found = tools()
    for name in VOICE_TOOLS:
        tool = found[name]
        jsonschema.validate(tool.example, tool.schema())
        assert tool.check(tool.example) and tool.describe()["result"]["type"] == "object"
        assert tool.schema()["additionalProperties"] is False
    assert found["voice.say"].schema()["properties"]["rate"]["exclusiveMinimum"] == 0.25
    from animstudio.voice.qa import MAX_WER

    assert {found[n].schema()["properties"]["max_wer"]["default"] for n in ("voice.say", "voice.batch")} == {MAX_WER}


@pytest.mark.parametrize("name,arguments,needle", [
    ("voice.say", {"text": 5, "output": "hi.wav"}, "invalid text 5"),
    ("voice.say", {"text": "Hi", "output": "hi.wav", "rate": "fast"}, "invalid rate 'fast'"),
    ("voice.say", {"text": "Hi", "output": "hi.wav", "rate": 9}, "invalid rate 9"),
    ("voice.say", {"text": "Hi", "output": "hi.wav", "loud": True}, "invalid loud"),
    ("voice.batch", {"script": ["a.yaml"], "output": "out"}, "invalid script"),
    ("voice.transcribe", {"file": "a.wav", "format": "doc"}, "invalid format 'doc'"),
    ("voice.lipsync", {"audio": "a.wav"}, "invalid output"),
    ("voice.dataset", {"input": "a.wav", "output": "d", "min_seconds": 12}, "above max_seconds"),
])
def test_a_wrong_argument_is_one_line_naming_it(tmp_path, monkeypatch, name, arguments, needle):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InvalidInputError) as caught:
        get_tool(name)(**arguments)
    assert needle in str(caught.value) and "\n" not in str(caught.value)
    assert [p.name for p in tmp_path.iterdir() if p.name != "studio-home"] == []


def test_the_voice_package_is_cheap_to_import_and_its_names_resolve():
    code = ("import sys, animstudio.voice as v; print(sorted(m for m in ('numpy', 'torch', 'faster_whisper') "
            "if m in sys.modules)); [getattr(v, n) for n in v.__all__]; print(len(v.__all__))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[0] == "[]" and int(out[1]) >= 50


def test_no_voice_command_writes_a_flag_its_model_declares():
    import inspect

    from animstudio.cli.voice import app

    for command in app.registered_commands:
        model = getattr(command.callback, "options_model", None)
        assert (model is None) == (command.name == "voices"), command.name
        if model is None:
            continue
        own = {p.name for p in inspect.signature(command.callback).parameters.values()
               if not p.name.startswith("opt__")}
        assert not own & set(model.model_fields) - {"text", "script", "file", "audio", "input"}, own


# -- each tool on real inputs ----------------------------------------------------------------------------------

def test_say_speaks_writes_cues_and_hears_the_line_back(models, tmp_path):
    said = get_tool("voice.say")(text="Hello there, my friend.", output=str(tmp_path / "hi.wav"), engine="espeak",
                                 cues=str(tmp_path / "hi.json"), check=True)
    info = sf.info(str(tmp_path / "hi.wav"))
    assert info.samplerate == said.sample_rate == 22050 and info.format == "WAV"
    assert 0.8 < info.duration < 3.0 and said.duration_s == pytest.approx(info.duration, abs=0.001)
    assert said.output == str(tmp_path / "hi.wav") and said.language == "en"
    assert said.check.wer <= 0.2 and said.check.passed and said.check.attempts == [said.check.wer]
    assert wer("Hello there, my friend.", said.check.heard) <= 0.2
    cues = json.loads((tmp_path / "hi.json").read_text())
    assert cues["metadata"] == {"soundFile": "hi.wav", "duration": round(said.duration_s, 2)}
    assert cues["mouthCues"][0]["start"] == 0 and cues["mouthCues"][-1]["end"] == pytest.approx(said.duration_s,
                                                                                                abs=0.01)


def test_say_with_piper_gives_phoneme_timings(models, tmp_path):
    said = get_tool("voice.say")(text="Bob may have a big balloon.", output=str(tmp_path / "b.flac"), rate=1.2)
    assert sf.info(str(tmp_path / "b.flac")).format == "FLAC" and said.sample_rate == 22050
    assert 0.8 < said.duration_s < 3.0 and len(said.phonemes) > 15 and said.check is None
    assert all(p.end > p.start for p in said.phonemes) and said.phonemes[-1].end <= said.duration_s


def test_batch_speaks_a_script_and_checks_every_line(models, tmp_path):
    script = tmp_path / "scene.yaml"
    script.write_text("lines:\n  - {engine: espeak, text: Good morning everybody., start: 0.5}\n"
                      f"  - {{engine: espeak, voice: en-us+klatt, text: {LINE}, emotion: sad}}\n", encoding="utf-8")
    batch = get_tool("voice.batch")(script=str(script), output=str(tmp_path / "out"), check=True)
    first, second = batch.lines
    assert first.start_s == 0.5 and second.start_s == pytest.approx(0.5 + first.duration_s + 0.3, abs=0.002)
    mix = sf.info(batch.mix)
    assert mix.samplerate == batch.sample_rate == 22050
    assert mix.duration == pytest.approx(second.start_s + second.duration_s, abs=0.01) == batch.duration_s
    for line in batch.lines:
        assert sf.info(line.wav).duration == pytest.approx(line.duration_s, abs=0.002)
        assert line.passed and line.wer <= 0.2 and line.attempts == [line.wer]
        assert len(line.phonemes) > 8 and line.phonemes[-1].end <= line.duration_s
        assert json.loads(open(line.cues, encoding="utf-8").read())["mouthCues"][-1]["value"] == "X"
    manifest = json.loads(open(batch.manifest, encoding="utf-8").read())
    assert [x["passed"] for x in manifest["lines"]] == [True, True]
    assert get_tool("voice.batch")(script=str(script), output=str(tmp_path / "again")).cached == 2


def test_transcribe_returns_words_and_writes_subtitles(models, tmp_path, shared_data):
    result = get_tool("voice.transcribe")(file=str(JFK), language="en")
    assert wer(JFK_TEXT, result.text) <= 0.05 and result.language == "en"
    assert result.duration_s == pytest.approx(11.0, abs=0.01) and result.output is None and result.subtitles is None
    words = [w for s in result.segments for w in s.words]
    assert len(words) >= 20 and words[0].start >= 0 and words[-1].end <= result.duration_s
    srt = get_tool("voice.transcribe")(file=str(JFK), output=str(tmp_path / "jfk.srt"))
    assert srt.output == str(tmp_path / "jfk.srt") and "-->" in (tmp_path / "jfk.srt").read_text(encoding="utf-8")
    vtt = get_tool("voice.transcribe")(file=str(JFK), format="vtt")
    assert vtt.subtitles.startswith("WEBVTT") and "ask not" in vtt.subtitles


def test_lipsync_cues_cover_the_recording(models, tmp_path, shared_data):
    pytest.importorskip("pocketsphinx")
    result = get_tool("voice.lipsync")(audio=str(JFK), output=str(tmp_path / "jfk.tsv"), text=JFK_TEXT)
    covers(result.cues, 11.0)
    assert result.duration_s == pytest.approx(11.0, abs=0.01) and result.speaking >= 40
    rows = (tmp_path / "jfk.tsv").read_text().splitlines()
    assert len(rows) == len(result.cues) and rows[0] == "0.00\tX"
    spoken = EspeakEngine().synthesize(LINE).write(tmp_path / "line.wav")
    heard = get_tool("voice.lipsync")(audio=str(spoken), output=str(tmp_path / "line.dat"))   # no text: recognised
    covers(heard.cues, sf.info(str(spoken)).duration)
    assert (tmp_path / "line.dat").read_text().startswith("MohoSwitch1\n1 X\n")


def test_dataset_builds_named_speakers(tmp_path, tmp_path_factory, monkeypatch, shared_data):
    pytest.importorskip("torch")
    from animstudio.media import decode_audio
    from conftest import installed_warehouse

    speech = SHARED_DATA / "speech" / "faster_whisper"
    left, right = speech / "derived_stereo_diarization_left.wav", speech / "derived_stereo_diarization_right.wav"
    monkeypatch.setenv("ANIMSTUDIO_MODELS", str(installed_warehouse(
        tmp_path_factory, "whisper-base", "silero-vad", "resemblyzer-encoder")))
    turns = tmp_path / "turns.wav"
    sf.write(turns, np.concatenate([decode_audio(right, 16000)[0], np.zeros(8000, np.float32),
                                    decode_audio(left, 16000)[0]]), 16000, subtype="PCM_16")
    built = get_tool("voice.dataset")(input=str(turns), output=str(tmp_path / "voices"), min_seconds=1.0,
                                      language="en", names={"wizard": str(left), "horizon": str(right)})
    assert [(s.name, s.reference) for s in built.speakers] == [("wizard", str(left)), ("horizon", str(right))]
    assert built.clips >= 2 and built.unmatched_names == [] and built.seconds > 4
    report = json.loads(open(built.report, encoding="utf-8").read())
    texts = {c["speaker"]: c["text"] for c in report["clips"]}
    assert wer("The horizon seems extremely distant.", texts["horizon"]) <= 0.05
    assert [row.split("|")[1] for row in open(built.training_list, encoding="utf-8").read().splitlines()] == [
        "wizard", "horizon"]


# -- the command line ------------------------------------------------------------------------------------------

def test_tools_call_voice_say_writes_a_wav(voice_warehouse, tmp_path):
    env = {"ANIMSTUDIO_MODELS": str(voice_warehouse)}
    proc = run_cli("tools", "call", "voice.say", "--args", '{"text": "Hello there", "output": "hi.wav"}', env=env,
                   cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    said = json.loads(proc.stdout)
    info = sf.info(str(tmp_path / "hi.wav"))
    assert said["output"] == "hi.wav" and info.samplerate == said["sample_rate"] == 22050
    assert 0.4 < info.duration < 2.0 and said["duration_s"] == pytest.approx(info.duration, abs=0.001)
    bad = run_cli("tools", "call", "voice.say", "--args", '{"text": "Hello there", "output": "x.wav", "rate": "fast"}',
                  env=env, cwd=tmp_path)
    [line] = assert_bad_input(bad, "invalid rate 'fast'", code=2)
    assert not (tmp_path / "x.wav").exists()


# -- speak, hear back, speak again once ------------------------------------------------------------------------

class MumbleEngine(TTSEngine):
    """espeak-ng that mumbles the first takes of every line (it says something else), then speaks it."""

    name = "mumble"

    class Options(TTSEngine.Options):
        mumbled_takes: int = 1

    takes: ClassVar[dict[str, int]] = {}

    def voices(self) -> dict[str, tuple[str, ...]]:
        return {"en-us": ("en",)}

    def synthesize(self, text: str, voice: str | None = None, prosody: Prosody | None = None,
                   language: str | None = None) -> Speech:
        key = f"{self.options.mumbled_takes}:{text}"
        self.takes[key] = self.takes.get(key, 0) + 1
        said = MUMBLED if self.takes[key] <= self.options.mumbled_takes else text
        return EspeakEngine().synthesize(said, voice="en-us", prosody=prosody)


class MumblePlugin:
    @hookimpl
    def register_tts_engines(self, register):  # type: ignore[no-untyped-def]
        register(MumbleEngine)


@pytest.fixture
def mumble(models):
    MumbleEngine.takes.clear()
    plugins.register_module(MumblePlugin(), name="mumble")
    return MumbleEngine


def test_a_line_heard_wrong_is_spoken_once_more(mumble):
    from animstudio.voice import speak_checked

    retried = []
    taken = speak_checked(LINE, mumble(), on_retry=retried.append)
    assert taken.wers[0] == 1.0 and taken.wers[1] <= 0.2 and taken.passed
    assert wer(LINE, taken.heard) <= 0.2 and retried == taken.checks[:1]
    never = speak_checked(LINE, mumble(mumbled_takes=5))
    assert len(never.wers) == 2 and min(never.wers) >= 0.8 and not never.passed
    clean = speak_checked(LINE, EspeakEngine())
    assert len(clean.wers) == 1 and clean.passed


def test_say_check_and_the_cli_use_the_policy(mumble, tmp_path):
    said = get_tool("voice.say")(text=LINE, output=str(tmp_path / "a.wav"), engine="mumble", check=True)
    assert said.check.attempts[0] >= 0.8 and said.check.attempts[1] == said.check.wer <= 0.2 and said.check.passed
    assert sf.info(str(tmp_path / "a.wav")).duration == pytest.approx(said.duration_s, abs=0.001)
    from animstudio.cli.voice import app

    mumble.takes.clear()
    result = CliRunner().invoke(app, ["say", LINE, "-e", "mumble", "-o", str(tmp_path / "b.wav"), "--check",
                                      "--max-wer", "0.5"])
    assert result.exit_code == 0, result.output
    assert "on a second take (the first: 100%)" in result.output and "listen to it" not in result.output


def test_parody_voices_step_speaks_again_once_and_flags_what_still_fails(mumble, studio_home, tmp_path):
    from animstudio.jobs.runner import Context
    from animstudio.pipelines.parody import Parody, step_voices

    studio_home.mkdir(parents=True, exist_ok=True)
    (studio_home / "characters.yaml").write_text("characters:\n  rex: {engine: mumble}\n"
                                                 "  bob: {engine: mumble, options: {mumbled_takes: 2}}\n")
    (tmp_path / "job").mkdir()
    (tmp_path / "job" / "plan.json").write_text(json.dumps({"title": "t", "shots": [
        {"shot": 0, "lines": [{"speaker": "rex", "text": LINE}]},
        {"shot": 3, "lines": [{"speaker": "bob", "text": LINE, "emotion": "sad"}]}]}))
    ctx = Context(folder=tmp_path / "job", params=Parody.Options(clip="clip.mp4"), step="voices")
    assert step_voices(ctx) == {"voices": "voices.json", "lines": 2, "failed": 1}
    rex, bob = json.loads((tmp_path / "job" / "voices.json").read_text())
    assert len(rex["wer"]) == 2 and rex["wer"][1] <= 0.2 and rex["passed"] and wer(LINE, rex["heard"]) <= 0.2
    assert len(bob["wer"]) == 2 and min(bob["wer"]) >= 0.8 and not bob["passed"]
    assert sf.info(str(tmp_path / "job" / rex["wav"])).duration == pytest.approx(rex["duration_s"], abs=0.001)
    assert [d["decision"] for d in ctx.decisions] == [
        "shot 0 line 1 heard back with WER 100%: spoken again",
        "shot 3 line 1 heard back with WER 100%: spoken again",
        f"shot 3 line 1 failed the WER gate ({bob['wer'][1]:.0%}): kept, flagged"]
