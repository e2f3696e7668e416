"""The ``gpt-sovits`` engine: cloned voices spoken by a GPT-SoVITS server through its own HTTP API (``api_v2.py``).

Start the server in the GPT-SoVITS folder (``python api_v2.py -a 127.0.0.1 -p 9880``), then declare each voice
by its reference clip (3-10 s; a path on the server's machine) and the words said in it:

    engine = GPTSoVITSEngine(voices={"mira": {"ref_audio_path": "refs/mira.wav", "prompt_text": "I am Mira.",
                                              "prompt_lang": "en", "languages": ["en", "ja"]}})
    engine.synthesize("Look at that!", voice="mira", prosody=Prosody(rate=1.2)).write("mira.wav")

A voice with its own fine-tuned weights (``gpt_weights``, ``sovits_weights``: paths on the server) makes the
engine load them before its lines, and only when they differ from what this engine loaded there last, so
several characters can share one server. The server answers audio only: no phoneme timings here.

With the ``voice.gpt_sovits_command`` setting the studio starts the server itself when a line needs it,
holds it through the model broker beside the other models, and stops it when idle or when its memory is
wanted (weights are sent again after a restart).
"""

from __future__ import annotations

import contextlib
import io
import threading
from typing import Any, ClassVar
from urllib.parse import urlsplit

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from animstudio.errors import InvalidInputError, MissingDependencyError, ServiceUnavailableError
from animstudio.voice.base import Prosody, Speech, TTSEngine, check_text

DEFAULT_URL = "http://127.0.0.1:9880"
# What api_v2.py accepts as text_lang / prompt_lang (its v2+ models; v1 models take no ko, yue or their variants).
# zh, ja, ko, yue read English words too; all_* read only that language; auto* detect it per fragment.
API_LANGUAGES = ("auto", "auto_yue", "en", "zh", "ja", "yue", "ko", "all_zh", "all_ja", "all_yue", "all_ko")
LANGUAGES = ("zh", "en", "ja", "ko", "yue")


def _language(value: str) -> str:
    """``en-US`` -> ``en``: GPT-SoVITS names languages without a region."""
    return value.strip().lower().replace("_", "-").split("-")[0]


class Reference(BaseModel):
    """One voice: the clip GPT-SoVITS imitates, what is said in it, and optionally its own weights."""

    model_config = ConfigDict(extra="forbid")

    ref_audio_path: str = Field(min_length=1, description="reference clip, 3-10 s, as a path on the server")
    prompt_text: str = Field("", description="the words said in the clip (empty: reference-free, v1/v2 only)")
    prompt_lang: str = Field(description=f"language of the clip: one of {', '.join(API_LANGUAGES)}")
    aux_ref_audio_paths: list[str] = Field(default_factory=list, description="more clips of the voice to blend in")
    gpt_weights: str | None = Field(None, description="GPT (.ckpt) weights on the server; unset: whatever it has")
    sovits_weights: str | None = Field(None, description="SoVITS (.pth) weights on the server; unset: whatever it has")
    languages: tuple[str, ...] = Field((), description="languages the voice may speak, its default first "
                                                       f"({', '.join(LANGUAGES)}); unset: the clip's")

    @field_validator("prompt_lang")
    @classmethod
    def _prompt_lang(cls, value: str) -> str:
        value = value.strip().lower()
        if value not in API_LANGUAGES:
            raise ValueError(f"{value!r} is not a GPT-SoVITS language; use one of {', '.join(API_LANGUAGES)}")
        return value

    @field_validator("languages")
    @classmethod
    def _languages(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        codes = tuple(dict.fromkeys(_language(v) for v in value))
        wrong = [c for c in codes if c not in LANGUAGES]
        if wrong:
            raise ValueError(f"GPT-SoVITS does not speak {', '.join(wrong)}; it speaks {', '.join(LANGUAGES)}")
        return codes

    @model_validator(mode="after")
    def _default_languages(self) -> Reference:
        if not self.languages:
            spoken = self.prompt_lang.removeprefix("all_")
            if spoken not in LANGUAGES:
                raise ValueError(f"prompt_lang {self.prompt_lang!r} names no single language; "
                                 f"set languages (some of {', '.join(LANGUAGES)})")
            self.languages = (spoken,)
        return self


class GPTSoVITSEngine(TTSEngine):
    name = "gpt-sovits"
    description = "cloned voices from a GPT-SoVITS server (its api_v2.py HTTP API)"
    languages: ClassVar[tuple[str, ...]] = LANGUAGES

    class Options(TTSEngine.Options):
        url: str = Field(None, validate_default=True, description="the GPT-SoVITS API server (api_v2.py); default the "
                                                  "voice.gpt_sovits_url setting, else the server's own default")
        timeout_s: float = Field(300, gt=0, description="seconds to wait for a line's audio")
        connect_timeout_s: float = Field(5, gt=0, description="seconds to wait for a connection")
        voices: dict[str, Reference] = Field(default_factory=dict, description="voice name -> its reference clip")
        top_k: int = Field(15, ge=1, description="GPT sampling: top k")
        top_p: float = Field(1.0, gt=0, le=1, description="GPT sampling: top p")
        temperature: float = Field(1.0, gt=0, description="GPT sampling temperature")
        repetition_penalty: float = Field(1.35, gt=0, description="GPT repetition penalty")
        seed: int = Field(-1, description="random seed; -1: a new one each line")
        text_split_method: str = Field("cut5", description="how the server cuts text: cut0 (not at all), cut1 "
                                                           "(every 4 sentences), cut2 (~50 chars), cut3 (at 。), "
                                                           "cut4 (at .), cut5 (at punctuation)")
        fragment_interval: float = Field(0.3, ge=0, description="seconds of silence between fragments")
        batch_size: int = Field(1, ge=1, description="fragments inferred at once")
        batch_threshold: float = Field(0.75, ge=0, le=1, description="how alike in length a batch's fragments are")
        split_bucket: bool = Field(True, description="group fragments of like length into batches")
        parallel_infer: bool = Field(True, description="batched GPT inference")
        sample_steps: int = Field(32, ge=1, description="sampling steps of v3/v4 SoVITS models")
        super_sampling: bool = Field(False, description="upsample v3 output")

        @field_validator("url", mode="before")
        @classmethod
        def _url(cls, value: str | None) -> str:
            if value is None:
                from animstudio.config import load_settings

                value = load_settings().voice.gpt_sovits_url or DEFAULT_URL
            value = value.strip().rstrip("/")
            if not value.startswith(("http://", "https://")):
                raise ValueError(f"must start with http:// or https:// (e.g. {DEFAULT_URL})")
            return value

    def __init__(self, options: Any = None, **kwargs: Any) -> None:
        super().__init__(options, **kwargs)
        self.url: str = self.options.url
        self._client: Any = None
        self._loaded: dict[str, str] = {}    # "gpt" / "sovits" -> the weights this engine last loaded on the server
        self._lock = threading.Lock()        # a weight switch and the line it is for go together
        self._server_pid: int | None = None  # the started server's process the weights were sent to

    def voices(self) -> dict[str, tuple[str, ...]]:
        return {name: ref.languages for name, ref in self.options.voices.items()}

    def synthesize(self, text: str, voice: str | None = None, prosody: Prosody | None = None,
                   language: str | None = None) -> Speech:
        text = check_text(text)
        name, language = self._pick(voice, language)
        ref: Reference = self.options.voices[name]
        p = prosody or Prosody()
        with self._lock, self._serving():
            self._load("gpt", ref.gpt_weights, name)
            self._load("sovits", ref.sovits_weights, name)
            response = self._request("POST", "/tts", json=self._body(text, language, ref, p))
            self._check(response, f"refused the line for voice {name!r}")
        samples, rate = self._decode(response)
        if p.pitch_semitones:
            from animstudio.voice.effects import shift_pitch

            samples = shift_pitch(samples, rate, p.pitch_semitones)
        if p.energy != 1.0:
            samples = np.clip(samples * np.float32(p.energy), -1.0, 1.0)
        samples = np.concatenate([np.zeros(round(p.pause_before_s * rate), np.float32), samples,
                                  np.zeros(round(p.pause_after_s * rate), np.float32)])
        return Speech(samples.astype(np.float32), rate, language=language)

    # -- voices and languages ---------------------------------------------------------------------

    def _pick(self, voice: str | None, language: str | None) -> tuple[str, str]:
        """The voice and language of a line; unknown or unable voices name those that would do."""
        if not self.options.voices:
            raise InvalidInputError("the gpt-sovits engine has no voices; declare one as a character in the voice "
                                    "registry, or in the engine's voices option: {\"NAME\": {\"ref_audio_path\": "
                                    "\"clip.wav\", \"prompt_text\": \"words in the clip\", \"prompt_lang\": \"en\"}}")
        return self.check_voice(voice, _language(language) if language else None)

    # -- the api_v2 protocol ------------------------------------------------------------------------

    def _body(self, text: str, language: str, ref: Reference, p: Prosody) -> dict[str, Any]:
        """The JSON of POST /tts, in api_v2's field names."""
        o = self.options
        return {"text": text, "text_lang": language, "ref_audio_path": ref.ref_audio_path,
                "aux_ref_audio_paths": list(ref.aux_ref_audio_paths), "prompt_text": ref.prompt_text,
                "prompt_lang": ref.prompt_lang, "top_k": o.top_k, "top_p": o.top_p, "temperature": o.temperature,
                "text_split_method": o.text_split_method, "batch_size": o.batch_size,
                "batch_threshold": o.batch_threshold, "split_bucket": o.split_bucket, "speed_factor": p.rate,
                "fragment_interval": o.fragment_interval, "seed": o.seed, "parallel_infer": o.parallel_infer,
                "repetition_penalty": o.repetition_penalty, "sample_steps": o.sample_steps,
                "super_sampling": o.super_sampling, "media_type": "wav", "streaming_mode": False}

    def _load(self, kind: str, path: str | None, voice: str) -> None:
        """Switch the server's ``kind`` weights to ``path`` unless this engine already did."""
        if path is None or self._loaded.get(kind) == path:
            return
        self._loaded.pop(kind, None)         # unknown until the server says it loaded them
        response = self._request("GET", f"/set_{kind}_weights", params={"weights_path": path})
        label = "GPT" if kind == "gpt" else "SoVITS"
        self._check(response, f"could not load the {label} weights {path!r} of voice {voice!r} (the path is read "
                              "on the server's machine)")
        self._loaded[kind] = path

    @contextlib.contextmanager
    def _serving(self) -> Any:
        """The server started through the broker when the studio runs it (voice.gpt_sovits_command)."""
        server = _managed_server(self.url)
        if server is None:
            yield
            return
        with server.use():
            pid = server.process.pid if server.process is not None else None
            if pid != self._server_pid:      # a new process knows none of the weights sent before
                self._loaded.clear()
                self._server_pid = pid
            yield

    def _http(self) -> Any:
        if self._client is None:
            try:
                import httpx
            except ImportError as exc:
                raise MissingDependencyError.for_extra("httpx", "voice", "The gpt-sovits engine") from exc
            self._client = httpx.Client(timeout=httpx.Timeout(self.options.timeout_s,
                                                              connect=self.options.connect_timeout_s))
        return self._client

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        import httpx

        client = self._http()
        try:
            return client.request(method, self.url + path, **kwargs)
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            raise InvalidInputError(f"gpt-sovits: url {self.url} is not usable ({exc}); give one like "
                                    f"{DEFAULT_URL}") from exc
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            where = urlsplit(self.url)
            port = where.port or (443 if where.scheme == "https" else 80)
            raise ServiceUnavailableError(
                f"GPT-SoVITS does not answer at {self.url} ({type(exc).__name__}: {exc}); start its API server there "
                f"(in the GPT-SoVITS folder: python api_v2.py -a {where.hostname} -p {port}) or point the gpt-sovits "
                "engine at yours with its url option (--url)") from exc
        except httpx.TimeoutException as exc:
            raise ServiceUnavailableError(
                f"GPT-SoVITS at {self.url} did not answer {path} within {self.options.timeout_s:g} s; check the "
                "server's console, or raise the gpt-sovits engine's timeout_s option") from exc
        except httpx.TransportError as exc:
            raise ServiceUnavailableError(f"GPT-SoVITS at {self.url} broke off {path} ({type(exc).__name__}: "
                                          f"{exc}); check the server's console and that it still runs") from exc

    def _check(self, response: Any, what: str) -> None:
        """Raise for an error answer: 400/422 are the request's fault, anything else the server's."""
        status = response.status_code
        if status < 300:
            return
        message = _server_message(response)
        if status in (400, 422):
            raise InvalidInputError(f"GPT-SoVITS at {self.url} {what}: {message}")
        if status in (404, 405):
            raise ServiceUnavailableError(f"{self.url} has no GPT-SoVITS api_v2 endpoint {response.url.path} "
                                          f"(HTTP {status}); run api_v2.py there (the older api.py speaks "
                                          "another protocol) or fix the gpt-sovits engine's url option")
        raise ServiceUnavailableError(f"GPT-SoVITS at {self.url} failed on {response.url.path} (HTTP {status}): "
                                      f"{message}; check the server's console")

    def _decode(self, response: Any) -> tuple[np.ndarray, int]:
        """The WAV of a /tts answer as float32 mono samples and their rate."""
        try:
            import soundfile as sf
        except ImportError as exc:
            raise MissingDependencyError.for_extra("soundfile", "voice", "The gpt-sovits engine") from exc
        try:
            data, rate = sf.read(io.BytesIO(response.content), dtype="float32", always_2d=True)
        except (RuntimeError, TypeError, ValueError) as exc:
            kind = response.headers.get("content-type", "no content type")
            raise ServiceUnavailableError(f"GPT-SoVITS at {self.url} answered /tts with {kind} "
                                          f"({response.content[:60]!r}) instead of WAV audio; check that the "
                                          "url points at GPT-SoVITS's api_v2.py") from exc
        if not len(data):
            raise ServiceUnavailableError(f"GPT-SoVITS at {self.url} answered /tts with an empty WAV; check the "
                                          "server's console and the voice's reference clip")
        return data.mean(axis=1, dtype=np.float32), int(rate)


def _server_message(response: Any) -> str:
    """api_v2's own words: ``{"message": ..., "Exception": ...}`` (FastAPI's ``{"detail": ...}`` for bad fields)."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:300] or response.reason_phrase or "no details"
    if isinstance(body, dict):
        if body.get("message"):
            extra = body.get("Exception")
            return f"{body['message']}: {extra}" if extra else str(body["message"])
        detail = body.get("detail")
        if isinstance(detail, list):
            return "; ".join(f"{'.'.join(str(p) for p in d.get('loc', [])[1:])}: {d.get('msg')}"
                             for d in detail if isinstance(d, dict))[:500]
        if detail:
            return str(detail)[:500]
    return str(body)[:300]


_SERVERS: dict[tuple[str, str], Any] = {}
_SERVERS_LOCK = threading.Lock()


def _managed_server(url: str) -> Any:
    """The studio-run GPT-SoVITS server answering at ``url``, or None when the studio does not start one."""
    from animstudio.config import load_settings

    conf = load_settings().voice
    if not conf.gpt_sovits_command:
        return None
    with _SERVERS_LOCK:
        key = (conf.gpt_sovits_command, url)
        if key not in _SERVERS:
            from animstudio.models.servers import Server

            # api_v2 loads its models before it listens: any answer means it is ready
            _SERVERS[key] = Server("gpt-sovits", conf.gpt_sovits_command, url, memory=conf.gpt_sovits_memory,
                                   keep_alive_s=conf.gpt_sovits_idle_s, ready_paths=("/",), any_answer_is_ready=True)
        return _SERVERS[key]
