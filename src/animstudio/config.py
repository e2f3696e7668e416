"""Settings: one typed tree, read from defaults, ``<home>/config.toml`` and ``ANIMSTUDIO_*`` variables.

Later sources win: defaults < config.toml < environment < arguments. Nested keys use ``__`` in
variable names (``ANIMSTUDIO_LLM__CACHE__REDIS_URL``) and tables in the file (``[llm.cache]``).

    >>> from animstudio.config import load_settings
    >>> settings = load_settings()
    >>> settings.models            # the model warehouse
    >>> explain_settings()         # [(key, value, source), ...] as `animstudio config show` prints
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from animstudio.errors import ConfigError

ENV_PREFIX = "ANIMSTUDIO_"
CONFIG_FILE_NAME = "config.toml"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class LLMCacheSettings(_Section):
    redis_url: str | None = Field(None, description="Redis URL for the response cache; unset: in-process + disk")
    ttl_s: int = Field(7 * 24 * 3600, ge=0, description="how long cached responses live, seconds")


class ManagedModelSettings(_Section):
    command: str = Field(description="the server's command line, e.g. 'vllm serve MODEL --port 8001'")
    base_url: str = Field(description="where it answers, e.g. http://127.0.0.1:8001/v1")
    idle_s: float = Field(600.0, gt=0, description="stopped after this long without requests, seconds")
    device: Literal["auto", "gpu", "ram"] = Field(
        "auto", description="where its memory counts: gpu, ram, or auto (gpu where an NVIDIA GPU is present)")
    memory: str | None = Field(None, description="what it takes ('18GB'); default: measured at its first start "
                                                 "(until then a GPU server runs alone)")
    sleep: bool | None = Field(None, description="put it to sleep instead of stopping it when the GPU is wanted "
                                                 "(vLLM --enable-sleep-mode); default: asked of the server")
    startup_s: float = Field(600.0, gt=0, description="how long it may take to start answering, seconds")

    @field_validator("memory")
    @classmethod
    def _memory(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"\s*(\d+(\.\d*)?|\.\d+)\s*[KMGT]?B\s*", value, re.IGNORECASE):
            raise ValueError("give a size with a unit, e.g. '18GB' or '512MB'")
        return value


class LLMGatewaySettings(_Section):
    api_keys: list[str] = Field(default_factory=list, description="keys clients must send (Bearer); empty: no auth")
    requests_per_minute: int = Field(0, ge=0, description="per key (or per client address); 0 = unlimited")
    max_tokens: int = Field(8192, ge=1, description="largest max_tokens a request may ask for")
    timeout_s: float = Field(600.0, gt=0, description="longest a request may take, seconds")
    routes: dict[str, list[str]] = Field(
        default_factory=dict, description="alias -> upstream base URLs (failover in order, 'URL@MODEL' names the "
                                          "upstream's model) or 'embedded:CATALOG_NAME'")
    managed: dict[str, ManagedModelSettings] = Field(
        default_factory=dict, description="alias -> a model server the gateway starts on demand and stops when idle")


class LLMSettings(_Section):
    default_model: str = Field("qwen2.5-coder-1.5b-instruct", description="catalog name or upstream alias")
    threads: int = Field(0, ge=0, description="CPU threads for the embedded engine; 0 = all cores")
    context: int = Field(8192, ge=256, le=131072, description="the embedded engine's context length, tokens (agent "
                                                              "frameworks send several thousand tokens of tools)")
    prompt_cache: bool = Field(True, description="keep the embedded engine's long system prompts read (their KV "
                                                 "cache) in the studio home, so a new process does not read them again")
    flash_attention: Literal["auto", "on", "off"] = Field(
        "auto", description="llama.cpp's flash attention in the embedded engine; auto: off when it runs on the CPU "
                            "only (there it generates about a fifth slower after a long prompt), else llama.cpp's "
                            "choice")
    base_url: str | None = Field(None, description="an OpenAI-compatible upstream instead of the embedded engine")
    vision: bool = Field(False, description="the upstream model reads images (a vision-language model such as "
                                            "Qwen2.5-VL): the parody's writer and critic see each shot's keyframe")
    engine: str | None = Field(None, description="a registered LLM engine to use (default: openai when base_url "
                                                 "is set, else embedded)")
    cache: LLMCacheSettings = LLMCacheSettings()
    gateway: LLMGatewaySettings = LLMGatewaySettings()


class KnowledgeSettings(_Section):
    vector_store: str = Field("chroma", description="where the knowledge base keeps its collections: a registered "
                                                    "vector store (animstudio plugins list)")
    embedder: str = Field("all-minilm-l6-v2", description="the text embedder of the knowledge base and the gateway's "
                                                          "/v1/embeddings: a registered embedder")
    chroma_url: str | None = Field(None, description="a Chroma server; unset: embedded store in the studio home")


class VoiceSettings(_Section):
    gpt_sovits_url: str | None = Field(None, description="a GPT-SoVITS api_v2 server for cloned voices")
    gpt_sovits_command: str | None = Field(
        None, description="starts that server when a line needs it (e.g. 'python /opt/GPT-SoVITS/api_v2.py -a "
                          "127.0.0.1 -p 9880'); it is held through the model broker and stopped when idle or when "
                          "its memory is wanted")
    gpt_sovits_memory: str | None = Field(None, description="what the started server takes ('4GB'); default: "
                                                            "measured at its first start")
    gpt_sovits_idle_s: float = Field(300.0, gt=0, description="the started server stops after this long unused, "
                                                              "seconds")

    @field_validator("gpt_sovits_memory")
    @classmethod
    def _memory(cls, value: str | None) -> str | None:
        return ManagedModelSettings._memory(value)


class ImageSettings(_Section):
    checkpoint: str | None = Field(None, description="the default checkpoint: a warehouse name, a diffusers folder "
                                                     "or a .safetensors file (SDXL, SDXL-Turbo or SD 1.5)")
    device: Literal["auto", "cuda", "cpu"] = Field("auto", description="where images are made: auto (cuda when a "
                                                                       "GPU is present)")
    depth_model: str | None = Field(None, description="the depth-estimation model (a warehouse name or transformers "
                                                      "folder, e.g. Depth Anything) behind depth and normal control "
                                                      "images")


class AgentSettings(_Section):
    search_provider: str = Field("duckduckgo", description="web.search's provider: a registered search provider "
                                                           "(duckduckgo, searxng)")
    searxng_url: str | None = Field(None, description="a SearxNG instance for the searxng provider")
    web_allow_private: bool = Field(False, description="let web.fetch read loopback, private and link-local "
                                                       "addresses (off: public pages only)")
    web_max_bytes: int = Field(2_000_000, ge=1024, description="web.fetch reads at most this much of a page")
    web_timeout_s: float = Field(15.0, gt=0, le=300, description="web.fetch gives up on a page after this long")
    record_runs: bool = Field(True, description="record each finished run (request, plan, outputs, scores) into "
                                                "the knowledge base's generations collection")
    max_steps: int = Field(12, ge=1, le=200, description="tool calls an agent run may make")
    max_seconds: float = Field(1800.0, gt=0, description="how long an agent run may take")


class MediaSettings(_Section):
    decode_threads: int = Field(0, ge=0, description="decoder threads; 0 = let the decoder choose")


class JobsSettings(_Section):
    max_concurrent: int = Field(1, ge=1, description="jobs that run at once")
    media_folders: list[Path] = Field(default_factory=list, description="folders the studio API may read clips "
                                                                        "and timelines from, besides its uploads")
    database_url: str | None = Field(None, description="a postgresql:// URL: the job store on a PostgreSQL server "
                                                       "that workers on several hosts share (default: a SQLite file "
                                                       "in the studio home)")


class RaySettings(_Section):
    address: str | None = Field(None, description="the Ray cluster batch work runs on with executor = \"ray\": "
                                                  "HOST:PORT of its head, or ray://HOST:10001 (default: a Ray "
                                                  "instance started on this machine for the run)")
    max_retries: int = Field(3, ge=0, le=20, description="times a task whose worker died is run again elsewhere")
    forward_settings: bool = Field(True, description="give the workers this process's ANIMSTUDIO_* variables "
                                                     "(the home, the warehouse, every setting)")


class BrokerSettings(_Section):
    ram_budget: str = Field("0.8", description="memory models may take: bytes with a unit ('6GB', '512MB') or "
                                               "a fraction of the machine's RAM ('0.8'), shared by every process")
    gpu_budget: str = Field("0.9", description="GPU memory models may take: bytes with a unit or a fraction of "
                                               "the card's memory")
    keep_alive_s: float = Field(300.0, ge=0, description="an idle model is unloaded after this many seconds "
                                                         "(0: kept until memory is needed)")
    wait_s: float = Field(30.0, ge=0, description="how long to wait for another process to release memory")
    heartbeat_s: float = Field(2.0, gt=0, le=60, description="how often a process says it is alive in the "
                                                             "ledger; a holder whose process ended is reclaimed at "
                                                             "once, one silent for 3 beats and a minute too")

    @field_validator("ram_budget", "gpu_budget")
    @classmethod
    def _size(cls, value: str) -> str:
        if not re.fullmatch(r"\s*(\d+(\.\d*)?|\.\d+)\s*([KMGT]?B)?\s*", str(value), re.IGNORECASE):
            raise ValueError("give bytes with a unit ('6GB', '512MB') or a fraction of the memory ('0.8')")
        return str(value).strip()


def default_home() -> Path:
    """The studio home when ANIMSTUDIO_HOME is not set: under the XDG data directory."""
    return platformdirs.user_data_path("animstudio", appauthor=False)


class Settings(BaseSettings):
    """The whole configuration. Field descriptions are what `animstudio config show` documents."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid",
                                      allow_inf_nan=False)

    home: Path = Field(default_factory=default_home, description="studio home: config, jobs, stores")
    models: Path | None = Field(None, description="model warehouse; default <home>/models")
    llm: LLMSettings = LLMSettings()
    knowledge: KnowledgeSettings = KnowledgeSettings()
    voice: VoiceSettings = VoiceSettings()
    image: ImageSettings = ImageSettings()
    agent: AgentSettings = AgentSettings()
    media: MediaSettings = MediaSettings()
    jobs: JobsSettings = JobsSettings()
    broker: BrokerSettings = BrokerSettings()
    executor: str = Field("local", description="where batch work runs: local (this process) or ray (the cluster "
                                               "at ray.address); a command's --executor wins")
    ray: RaySettings = RaySettings()

    @field_validator("home", "models", mode="before")
    @classmethod
    def _path(cls, value: Any) -> Any:
        if value is not None and not str(value).strip():
            raise ValueError("is empty; give a folder or unset it")
        return Path(str(value)).expanduser() if value is not None else None

    @model_validator(mode="after")
    def _absolute(self) -> Settings:
        self.home = self.home.absolute()
        if self.models is not None and not self.models.is_absolute():
            self.models = self.home / self.models  # relative to the home, wherever the command runs
        return self

    @property
    def warehouse(self) -> Path:
        return self.models or self.home / "models"

    @property
    def config_file(self) -> Path:
        return self.home.expanduser() / CONFIG_FILE_NAME

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        home = _home_from(getattr(init_settings, "init_kwargs", {}))
        return init_settings, env_settings, _TomlSource(settings_cls, home / CONFIG_FILE_NAME)


class _TomlSource(PydanticBaseSettingsSource):
    """Reads ``config.toml`` from the home chosen by arguments or the environment."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path) -> None:
        super().__init__(settings_cls)
        self.path = path

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:  # pragma: no cover
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        return _read_toml(self.path)


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc}); fix the file or move it away") from exc
    if "home" in data:
        raise ConfigError(f"{path} sets `home`, but the file lives in the home; "
                          f"set ANIMSTUDIO_HOME instead and remove that line")
    return data


def _home_from(overrides: dict[str, Any]) -> Path:
    if overrides.get("home"):
        return Path(overrides["home"]).expanduser().absolute()
    env = next((v for k, v in os.environ.items() if k.upper() == ENV_PREFIX + "HOME"), None)
    return Path(env).expanduser().absolute() if env and env.strip() else default_home()


def load_settings(check_folders: bool = True, **overrides: Any) -> Settings:
    """Build the effective settings; keyword arguments win over every other source. A home or
    warehouse that is a file is refused unless ``check_folders`` is off (``doctor`` reports it)."""
    toml_path = _home_from(overrides) / CONFIG_FILE_NAME
    try:
        settings = Settings(**overrides)
        for what, folder in (("home", settings.home), ("models", settings.models)):
            if check_folders and folder is not None and folder.exists() and not folder.is_dir():
                variable = ENV_PREFIX + what.upper()
                raise ConfigError(f"{what} {folder} is a file, not a folder; point {variable} at a folder")
        return settings
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"])
        origin = _origin(key, overrides, _env_values(), _read_toml(toml_path))
        raise ConfigError(f"invalid setting {key} ({origin}): {err['msg']}; "
                          f"fix it or remove it (see `animstudio config show`)") from exc
    except ValueError as exc:  # malformed nested JSON in an environment variable
        raise ConfigError(f"invalid ANIMSTUDIO_* environment variable: {exc}") from exc


def _env_values() -> dict[str, Any]:
    try:
        return EnvSettingsSource(Settings, env_prefix=ENV_PREFIX, env_nested_delimiter="__")()
    except ValueError:
        return {}


def _masked(key: str, value: Any) -> Any:
    """Secrets shown by their last characters only: API keys, passwords in URLs."""
    if key.endswith("api_keys") and isinstance(value, list):
        return [f"...{str(v)[-4:]}" for v in value]
    if isinstance(value, str) and "://" in value and "@" in value.split("://", 1)[1]:
        scheme, rest = value.split("://", 1)
        return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
    return value


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(_flatten(value, name + "."))
        else:
            out[name] = value
    return out


def _origin(key: str, overrides: dict[str, Any], env: dict[str, Any], toml: dict[str, Any]) -> str:
    for source, label in ((overrides, "argument"), (env, None), (toml, CONFIG_FILE_NAME)):
        flat = _flatten(source)
        if key in flat or any(key.startswith(k + ".") for k in flat):
            return label or "env " + ENV_PREFIX + key.replace(".", "__").upper()
    return "default"


def explain_settings(**overrides: Any) -> list[tuple[str, Any, str]]:
    """Each effective setting as ``(dotted key, value, where it came from)``."""
    settings = load_settings(**overrides)
    env = _env_values()
    toml = _read_toml(settings.config_file)
    values = _flatten(settings.model_dump(mode="json"))
    rows = [(key, _masked(key, value), _origin(key, overrides, env, toml)) for key, value in values.items()]
    if settings.models is None:
        rows = [r if r[0] != "models" else ("models", str(settings.warehouse), "default (<home>/models)")
                for r in rows]
    return rows


__all__ = ["Settings", "load_settings", "explain_settings", "default_home"]
