"""Managed upstreams: model servers started on demand, one at a time, stopped when idle (real
processes: the tiny responder stands in for a vLLM server)."""

from __future__ import annotations

import sys
import time

import pytest
from servers import RESPONDER, free_port

from animstudio.errors import ServiceUnavailableError
from animstudio.llm.gateway.managed import Manager

HELLO = {"messages": [{"role": "user", "content": "hello"}]}


def _add(manager: Manager, alias: str, idle_s: float = 60.0):
    port = free_port()
    return manager.add(alias, f"{sys.executable} {RESPONDER} --port {port}", f"http://127.0.0.1:{port}/v1",
                       idle_s=idle_s, startup_s=20)


def test_started_on_demand_one_at_a_time():
    manager = Manager(reap_every_s=0.2)
    try:
        a, b = _add(manager, "a"), _add(manager, "b")
        assert manager.running() == []
        assert a.chat(HELLO)["choices"][0]["message"]["content"] == "hello"
        assert manager.running() == ["a"]
        assert "".join(c["choices"][0]["delta"].get("content") or "" for c in b.stream(HELLO)) == "hello"
        assert manager.running() == ["b"]          # a was stopped to make room
    finally:
        manager.close()
    assert manager.running() == []


def test_idle_servers_are_stopped():
    manager = Manager(reap_every_s=0.2)
    try:
        a = _add(manager, "a", idle_s=0.5)
        a.chat(HELLO)
        assert manager.running() == ["a"]
        time.sleep(1.5)
        assert manager.running() == []
        assert a.chat(HELLO)["choices"][0]["message"]["content"] == "hello"   # and started again when asked
    finally:
        manager.close()


def test_a_command_that_fails_is_reported():
    manager = Manager()
    try:
        broken = manager.add("broken", f"{sys.executable} -c 'raise SystemExit(3)'", "http://127.0.0.1:9/v1")
        with pytest.raises(ServiceUnavailableError, match="exited at start"):
            broken.chat(HELLO)
    finally:
        manager.close()


def test_llm_serve_starts_a_managed_model_on_the_first_request(tmp_path):
    import os

    import openai
    from servers import running_gateway

    from conftest import run_cli

    port = free_port()
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text(
        "[llm.gateway.managed.echo]\n"
        f"command = '{sys.executable} {RESPONDER} --port {port}'\n"
        f"base_url = 'http://127.0.0.1:{port}/v1'\n"
        "idle_s = 60\n")
    env = dict(os.environ, ANIMSTUDIO_HOME=str(home))
    with running_gateway("--no-cache", env=env) as url:
        client = openai.OpenAI(base_url=url, api_key="x")
        assert [m.id for m in client.models.list().data] == ["echo"]
        reply = client.chat.completions.create(model="echo", messages=HELLO["messages"])
        assert reply.choices[0].message.content == "hello"
        answer = run_cli("llm", "chat", "hello from the CLI", "--upstream", url, "--model", "echo")
        assert answer.returncode == 0 and answer.stdout.strip() == "hello from the CLI", answer.stderr
    import subprocess

    left = subprocess.run(["pgrep", "-f", f"--port {port}"], capture_output=True, text=True).stdout.strip()
    assert left == ""   # the managed server stopped with the gateway


def test_llm_serve_config_file(tmp_path):
    import httpx
    from servers import running_gateway, running_responder

    with running_responder() as upstream:
        config = tmp_path / "gateway.toml"
        config.write_text("[llm.gateway]\napi_keys = ['secret-key']\n"
                          f"[llm.gateway.routes]\nfast = ['{upstream}@echo']\n")
        with running_gateway("--config", str(config), "--no-cache") as url:
            ask = {"model": "fast", "messages": HELLO["messages"]}
            assert httpx.post(f"{url}/chat/completions", json=ask).status_code == 401
            ok = httpx.post(f"{url}/chat/completions", json=ask, headers={"Authorization": "Bearer secret-key"})
            assert ok.status_code == 200 and ok.json()["choices"][0]["message"]["content"] == "hello"
    bad = tmp_path / "bad.toml"
    bad.write_text("[media]\nx = 1\n")
    from conftest import run_cli

    proc = run_cli("llm", "serve", "--config", str(bad))
    assert proc.returncode == 1 and "[llm]" in proc.stderr
