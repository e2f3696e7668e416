"""Real models under a RAM budget that holds Whisper and Piper together but not the 1.5B LLM beside
either: speak, transcribe, chat, speak again. The broker evicts and reloads in that order, the
process's memory after each step stays within the budget plus a stated margin, and `models status`
shows each step."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from conftest import installed_warehouse

MARGIN = 600 << 20   # libraries a load imports stay after the model goes (ctranslate2, onnxruntime, llama.cpp)
LLM = "qwen2.5-coder-1.5b-instruct"
SCRIPT = textwrap.dedent("""
    import json, resource, sys
    from animstudio.models.broker import broker, machine_status, rss
    from animstudio.llm.client import Client
    from animstudio.plugins import get_backend
    from animstudio.voice.asr import get_transcriber

    base = rss()
    peak = 0
    def step(name):
        global peak
        broker().tick()
        peak = max(peak, rss() - base)
        held = sorted(m["model"].split(":")[0] for m in machine_status()["models"])
        print(json.dumps({"step": name, "held": held, "rss_over_start": rss() - base}), flush=True)

    piper = get_backend("tts_engine", "piper")()
    piper.synthesize("Hello there."); step("speak")
    get_transcriber().transcribe(sys.argv[1]); step("transcribe")
    Client().chat([{"role": "user", "content": "Say hi"}], max_tokens=4); step("chat")
    piper.synthesize("Hello again."); step("speak again")
    true_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - base   # the kernel's high-water mark
    print(json.dumps({"peak_over_start": max(peak, true_peak), "counters": broker().status()["counters"]}),
          flush=True)
""")


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    pytest.importorskip("xllamacpp")
    pytest.importorskip("faster_whisper")
    return installed_warehouse(tmp_path_factory, LLM, "whisper-base", "piper-en_US-joe-medium")


def run(env, jfk):
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(jfk)], env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


@pytest.mark.slow
def test_speak_transcribe_chat_speak_under_a_ram_budget(models, shared_data, tmp_path):
    jfk = shared_data / "speech" / "faster_whisper" / "jfk.flac"
    env = dict(os.environ, ANIMSTUDIO_HOME=str(tmp_path / "home"), ANIMSTUDIO_MODELS=str(models),
               ANIMSTUDIO_BROKER__KEEP_ALIVE_S="0", ANIMSTUDIO_LLM__THREADS="2")
    run(dict(env, ANIMSTUDIO_BROKER__RAM_BUDGET="0.9"), jfk)   # sizes measured once, with room for all
    sizes = json.loads((models / "measured-sizes.json").read_text())
    measured = {name.split(":")[0]: value for name, value in sizes.items()}

    def size(name: str) -> int:
        """As the broker counts it: measured when the load took more than the files, else the files."""
        from animstudio.models.catalog import get_entry

        return max(measured.get(name, 0), get_entry(name).size)

    whisper, piper, llm = size("whisper-base"), size("piper-en_US-joe-medium"), size(LLM)
    budget = llm + min(whisper, piper) - (1 << 20)      # the LLM fits alone, never beside Whisper or Piper
    assert whisper + piper <= budget
    *steps, summary = run(dict(env, ANIMSTUDIO_BROKER__RAM_BUDGET=str(budget)), jfk)
    assert [(s["step"], s["held"]) for s in steps] == [
        ("speak", ["piper-en_US-joe-medium"]),
        ("transcribe", ["piper-en_US-joe-medium", "whisper-base"]),   # both fit
        ("chat", [LLM]),                                               # both went for the LLM
        ("speak again", ["piper-en_US-joe-medium"]),                   # the LLM went for Piper
    ]
    assert summary["counters"]["evictions"] == 3 and summary["counters"]["loads"] == 4
    settled = max(s["rss_over_start"] for s in steps)   # after each step's loads and evictions
    assert settled <= budget + MARGIN, (steps, budget)
    # the kernel's high-water mark also counts a load's passing peak (llama.cpp reading its weights);
    # it is reported, not held to the budget: the broker reserves what a model keeps
    print(f"budget {budget >> 20} MB, settled {settled >> 20} MB, high-water {summary['peak_over_start'] >> 20} MB")
