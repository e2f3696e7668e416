"""A real HTTP server that speaks GPT-SoVITS's api_v2 protocol, with a synthetic voice instead of its models.

Same endpoints, field names, defaults, checks and error answers as api_v2.py: ``/tts`` (GET query or POST
JSON), ``/set_gpt_weights``, ``/set_sovits_weights``, ``/set_refer_audio``, ``/control``. ``/tts`` answers a
16-bit WAV at ``sample_rate`` (32 kHz, the rate of the v1/v2 models) of a harmonic tone at ``F0_HZ`` lasting
``line_seconds(text, speed_factor)``. Weights load when their file exists; the reference clip must be audio of
3-10 s, as the real pipeline demands. Every request is recorded.

    with running_sovits() as server:
        GPTSoVITSEngine(url=server.url, voices=...).synthesize("Hi.", voice="mira")
        server.requests[-1]      # Call("POST", "/tts", {"text": "Hi.", "text_lang": "en", ...})
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import threading
import time
import wave
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import numpy as np
import soundfile as sf
from pydantic import BaseModel, ValidationError

F0_HZ = 120.0
V1_LANGUAGES = ["auto", "en", "zh", "ja", "all_zh", "all_ja"]
V2_LANGUAGES = ["auto", "auto_yue", "en", "zh", "ja", "yue", "ko", "all_zh", "all_ja", "all_yue", "all_ko"]
CUT_METHODS = ["cut0", "cut1", "cut2", "cut3", "cut4", "cut5", "auto_cut"]
MEDIA_TYPES = ["wav", "raw", "ogg", "aac"]
SHORT_REFERENCE = "参考音频在3~10秒范围外，请更换！"   # the pipeline's OSError for a clip outside 3-10 s


class TTSRequest(BaseModel):
    """The fields of POST /tts with api_v2's types and defaults (``None`` defaults refuse an explicit null)."""

    text: str = None  # type: ignore[assignment]
    text_lang: str = None  # type: ignore[assignment]
    ref_audio_path: str = None  # type: ignore[assignment]
    aux_ref_audio_paths: list = None  # type: ignore[assignment]
    prompt_lang: str = None  # type: ignore[assignment]
    prompt_text: str = ""
    top_k: int = 15
    top_p: float = 1
    temperature: float = 1
    text_split_method: str = "cut5"
    batch_size: int = 1
    batch_threshold: float = 0.75
    split_bucket: bool = True
    speed_factor: float = 1.0
    fragment_interval: float = 0.3
    seed: int = -1
    media_type: str = "wav"
    streaming_mode: bool | int = False
    parallel_infer: bool = True
    repetition_penalty: float = 1.35
    sample_steps: int = 32
    super_sampling: bool = False
    overlap_length: int = 2
    min_chunk_length: int = 16


def line_seconds(text: str, speed_factor: float = 1.0) -> float:
    """How long the synthetic voice speaks ``text``."""
    return (0.4 + 0.06 * len(text)) / speed_factor


def voice(seconds: float, sample_rate: int) -> np.ndarray:
    """A voiced tone: F0_HZ and 7 overtones falling 6 dB an octave, 10 ms fades, peak about 0.4."""
    t = np.arange(round(seconds * sample_rate)) / sample_rate
    x = sum(np.sin(2 * np.pi * F0_HZ * k * t) / k for k in range(1, 9))
    fade = np.minimum(1.0, np.minimum(t, seconds - t) / 0.01)
    return (0.2 * x * fade).astype(np.float32)


@dataclass
class Call:
    method: str
    path: str
    params: dict[str, Any]           # the query (GET) or the JSON body as sent (POST)


@dataclass
class SovitsServer:
    url: str
    version: str = "v2"
    sample_rate: int = 32000
    requests: list[Call] = field(default_factory=list)
    gpt_weights: str | None = None
    sovits_weights: str | None = None
    delay_s: float = 0.0             # how long /tts thinks before it answers

    @property
    def languages(self) -> list[str]:
        return V1_LANGUAGES if self.version == "v1" else V2_LANGUAGES

    def calls(self, path: str) -> list[Call]:
        return [c for c in self.requests if c.path == path]


def _error(message: str, exception: Exception | str | None = None) -> tuple[int, dict]:
    content: dict[str, Any] = {"message": message}
    if exception is not None:
        content["Exception"] = str(exception)
    return 400, content


def _check_params(req: dict, server: SovitsServer) -> tuple[int, dict] | None:
    """api_v2's checks, in its order, with its messages."""
    text_lang, prompt_lang = req.get("text_lang", ""), req.get("prompt_lang", "")
    if req.get("ref_audio_path", "") in (None, ""):
        return _error("ref_audio_path is required")
    if req.get("text", "") in (None, ""):
        return _error("text is required")
    if text_lang in (None, ""):
        return _error("text_lang is required")
    if text_lang.lower() not in server.languages:
        return _error(f"text_lang: {text_lang} is not supported in version {server.version}")
    if prompt_lang in (None, ""):
        return _error("prompt_lang is required")
    if prompt_lang.lower() not in server.languages:
        return _error(f"prompt_lang: {prompt_lang} is not supported in version {server.version}")
    if req.get("media_type", "wav") not in MEDIA_TYPES:
        return _error(f"media_type: {req['media_type']} is not supported")
    if req.get("text_split_method", "cut5") not in CUT_METHODS:
        return _error(f"text_split_method:{req['text_split_method']} is not supported")
    return None


def _tts(req: dict, server: SovitsServer) -> tuple[int, Any, str]:
    """(status, body, content type) of a /tts answer."""
    problem = _check_params(req, server)
    if problem is not None:
        return (*problem, "application/json")
    streaming = req.get("streaming_mode", False)
    if streaming not in (0, 1, 2, 3):        # False/True compare equal to 0/1, as in api_v2
        return 400, {"message": "the value of streaming_mode must be 0, 1, 2, 3(int) or true/false(bool)"}, \
            "application/json"
    try:
        info = sf.info(req["ref_audio_path"])
        if not 3.0 <= info.duration <= 10.0:
            raise OSError(SHORT_REFERENCE)
    except Exception as exc:                 # api_v2 answers any pipeline failure this way
        return (*_error("tts failed", exc), "application/json")
    time.sleep(server.delay_s)
    samples = voice(line_seconds(req["text"], float(req.get("speed_factor", 1.0))), server.sample_rate)
    pcm = (samples * 32767).astype(np.int16)
    media = req.get("media_type", "wav")
    if media == "aac":
        return (*_error("tts failed", "this test server makes no aac"), "application/json")
    if streaming and media == "wav":         # a WAV header of no frames, then raw PCM
        header = io.BytesIO()
        with wave.open(header, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(server.sample_rate)
        return 200, header.getvalue() + pcm.tobytes(), "audio/wav"
    if media == "raw":
        return 200, pcm.tobytes(), "audio/raw"
    out = io.BytesIO()
    sf.write(out, pcm, server.sample_rate, format=media)
    return 200, out.getvalue(), f"audio/{media}"


def _weights(kind: str, path: str | None, server: SovitsServer) -> tuple[int, dict]:
    if path in ("", None):
        return _error(f"{kind} weight path is required")
    if not Path(path).is_file():
        return _error(f"change {kind} weight failed", FileNotFoundError(2, "No such file or directory", path))
    setattr(server, f"{kind}_weights", path)
    return 200, {"message": "success"}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_state: SovitsServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass

    def _answer(self, status: int, body: Any, content_type: str = "application/json") -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        state = self.server_state
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query))
        state.requests.append(Call("GET", parts.path, query))
        if parts.path == "/tts":
            if query.get("text_lang") is None or query.get("prompt_lang") is None:
                # api_v2 lower()s both before any check: a missing one is an unhandled error
                return self._answer(500, b"Internal Server Error", "text/plain; charset=utf-8")
            try:
                req = TTSRequest.model_validate({k: v for k, v in query.items() if k != "aux_ref_audio_paths"})
            except ValidationError as exc:
                return self._answer(422, {"detail": _detail(exc, "query")})
            values = req.model_dump()
            values.update(text_lang=values["text_lang"].lower(), prompt_lang=values["prompt_lang"].lower())
            return self._answer(*_tts(values, state))
        if parts.path in ("/set_gpt_weights", "/set_sovits_weights"):
            kind = parts.path.removeprefix("/set_").removesuffix("_weights")
            return self._answer(*_weights(kind, query.get("weights_path"), state))
        if parts.path == "/set_refer_audio":
            path = query.get("refer_audio_path")
            if path is None or not Path(path).is_file():
                return self._answer(*_error("set refer audio failed",
                                            FileNotFoundError(2, "No such file or directory", path)))
            return self._answer(200, {"message": "success"})
        if parts.path == "/control":
            command = query.get("command")
            if command is None:
                return self._answer(*_error("command is required"))
            if command == "exit":            # the process ends without an answer
                self.close_connection = True
                threading.Thread(target=self.server.shutdown, daemon=True).start()
                return None
            if command == "restart":         # a fresh process: the configured weights again
                state.gpt_weights = state.sovits_weights = None
            return self._answer(200, None)
        return self._not_found(parts.path, "GET")

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        state = self.server_state
        path = urlsplit(self.path).path
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            body = None
        state.requests.append(Call("POST", path, body if isinstance(body, dict) else {"<raw>": raw}))
        if path != "/tts":
            return self._not_found(path, "POST")
        if not isinstance(body, dict):
            return self._answer(422, {"detail": [{"type": "model_attributes_type", "loc": ["body"],
                                                  "msg": "Input should be a valid dictionary or object to extract "
                                                         "fields from"}]})
        try:
            req = TTSRequest.model_validate(body)
        except ValidationError as exc:
            return self._answer(422, {"detail": _detail(exc, "body")})
        return self._answer(*_tts(req.model_dump(), state))

    def _not_found(self, path: str, method: str) -> None:
        known = {"/tts", "/set_gpt_weights", "/set_sovits_weights", "/set_refer_audio", "/control"}
        if path in known:
            return self._answer(405, {"detail": "Method Not Allowed"})
        return self._answer(404, {"detail": "Not Found"})


def _detail(exc: ValidationError, where: str) -> list[dict]:
    return [{"type": e["type"], "loc": [where, *e["loc"]], "msg": e["msg"]} for e in exc.errors()]


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (a test of timeouts) is no error of the server's; others are shown."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextlib.contextmanager
def running_sovits(version: str = "v2", sample_rate: int = 32000) -> Iterator[SovitsServer]:
    """The server on a free loopback port until the block ends."""
    handler = type("Handler", (_Handler,), {})
    httpd = _Server(("127.0.0.1", 0), handler)
    state = SovitsServer(f"http://127.0.0.1:{httpd.server_address[1]}", version, sample_rate)
    handler.server_state = state
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def main(argv: list[str] | None = None) -> None:
    """Serve on ``--port`` until stopped, as a process (``python sovits_server.py --port 9880``)."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--version", default="v2")
    args = parser.parse_args(argv)
    def log(self: Any, format: str, *log_args: Any) -> None:  # noqa: A002 - the base class's name
        print(format % log_args, file=sys.stderr, flush=True)   # each request, for the log the studio keeps

    handler = type("Handler", (_Handler,), {"log_message": log})
    httpd = _Server(("127.0.0.1", args.port), handler)
    handler.server_state = SovitsServer(f"http://127.0.0.1:{args.port}", args.version)
    with contextlib.suppress(KeyboardInterrupt):
        httpd.serve_forever()


if __name__ == "__main__":
    main()
