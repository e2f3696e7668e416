"""``animstudio llm``: chat with a model, list models, serve the OpenAI-compatible gateway."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer

from animstudio.cli import ui
from animstudio.errors import InvalidInputError

app = typer.Typer(no_args_is_help=True)

MODEL_HELP = "A catalog model or .gguf file for the embedded engine (default: llm.default_model)."
THREADS_HELP = "CPU threads for the embedded engine, 0 for all cores (default: llm.threads)."
UPSTREAM_HELP = "An OpenAI-compatible server instead (e.g. http://127.0.0.1:8000/v1): vLLM, Ollama, a gateway."


def _engine(model: str | None, upstream: str | None, threads: int | None = None,  # type: ignore[no-untyped-def]
            context: int | None = None):
    """An upstream's engine, or the embedded one: the configured LLM (llm.base_url, else the embedded
    engine on llm.default_model with llm.threads) where neither a model, threads nor context is given."""
    from animstudio.llm.client import engine

    if upstream:
        return engine("openai", base_url=upstream, **({"model": model} if model else {}))
    options = {k: v for k, v in (("model", model), ("threads", threads), ("context", context)) if v is not None}
    return engine("embedded", **options) if options else engine()


@app.command("chat")
def chat(
    prompt: str = typer.Argument(..., metavar="PROMPT", help="What to ask."),
    model: str = typer.Option(None, "--model", "-m", help=MODEL_HELP),
    upstream: str = typer.Option(None, "--upstream", "-u", help=UPSTREAM_HELP),
    schema: Path = typer.Option(None, "--schema", help="A JSON schema file: the answer is JSON that fits it."),
    system: str = typer.Option(None, "--system", help="A system message."),
    max_tokens: int = typer.Option(512, "--max-tokens", min=1, help="Longest answer, tokens."),
    temperature: float = typer.Option(0.7, "--temperature", "-t", min=0.0, max=2.0,
                                      help="0 for deterministic answers."),
    stream: bool = typer.Option(False, "--stream", help="Print the answer as it is generated."),
) -> None:
    """Ask a model one question (the embedded engine unless --upstream is given)."""
    params: dict[str, Any] = {"max_tokens": max_tokens, "temperature": temperature}
    if schema is not None:
        from animstudio.files import check_input_file

        try:
            spec = json.loads(check_input_file(schema, "schema").read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"{schema} is not JSON ({exc.msg} at line {exc.lineno}); pass a JSON schema "
                                    f"file") from exc
        params["response_format"] = {"type": "json_schema", "json_schema": {"name": schema.stem, "schema": spec}}
        system = (system + "\n" if system else "") + f"Answer with JSON that fits this schema: {json.dumps(spec)}"
    messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": prompt}]
    from animstudio.llm.client import Client

    client = Client(_engine(model, upstream))
    if stream:
        for piece in client.stream(messages, **params):
            sys.stdout.write(piece)
            sys.stdout.flush()
        sys.stdout.write("\n")
    else:
        typer.echo(client.chat(messages, **params))


@app.command("models")
def models(
    upstream: str = typer.Option(None, "--upstream", "-u", help="Also list what this upstream serves."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The catalog's LLMs for the embedded engine (and an upstream's models)."""
    from animstudio.models.catalog import catalog
    from animstudio.models.warehouse import Warehouse

    wh = Warehouse()
    rows = [{"name": e.name, "engine": "embedded", "size_mb": round(e.size / 2**20),
             "installed": all(s.state != "missing" for s in wh.status(e))}
            for e in catalog() if e.kind == "llm"]
    if upstream:
        rows += [{"name": m, "engine": upstream, "size_mb": None, "installed": True}
                 for m in _engine(None, upstream).models()]
    if as_json:
        ui.print_json(rows)
        return
    ui.table("LLMs", ["name", "engine", "MiB", "installed"],
             [[r["name"], r["engine"], r["size_mb"] or "", "yes" if r["installed"] else "no"] for r in rows])


@app.command("bench")
def bench(
    model: list[str] = typer.Option([], "--model", "-m", help="Catalog models to time (default: every catalog LLM; "
                                                               "missing ones are installed)."),
    threads: int = typer.Option(None, "--threads", min=0, help=THREADS_HELP),
    max_tokens: int = typer.Option(128, "--max-tokens", min=1, help="Tokens to generate per run."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Prompt and generation speed of the embedded engine, per model, on this machine."""
    from animstudio.llm.bench import bench_models

    rows = bench_models(model or None, threads=threads, max_tokens=max_tokens)
    if as_json:
        ui.print_json(rows)
        return
    ui.table("embedded engine speed", ["model", "prompt tok/s", "generation tok/s"],
             [[r["model"], r["prompt_tok_s"], r["gen_tok_s"]] for r in rows])


def _llm_overrides(path: Path) -> dict[str, Any]:
    """The [llm] table of a TOML file, merged over the studio's own llm settings."""
    import tomllib

    from animstudio.config import load_settings
    from animstudio.files import check_input_file

    try:
        data = tomllib.loads(check_input_file(path, "config").read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInputError(f"{path} is not valid TOML ({exc}); fix it or pass another --config") from exc
    if set(data) - {"llm"}:
        raise InvalidInputError(f"{path} may only hold an [llm] table for `llm serve`; found: "
                                f"{', '.join(sorted(data))}")

    def merge(base: dict[str, Any], more: dict[str, Any]) -> dict[str, Any]:
        return {**base, **{k: merge(base.get(k, {}), v) if isinstance(v, dict) and isinstance(base.get(k), dict)
                           else v for k, v in more.items()}}

    return {"llm": merge(load_settings().llm.model_dump(), data.get("llm", {}))}


def _upstream(spec: str, alias: str):  # type: ignore[no-untyped-def]
    """An engine from 'URL[@MODEL]' or 'embedded:CATALOG_NAME'."""
    if spec.startswith("embedded:"):
        return _engine(spec.removeprefix("embedded:"), None)
    url, _, name = spec.partition("@")
    if not name:   # the upstream's only model, or the alias itself
        try:
            served = _engine(None, url).models()
        except Exception:  # noqa: BLE001 - an upstream down at start-up is failed over at request time
            served = []
        name = served[0] if len(served) == 1 else alias
    return _engine(name, url)


@app.command("serve")
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", "-p", min=1, max=65535, help="Port to listen on."),
    model: list[str] = typer.Option([], "--model", "-m", help="Serve a catalog model or .gguf with the embedded "
                                                               "engine (repeat; default: llm.default_model)."),
    upstream: list[str] = typer.Option([], "--upstream", "-u", help="ALIAS=URL[@MODEL][,URL...]: upstreams served "
                                                                      "as ALIAS, failed over in order (repeat)."),
    threads: int = typer.Option(None, "--threads", min=0, help=THREADS_HELP),
    context: int = typer.Option(None, "--context", min=256, max=131072,
                                help="The embedded engine's context length, tokens (default: llm.context, 8192)."),
    api_key: list[str] = typer.Option([], "--api-key", help="A key clients must send (repeat; default: "
                                                             "llm.gateway.api_keys)."),
    cache: bool = typer.Option(True, "--cache/--no-cache", help="Answer deterministic requests from the cache."),
    config: Path = typer.Option(None, "--config", help="A TOML file whose [llm] settings win over the studio's "
                                                        "config (routes, managed models, keys, cache)."),
) -> None:
    """Serve the OpenAI-compatible gateway (/v1/chat/completions, /v1/models, /health, /metrics)."""
    import uvicorn

    from animstudio.config import load_settings
    from animstudio.llm.gateway.app import create_app
    from animstudio.llm.gateway.routing import Route

    settings = load_settings(**_llm_overrides(config)) if config is not None else load_settings()
    gateway = settings.llm.gateway.model_copy(update={"api_keys": api_key} if api_key else {})
    specs = dict(settings.llm.gateway.routes)
    for spec in upstream:
        alias, sep, targets = spec.partition("=")
        if not sep or not alias or not targets:
            raise InvalidInputError(f"--upstream {spec!r} must look like ALIAS=URL or ALIAS=URL@MODEL, e.g. "
                                    f"qwen=http://127.0.0.1:8001/v1@Qwen/Qwen2.5-VL-7B-Instruct")
        specs[alias] = targets.split(",")
    routes = {alias: Route(alias, [_upstream(t, alias) for t in targets]) for alias, targets in specs.items()}
    manager = None
    if settings.llm.gateway.managed:
        from animstudio.llm.gateway.managed import Manager

        manager = Manager()
        for alias, spec in settings.llm.gateway.managed.items():
            routes[alias] = Route(alias, [manager.add(alias, spec.command, spec.base_url, idle_s=spec.idle_s,
                                                      startup_s=spec.startup_s, device=spec.device,
                                                      memory=spec.memory, sleep=spec.sleep)])
    for name in model or ([] if routes else [None]):
        eng = _engine(name, None, threads, context)
        routes[eng.models()[0]] = Route(eng.models()[0], [eng])
    response_cache = None
    if cache:
        from animstudio.llm.gateway.cache import ResponseCache

        response_cache = ResponseCache(directory=settings.home / "cache" / "llm",
                                       redis_url=settings.llm.cache.redis_url, ttl_s=settings.llm.cache.ttl_s)
    print(f"serving {', '.join(routes)} on http://{host}:{port}/v1", file=sys.stderr, flush=True)
    app_ = create_app(routes, gateway, response_cache, redis_url=settings.llm.cache.redis_url)
    try:
        uvicorn.run(app_, host=host, port=port, log_level="warning")
    finally:   # the model servers this gateway started go with it
        if manager is not None:
            manager.close()
