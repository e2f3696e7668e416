"""`animstudio llm` as a user runs it, on the smallest catalog model."""

from __future__ import annotations

import json

from conftest import run_cli


def test_chat_stream_schema_and_models(warehouse, tmp_path):
    env = {"ANIMSTUDIO_MODELS": str(warehouse), "ANIMSTUDIO_LLM__THREADS": "2"}
    plain = run_cli("llm", "chat", "Say hello.", "--model", "smollm2-135m-instruct", "--max-tokens", "12",
                    "--temperature", "0", env=env)
    streamed = run_cli("llm", "chat", "Say hello.", "--model", "smollm2-135m-instruct", "--max-tokens", "12",
                       "--temperature", "0", "--stream", env=env)
    assert plain.returncode == 0 and streamed.returncode == 0, plain.stderr + streamed.stderr
    assert plain.stdout.strip() and plain.stdout.strip() == streamed.stdout.strip()
    schema = tmp_path / "pet.json"
    schema.write_text(json.dumps({"type": "object", "properties": {"name": {"type": "string", "maxLength": 20},
                                                                   "legs": {"type": "integer"}},
                                  "required": ["name", "legs"]}))
    out = run_cli("llm", "chat", "Invent a pet.", "--model", "smollm2-135m-instruct", "--schema", str(schema),
                  "--temperature", "0", env=env)
    assert out.returncode == 0, out.stderr
    pet = json.loads(out.stdout)
    assert isinstance(pet["name"], str) and isinstance(pet["legs"], int)
    listed = json.loads(run_cli("llm", "models", "--json", env=env).stdout)
    assert {"name": "smollm2-135m-instruct", "engine": "embedded", "size_mb": 94, "installed": True} in listed


def test_bad_input(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    proc = run_cli("llm", "chat", "hi", "--schema", str(bad))
    assert proc.returncode == 1 and "not JSON" in proc.stderr
    proc = run_cli("llm", "serve", "--upstream", "nourl")
    assert proc.returncode == 1 and "ALIAS=URL" in proc.stderr
    proc = run_cli("llm", "chat", "hi", "--model", str(tmp_path / "missing.gguf"))
    assert proc.returncode == 1 and "does not exist" in proc.stderr
