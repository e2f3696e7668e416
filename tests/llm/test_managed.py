"""Managed upstreams: model servers started on demand and held through the model broker: packed by
their size, stopped (or put to sleep, where the server has vLLM's sleep mode) when another needs the
room, stopped when idle and with the gateway, however it ends (real processes: the tiny responder,
holding real memory, stands in for a vLLM server)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import pytest
from servers import RESPONDER, free_port

from animstudio.errors import ServiceUnavailableError
from animstudio.llm.gateway.managed import Manager
from animstudio.models.broker import Broker
from animstudio.models.ledger import Ledger

HELLO = {"messages": [{"role": "user", "content": "hello"}]}
MB = 1 << 20


@pytest.fixture
def manager(tmp_path):
    made = []

    def make(ram_mb: int = 4096, gpu_mb: int = 0, heartbeat_s: float = 2.0) -> Manager:
        b = Broker(ram_budget=ram_mb * MB, gpu_budget=gpu_mb * MB, keep_alive_s=0, wait_s=0.5,
                   ledger=Ledger(tmp_path / "ledger.sqlite", heartbeat_s=heartbeat_s),
                   sizes_file=tmp_path / "sizes.json")
        m = Manager(broker=b)
        made.append((m, b))
        return m

    yield make
    for m, b in made:
        m.close()
        b.close()
    assert not [m for m, _ in made if m.running()]


def _add(manager: Manager, alias: str, *flags: str, **options):
    port = free_port()
    options.setdefault("device", "ram")
    return manager.add(alias, f"{sys.executable} {RESPONDER} --port {port} {' '.join(flags)}",
                       f"http://127.0.0.1:{port}/v1", startup_s=20, **options)


def _stats(managed) -> dict:
    return httpx.get(managed.server.url + "/stats").json()


def test_servers_are_started_on_demand_and_packed_by_their_size(manager):
    small = manager(ram_mb=200)          # room for one server of 120 MB
    a = _add(small, "a", "--hold-mb", "60", memory="120MB")
    b = _add(small, "b", "--hold-mb", "60", memory="120MB")
    assert small.running() == []
    assert a.chat(HELLO)["choices"][0]["message"]["content"] == "hello"
    assert small.running() == ["a"]
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in b.stream(HELLO)) == "hello"
    assert small.running() == ["b"]          # a was stopped to make room
    held = {h.model: h.bytes for h in small.broker.ledger.holdings()}
    assert list(held) == ["server:b"] and held["server:b"] >= 60 * MB   # measured: the process tree's RSS

    roomy = manager(ram_mb=1000)
    c, d = _add(roomy, "c", memory="120MB"), _add(roomy, "d", memory="120MB")
    c.chat(HELLO)
    d.chat(HELLO)
    assert roomy.running() == ["c", "d"]      # both fit: both stay


def test_servers_with_sleep_mode_sleep_instead_of_stopping(manager):
    m = manager(gpu_mb=150)                   # one 100 MB server awake at a time
    a = _add(m, "a", "--sleep-mode", device="gpu", memory="100MB")
    b = _add(m, "b", "--sleep-mode", device="gpu", memory="100MB")
    a.chat(HELLO)
    pid_a = a.server.process.pid
    b.chat(HELLO)
    assert (a.server.residency, b.server.residency) == ("offloaded to ram", "gpu")
    assert _stats(a)["sleep_calls"] == ["/sleep?level=1"]
    assert a.chat(HELLO)["choices"][0]["message"]["content"] == "hello"    # woken, not restarted
    assert a.server.process.pid == pid_a and _stats(a)["sleep_calls"] == ["/sleep?level=1", "/wake_up"]
    assert (a.server.residency, b.server.residency) == ("gpu", "offloaded to ram")
    assert m.running() == ["a", "b"]
    counters = m.broker.status()["counters"]
    assert counters["loads"] == 2 and counters["offloads"] == 2 and counters["restores"] == 1


def test_idle_servers_are_stopped(manager):
    m = manager(heartbeat_s=0.2)
    a = _add(m, "a", idle_s=0.5)
    a.chat(HELLO)
    assert m.running() == ["a"]
    deadline = time.monotonic() + 10
    while m.running() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert m.running() == []
    assert a.chat(HELLO)["choices"][0]["message"]["content"] == "hello"   # and started again when asked


def test_a_server_that_died_is_started_again(manager):
    m = manager()
    a = _add(m, "a")
    a.chat(HELLO)
    first = a.server.process.pid
    port = a.server.url.rsplit(":", 1)[1]
    subprocess.run(["pkill", "-9", "-f", f"{RESPONDER} --port {port}"], check=False)
    deadline = time.monotonic() + 10
    while subprocess.run(["pgrep", "-f", f"{RESPONDER} --port {port}"], capture_output=True).returncode == 0:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    time.sleep(0.5)     # the supervisor notices its command ended
    assert a.chat(HELLO)["choices"][0]["message"]["content"] == "hello"
    assert a.server.process.pid != first


def test_a_command_that_fails_is_reported(manager):
    m = manager()
    broken = m.add("broken", f"{sys.executable} -c 'print(\"no weights here\"); raise SystemExit(3)'",
                   "http://127.0.0.1:9/v1", device="ram")
    with pytest.raises(ServiceUnavailableError, match="exited at start .no weights here.") as refused:
        broken.chat(HELLO)
    assert "server-broken.log" in str(refused.value)
    missing = m.add("missing", "no-such-server --port 1", "http://127.0.0.1:9/v1", device="ram")
    with pytest.raises(ServiceUnavailableError, match="cannot start 'no-such-server'"):
        missing.chat(HELLO)
    assert m.broker.status()["models"] == []      # nothing is left held


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


def test_a_managed_server_ends_with_a_gateway_killed_outright(tmp_path):
    import openai

    port, gateway_port = free_port(), free_port()
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text(
        "[llm.gateway.managed.echo]\n"
        f"command = '{sys.executable} {RESPONDER} --port {port}'\n"
        f"base_url = 'http://127.0.0.1:{port}/v1'\n")
    gateway = subprocess.Popen([sys.executable, "-m", "animstudio", "llm", "serve", "--port", str(gateway_port),
                                "--no-cache"], env=dict(os.environ, ANIMSTUDIO_HOME=str(home)),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{gateway_port}/v1", api_key="x", max_retries=20)
        deadline = time.monotonic() + 60
        while True:
            try:
                reply = client.chat.completions.create(model="echo", messages=HELLO["messages"])
                break
            except openai.APIConnectionError:
                assert time.monotonic() < deadline
                time.sleep(0.2)
        assert reply.choices[0].message.content == "hello"
    finally:
        gateway.send_signal(signal.SIGKILL)
        gateway.wait()
    deadline = time.monotonic() + 10
    while subprocess.run(["pgrep", "-f", f"--port {port}"], capture_output=True).returncode == 0:
        assert time.monotonic() < deadline, "the managed server outlived its gateway"
        time.sleep(0.2)


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
