"""Gateway overhead: the latency `animstudio llm serve` adds over calling its upstream directly,
side by side with LiteLLM's proxy.

The upstream is the responder (animstudio.testing.responder) in its own process: it answers at once,
so what a path costs beyond the direct call is the gateway's own time. Each path is measured with
one keep-alive client (httpx.Client, one request at a time) and with 64 concurrent clients sharing
a keep-alive pool of 64 connections, after a warm-up, with a small non-streaming chat request
(system + user message, max_tokens 16).

The 64 clients are driven with aiohttp (`--client64 httpx` for httpx.AsyncClient): on a 2-core
machine httpx's async pool itself tops out near 400-500 req/s with 1-2 s tails even straight to the
responder, which aiohttp serves at over 10,000 req/s with a p99 near 5 ms, so httpx would measure
the client, not the gateway. The paths:

- direct: straight to the responder;
- ours: `animstudio llm serve --upstream echo=URL@echo --no-cache`;
- ours, cache hit: a second gateway with its response cache on (the default), temperature 0 and one
  request repeated (the first call fills the cache; the responder's /stats shows no further calls);
- LiteLLM: `litellm --config cfg.yaml` with the responder as `openai/echo` (a master key is set: the
  proxy refuses to start without one).

LiteLLM is not a project dependency, and `litellm[proxy]` pins older rich, websockets and
python-dateutil than this project's venv has, so install it in a venv of its own and name it:

    python -m venv /tmp/litellm-venv && /tmp/litellm-venv/bin/pip install 'litellm[proxy]'
    python benchmarks/gateway_overhead.py --litellm /tmp/litellm-venv/bin/litellm   # ends with RESULT lines
    python benchmarks/gateway_overhead.py        # LiteLLM from $LITELLM_BIN, this venv or PATH; else skipped
    python benchmarks/gateway_overhead.py --smoke   # a few requests per path, no LiteLLM: it runs (no figures)

The gateways run with ANIMSTUDIO_HOME in a temporary folder (no config.toml, a fresh disk cache)
and no other ANIMSTUDIO_* variables. Latencies are wall time per request seen by the client.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from animstudio.testing.servers import free_port, running_gateway, running_process, running_responder

BIN = Path(sys.executable).parent
MASTER_KEY = "sk-bench-" + "0123456789abcdef" * 2
MESSAGES = [{"role": "system", "content": "You are a terse assistant. Answer in one short sentence."},
            {"role": "user", "content": "Name one colour of the rainbow."}]
WARMUP_1, REQUESTS_1 = 200, 2000
CLIENTS, WARMUP_64, PER_CLIENT = 64, 5, 50
CLIENT_64 = "aiohttp"


@dataclass
class Run:
    path: str
    clients: int
    latencies_ms: list[float]
    wall_s: float

    def pct(self, q: float) -> float:
        """Nearest-rank percentile, q in (0, 100]."""
        data = sorted(self.latencies_ms)
        return data[min(len(data) - 1, max(0, math.ceil(len(data) * q / 100) - 1))]

    @property
    def p50(self) -> float:
        return self.pct(50)

    @property
    def p99(self) -> float:
        return self.pct(99)

    @property
    def rps(self) -> float:
        return len(self.latencies_ms) / self.wall_s


def body(temperature: float | None = None) -> dict:
    payload = {"model": "echo", "messages": MESSAGES, "max_tokens": 16}
    if temperature is not None:
        payload["temperature"] = temperature
    return payload


def _check(response: httpx.Response, where: str) -> None:
    if response.status_code != 200:
        raise RuntimeError(f"{where} answered {response.status_code}: {response.text[:300]}")
    if response.json()["choices"][0]["message"]["content"] != MESSAGES[-1]["content"]:
        raise RuntimeError(f"{where} answered something else than the echo: {response.text[:300]}")


def one_client(name: str, url: str, payload: dict, headers: dict[str, str]) -> Run:
    with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
        for _ in range(WARMUP_1):
            _check(client.post("/chat/completions", json=payload), name)
        latencies = []
        t_start = time.perf_counter()
        for _ in range(REQUESTS_1):
            t0 = time.perf_counter()
            response = client.post("/chat/completions", json=payload)
            latencies.append((time.perf_counter() - t0) * 1000)
            if response.status_code != 200:
                _check(response, name)
        wall = time.perf_counter() - t_start
    return Run(name, 1, latencies, wall)


def many_clients(name: str, url: str, payload: dict, headers: dict[str, str], client: str) -> Run:
    async def timed(post, count: int, out: list[float] | None) -> None:
        for _ in range(count):
            t0 = time.perf_counter()
            status, text = await post()
            if out is not None:
                out.append((time.perf_counter() - t0) * 1000)
            if status != 200:
                raise RuntimeError(f"{name} answered {status}: {text[:300]}")

    async def drive(post) -> Run:
        await asyncio.gather(*(timed(post, WARMUP_64, None) for _ in range(CLIENTS)))
        latencies: list[float] = []
        t_start = time.perf_counter()
        await asyncio.gather(*(timed(post, PER_CLIENT, latencies) for _ in range(CLIENTS)))
        return Run(name, CLIENTS, latencies, time.perf_counter() - t_start)

    async def with_aiohttp() -> Run:
        import aiohttp

        target = url + "/chat/completions"
        connector = aiohttp.TCPConnector(limit=CLIENTS)
        async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
            async def post() -> tuple[int, str]:
                async with session.post(target, json=payload) as response:
                    return response.status, await response.text()

            return await drive(post)

    async def with_httpx() -> Run:
        limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60, limits=limits) as session:
            async def post() -> tuple[int, str]:
                response = await session.post("/chat/completions", json=payload)
                return response.status_code, response.text

            return await drive(post)

    return asyncio.run(with_aiohttp() if client == "aiohttp" else with_httpx())


def both(name: str, url: str, payload: dict, headers: dict[str, str] | None = None) -> tuple[Run, Run]:
    headers = headers or {}
    single = one_client(name, url, payload, headers)
    return single, many_clients(name, url, payload, headers, CLIENT_64)


def clean_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANIMSTUDIO_")}
    env["ANIMSTUDIO_HOME"] = str(home)
    return env


def upstream_calls(url: str) -> int:
    return httpx.get(url.removesuffix("/v1") + "/stats").json()["chat_requests"]


def find_litellm(given: str | None) -> str | None:
    for candidate in (given, os.environ.get("LITELLM_BIN"), str(BIN / "litellm"), shutil.which("litellm")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


@contextlib.contextmanager
def running_litellm(exe: str, upstream: str, workdir: Path) -> Iterator[str]:
    """LiteLLM's proxy on a free loopback port with the responder as model `echo`; yields its /v1 URL."""
    port = free_port()
    config = workdir / "litellm.yaml"
    config.write_text(
        "model_list:\n"
        "  - model_name: echo\n"
        "    litellm_params:\n"
        "      model: openai/echo\n"
        f"      api_base: {upstream}\n"
        "      api_key: x\n"
        "general_settings:\n"
        f"  master_key: {MASTER_KEY}\n")
    env = dict(os.environ, LITELLM_LOCAL_MODEL_COST_MAP="True")   # no fetch of the price list at start-up
    cmd = [exe, "--config", str(config), "--host", "127.0.0.1", "--port", str(port)]
    with running_process(cmd, port, env, "litellm", 120, "/health/liveliness", cwd=workdir) as url:
        yield url


def litellm_version(exe: str) -> str:
    python = Path(exe).with_name("python")
    with contextlib.suppress(Exception):
        out = subprocess.run([str(python), "-c", "import importlib.metadata as m; print(m.version('litellm'))"],
                             capture_output=True, text=True, timeout=60)
        return out.stdout.strip() or "?"
    return "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--litellm", help="the `litellm` executable (default: $LITELLM_BIN, this venv, PATH)")
    parser.add_argument("--client64", choices=["aiohttp", "httpx"], default="aiohttp",
                        help="load generator for the 64 clients (default aiohttp: see the docstring)")
    parser.add_argument("--smoke", action="store_true",
                        help="a few requests per path and no LiteLLM: checks that the benchmark runs; no figures")
    args = parser.parse_args()
    global CLIENT_64, WARMUP_1, REQUESTS_1, CLIENTS, WARMUP_64, PER_CLIENT
    CLIENT_64 = args.client64
    if args.smoke:
        WARMUP_1, REQUESTS_1, CLIENTS, WARMUP_64, PER_CLIENT = 2, 10, 4, 1, 3

    runs: dict[str, tuple[Run, Run]] = {}
    litellm_note = None
    t_all = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="gateway-bench-") as tmp, running_responder() as upstream:
        tmpdir = Path(tmp)
        print(f"responder at {upstream}; {REQUESTS_1} requests at 1 client (httpx.Client), {CLIENTS}x{PER_CLIENT} at "
              f"{CLIENTS} clients ({CLIENT_64}); {os.cpu_count()} CPUs", flush=True)
        runs["direct"] = both("direct", upstream, body())
        print("  direct done", flush=True)

        with running_gateway("--upstream", f"echo={upstream}@echo", "--no-cache",
                             env=clean_env(tmpdir / "home-nocache")) as gateway:
            runs["ours"] = both("ours", gateway, body())
        print("  ours done", flush=True)

        with running_gateway("--upstream", f"echo={upstream}@echo", env=clean_env(tmpdir / "home-cache")) as gateway:
            with httpx.Client(base_url=gateway, timeout=30) as client:
                _check(client.post("/chat/completions", json=body(0)), "ours (cache)")   # fills the cache
            before = upstream_calls(upstream)
            runs["ours, cache hit"] = both("ours, cache hit", gateway, body(0))
            missed = upstream_calls(upstream) - before
            if missed:
                print(f"  WARNING: {missed} cache-hit requests reached the upstream", flush=True)
        print("  cache done", flush=True)

        exe = find_litellm(args.litellm)
        if args.smoke:
            litellm_note = "LiteLLM skipped: --smoke"
        elif exe is None:
            litellm_note = ("LiteLLM skipped: no `litellm` executable (pass --litellm PATH or set LITELLM_BIN; "
                            "pip install 'litellm[proxy]' in a venv of its own)")
        else:
            try:
                with running_litellm(exe, upstream, tmpdir) as proxy:
                    runs["litellm"] = both("litellm", proxy, body(), {"Authorization": f"Bearer {MASTER_KEY}"})
                litellm_note = f"LiteLLM {litellm_version(exe)} ({exe})"
            except RuntimeError as exc:
                litellm_note = f"LiteLLM skipped: {exc}"
        print(f"  {litellm_note}", flush=True)
    total = time.perf_counter() - t_all

    direct = runs["direct"]
    print()
    print(f"{'path':<18} {'clients':>7} {'requests':>8} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8} "
          f"{'added p50':>10} {'added p99':>10}")
    for name, pair in runs.items():
        for i, run in enumerate(pair):
            base = direct[i]
            added = "" if name == "direct" else f"{run.p50 - base.p50:>10.3f} {run.p99 - base.p99:>10.3f}"
            print(f"{name:<18} {run.clients:>7} {len(run.latencies_ms):>8} {run.p50:>8.3f} {run.p99:>8.3f} "
                  f"{run.rps:>8.0f} {added}")
    print(f"(added = path minus direct at the same client count; whole run {total:.0f} s)")
    print()
    if args.smoke:
        print("smoke run: every path answered; run without --smoke for the figures")
        return

    ours, cache = runs["ours"], runs["ours, cache hit"]
    print(f"RESULT gateway_added_p50_1client {ours[0].p50 - direct[0].p50:.3f} ms goal <=2")
    print(f"RESULT gateway_added_p99_1client {ours[0].p99 - direct[0].p99:.3f} ms goal none")
    print(f"RESULT gateway_added_p50_64clients {ours[1].p50 - direct[1].p50:.3f} ms goal none")
    print(f"RESULT cache_hit_p50 {cache[0].p50:.3f} ms goal <=3")
    if "litellm" in runs:
        print(f"RESULT litellm_added_p50_1client {runs['litellm'][0].p50 - direct[0].p50:.3f} ms goal none (peer)")
    else:
        print(f"# {litellm_note}: no litellm_added_p50_1client")
    print(f"RESULT gateway_rps_64clients {ours[1].rps:.0f} req/s goal none")


if __name__ == "__main__":
    main()
