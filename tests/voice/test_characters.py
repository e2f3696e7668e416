"""The voice registry and scripts of lines: characters keep their voice, emotions pick a cloning
engine's reference clip, a script becomes per-line WAVs, cues and one track placed at start times."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
from sovits_server import running_sovits, voice

from animstudio.errors import InvalidInputError
from animstudio.voice.batch import read_script, speak_script
from animstudio.voice.characters import engine_for, get_character, load_characters, say_as
from conftest import run_cli

REGISTRY = """
characters:
  narrator: {engine: espeak, voice: en-us, prosody: {rate: 1.2}}
  giulia: {engine: espeak, voice: it+f3, language: it}
"""


@pytest.fixture
def project(tmp_path, monkeypatch, studio_home):
    studio_home.mkdir(parents=True, exist_ok=True)
    (studio_home / "characters.yaml").write_text(REGISTRY, encoding="utf-8")
    (tmp_path / "characters.yaml").write_text("characters:\n  narrator: {engine: espeak, voice: en-gb}\n",
                                              encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_project_entries_replace_the_homes(project):
    characters = load_characters()
    assert characters["narrator"].voice == "en-gb" and characters["giulia"].language == "it"
    with pytest.raises(InvalidInputError, match="known characters: giulia, narrator"):
        get_character("bob", characters)


def test_a_character_speaks_in_its_language_and_base_prosody(project):
    giulia = load_characters()["giulia"]
    speech = say_as(giulia, "[happy] Che bella giornata!")
    assert speech.language == "it"
    fast = say_as(giulia.model_copy(update={"prosody": giulia.prosody.model_copy(update={"rate": 1.6})}),
                  "[happy] Che bella giornata!")
    assert fast.duration_s < speech.duration_s * 0.8


def test_bad_registries_say_where(tmp_path, studio_home):
    bad = tmp_path / "characters.yaml"
    bad.write_text("characters:\n  rex: {engine: piper, speed: 2}\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="character 'rex': invalid speed 2: extra inputs"):
        load_characters([bad])
    bad.write_text("- just a list\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="top-level `characters:`"):
        load_characters([bad])


def test_a_cloned_character_uses_the_clip_of_each_emotion(tmp_path, studio_home):
    calm, shout = tmp_path / "calm.wav", tmp_path / "shout.wav"
    sf.write(calm, voice(4.0, 32000), 32000)
    sf.write(shout, voice(4.0, 32000), 32000)
    gpt, sovits = tmp_path / "rick.ckpt", tmp_path / "rick.pth"
    gpt.write_bytes(b"gpt")
    sovits.write_bytes(b"sovits")
    with running_sovits() as server:
        (tmp_path / "characters.yaml").write_text(json.dumps({"characters": {"rick": {
            "engine": "gpt-sovits", "language": "en", "options": {"url": server.url},
            "gpt_weights": str(gpt), "sovits_weights": str(sovits),
            "emotions": {"neutral": {"ref_audio": str(calm), "prompt_text": "Listen to me."},
                         "angry": {"ref_audio": str(shout), "prompt_text": "Get in the car!"}}}}}),
            encoding="utf-8")
        rick = load_characters([tmp_path / "characters.yaml"])["rick"]
        engine = engine_for(rick)
        say_as(rick, "Fine.", emotion="angry", engine=engine)
        say_as(rick, "Fine.", emotion="sad", engine=engine)   # no clip for sad: the neutral one
        sent = [r.params for r in server.requests if r.path == "/tts"]
        assert [b["ref_audio_path"] for b in sent] == [str(shout), str(calm)]
        assert sent[0]["prompt_text"] == "Get in the car!" and sent[0]["text_lang"] == "en"
        weights = [r.params for r in server.requests if r.path == "/set_gpt_weights"]
        assert weights == [{"weights_path": str(gpt)}]   # loaded once for both lines


def test_scripts_in_yaml_csv_and_srt(tmp_path):
    (tmp_path / "a.csv").write_text("character,text,emotion,start\ngiulia,Ciao!,happy,1.5\n,Hello.,,\n",
                                    encoding="utf-8")
    lines = read_script(tmp_path / "a.csv")
    assert (lines[0].character, lines[0].emotion, lines[0].start_s) == ("giulia", "happy", 1.5)
    assert (lines[1].character, lines[1].start_s) == (None, None)
    (tmp_path / "b.srt").write_text("1\n00:00:02,500 --> 00:00:04,000\nNarrator: It was late.\n\n"
                                    "2\n00:00:05,000 --> 00:00:06,000\nNobody here.\n", encoding="utf-8")
    lines = read_script(tmp_path / "b.srt")
    assert [(x.character, x.text, x.start_s) for x in lines] == [("Narrator", "It was late.", 2.5),
                                                                (None, "Nobody here.", 5.0)]
    (tmp_path / "c.yaml").write_text("lines:\n  - {text: Hi, start: -1}\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="before the start"):
        read_script(tmp_path / "c.yaml")
    (tmp_path / "d.yaml").write_text("lines:\n  - {txt: Hi}\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="needs `text`"):
        read_script(tmp_path / "d.yaml")


def test_batch_places_lines_and_caches_them(project):
    script = project / "scene.yaml"
    script.write_text("lines:\n"
                      "  - {character: narrator, text: It was a quiet morning., start: 1.0}\n"
                      "  - {character: giulia, text: '[excited] Guarda!', emotion: happy}\n"
                      "  - {engine: espeak, voice: en-us+klatt, text: Beep., start: 6.0}\n", encoding="utf-8")
    result = speak_script(script, project / "out")
    first, second, third = result.lines
    assert first.start_s == 1.0 and third.start_s == 6.0
    assert second.start_s == pytest.approx(first.start_s + first.duration_s + 0.3, abs=0.002)
    mix, rate = sf.read(result.mix)
    assert len(mix) / rate == pytest.approx(6.0 + third.duration_s, abs=0.01)
    loud = np.abs(mix) > 0.02
    assert not loud[: int(0.95 * rate)].any() and loud[int(1.0 * rate): int(1.6 * rate)].any()
    for line in result.lines:
        cues = json.loads(open(line.cues, encoding="utf-8").read())["mouthCues"]
        assert cues[0]["value"] == "X" and cues[-1]["value"] == "X" and len(cues) > 2
    assert result.cached == 0 and speak_script(script, project / "out").cached == 3
    manifest = json.loads(result.manifest.read_text(encoding="utf-8"))
    assert [x["wav"] for x in manifest["lines"]] == ["001-narrator.wav", "002-giulia.wav", "003-espeak.wav"]


def test_batch_cli_and_bad_scripts(project):
    script = project / "scene.csv"
    script.write_text("character,text\nnarrator,Hello there.\nbob,Who am I?\n", encoding="utf-8")
    proc = run_cli("voice", "batch", str(script), "-o", str(project / "out"), cwd=project)
    assert proc.returncode == 1 and "line 2: unknown character 'bob'" in proc.stderr
    assert not (project / "out").exists() and not list(project.glob(".out*"))
    script.write_text("character,text\nnarrator,Hello there.\n", encoding="utf-8")
    proc = run_cli("voice", "batch", str(script), "-o", str(project / "out"), "--json", cwd=project)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["lines"][0]["character"] == "narrator"
    proc = run_cli("voice", "say", "Hi there.", "--character", "giulia", "-o", str(project / "g.wav"), cwd=project)
    assert proc.returncode == 0, proc.stderr
    proc = run_cli("voice", "voices", "--json", cwd=project)
    names = {c["character"] for c in json.loads(proc.stdout)["characters"]}
    assert names == {"narrator", "giulia"}
