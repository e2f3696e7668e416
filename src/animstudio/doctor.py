"""What this installation has and can do: Python, torch/CUDA, GPU, ffmpeg, extras, models, services.

    >>> report = run_checks()
    >>> [c for c in report if c.status == "fail"]
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import os
import platform
import socket
import sys
from dataclasses import asdict, dataclass
from typing import Literal
from urllib.parse import urlparse

from packaging.requirements import Requirement

import animstudio
from animstudio.config import load_settings
from animstudio.errors import StudioError

Status = Literal["ok", "warn", "fail", "info"]

# the module each extra's users import first: imported by `doctor --deep`
EXTRA_MODULES: dict[str, list[str]] = {
    "analysis": ["cv2", "scipy"],
    "editing": ["opentimelineio"],
    "voice": ["piper", "onnxruntime", "faster_whisper", "pocketsphinx", "soundfile", "yaml", "httpx", "scipy", "torch"],
    "llm": ["xllamacpp", "openai", "httpx", "fastapi", "uvicorn", "redis", "prometheus_client"],
    "image": ["torch", "diffusers", "transformers", "safetensors", "peft"],
    "knowledge": ["chromadb", "bm25s", "sentence_transformers"],
    "agent": ["openai"],
    "studio": ["fastapi", "uvicorn", "multipart", "jinja2"],
}
KEY_FILTERS = ("xfade", "subtitles", "ass", "drawtext", "overlay", "lut3d", "zoompan", "loudnorm", "ebur128",
               "sidechaincompress", "atempo", "rubberband", "amix")
KEY_ENCODERS = ("libx264", "aac", "libvpx-vp9", "libopus")


@dataclass
class Check:
    group: str
    name: str
    status: Status
    detail: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def _extra_requirements(extra: str) -> list[Requirement]:
    reqs = []
    for text in importlib.metadata.requires("animstudio") or []:
        req = Requirement(text)
        if req.marker and req.marker.evaluate({"extra": extra}) and not req.marker.evaluate({"extra": ""}):
            reqs.append(req)
    return reqs


def _missing(req: Requirement, seen: set[str]) -> list[str]:
    """Distributions of ``req`` (following self-references like animstudio[llm]) that are absent or too old."""
    if req.name == "animstudio":
        out = []
        for extra in req.extras - seen:
            seen.add(extra)
            for sub in _extra_requirements(extra):
                out += _missing(sub, seen)
        return out
    try:
        version = importlib.metadata.version(req.name)
    except importlib.metadata.PackageNotFoundError:
        return [req.name]
    return [] if req.specifier.contains(version, prereleases=True) else [f"{req.name} {version} (want {req.specifier})"]


def check_extras(deep: bool = False) -> list[Check]:
    checks = []
    for extra, modules in EXTRA_MODULES.items():
        missing: list[str] = []
        for req in _extra_requirements(extra):
            missing += _missing(req, {extra})
        if missing:
            checks.append(Check("extras", extra, "warn",
                                f"missing {', '.join(sorted(set(missing)))}: pip install 'animstudio[{extra}]'"))
            continue
        broken = []
        for module in modules:
            if importlib.util.find_spec(module) is None:
                broken.append(module)
            elif deep:
                try:
                    importlib.import_module(module)
                except Exception as exc:  # an installed package that fails to import
                    broken.append(f"{module} ({type(exc).__name__}: {exc})")
        if broken:
            checks.append(Check("extras", extra, "fail", f"cannot import {', '.join(broken)}: "
                                f"pip install --force-reinstall 'animstudio[{extra}]'"))
        else:
            checks.append(Check("extras", extra, "ok", "imports fine" if deep else "installed"))
    return checks


def check_platform() -> list[Check]:
    out = [Check("platform", "animstudio", "ok", animstudio.__version__),
           Check("platform", "python", "ok" if sys.version_info >= (3, 11) else "fail",
                 f"{platform.python_version()} ({sys.executable})"),
           Check("platform", "system", "info", f"{platform.platform()}, {os.cpu_count()} CPUs, {_memory()}")]
    return out


def _memory() -> str:
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        return f"{pages * size / 2**30:.1f} GiB RAM"
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return "RAM unknown"


def check_torch() -> list[Check]:
    if importlib.util.find_spec("torch") is None:
        return [Check("gpu", "torch", "info", "not installed (pip install 'animstudio[image]')")]
    try:
        import torch
    except Exception as exc:
        return [Check("gpu", "torch", "fail", f"import failed: {type(exc).__name__}: {exc}")]
    if torch.cuda.is_available():
        return [Check("gpu", "torch", "ok", f"{torch.__version__}, CUDA {torch.version.cuda}, "
                      f"{torch.cuda.device_count()} device(s): {torch.cuda.get_device_name(0)}")]
    build = f"CUDA {torch.version.cuda} build" if torch.version.cuda else "CPU build"
    return [Check("gpu", "torch", "info", f"{torch.__version__} ({build}); CUDA not available, runs on CPU")]


def check_nvml() -> list[Check]:
    try:
        import pynvml
        pynvml.nvmlInit()
    except Exception as exc:
        return [Check("gpu", "nvidia", "info", f"no NVIDIA driver/GPU found ({type(exc).__name__})")]
    try:
        driver = pynvml.nvmlSystemGetDriverVersion()
        out = []
        for i in range(pynvml.nvmlDeviceGetCount()):
            h = pynvml.nvmlDeviceGetHandleByIndex(i)
            mem = pynvml.nvmlDeviceGetMemoryInfo(h)
            name = pynvml.nvmlDeviceGetName(h)
            name = name.decode() if isinstance(name, bytes) else name
            out.append(Check("gpu", f"gpu{i}", "ok", f"{name}, {mem.used / 2**30:.1f}/{mem.total / 2**30:.1f} GiB "
                             f"used, driver {driver}"))
        return out or [Check("gpu", "nvidia", "info", f"driver {driver}, no GPU")]
    finally:
        pynvml.nvmlShutdown()


def check_ffmpeg() -> list[Check]:
    from animstudio.media.ffmpeg import ffmpeg_encoders, ffmpeg_exe, ffmpeg_filters, ffmpeg_version

    try:
        exe = ffmpeg_exe()
        version = ffmpeg_version()
    except (StudioError, OSError) as exc:
        return [Check("ffmpeg", "binary", "fail", str(exc))]
    out = [Check("ffmpeg", "binary", "ok", f"{version} (imageio-ffmpeg: {os.path.basename(exe)})")]
    filters, encoders = ffmpeg_filters(), ffmpeg_encoders()
    lacking = [f for f in KEY_FILTERS if f not in filters] + [e for e in KEY_ENCODERS if e not in encoders]
    out.append(Check("ffmpeg", "filters", "fail" if lacking else "ok",
                     f"missing {', '.join(lacking)}" if lacking else
                     f"all {len(KEY_FILTERS)} key filters and {len(KEY_ENCODERS)} encoders present"))
    return out


def check_espeak() -> list[Check]:
    """espeak-ng: the espeak engine, Kokoro's phonemes and lip sync outside English need it."""
    import shutil
    import subprocess

    exe = shutil.which("espeak-ng")
    if exe is None:
        return [Check("voice", "espeak-ng", "warn", "not installed: the espeak and kokoro engines and non-English "
                                                    "lip sync need it (apt install espeak-ng)")]
    version = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout.split("Data at")[0].strip()
    return [Check("voice", "espeak-ng", "ok", version or exe)]


def check_redis() -> list[Check]:
    """redis-server: only the test suite (and a Redis cache you run on this machine) needs it."""
    import shutil

    exe = shutil.which("redis-server")
    if exe is None:
        return [Check("llm", "redis-server", "info",
                      "not installed: `make test` needs it for the response-cache tests "
                      "(apt install redis-server); the gateway uses any Redis named by llm.cache.redis_url")]
    return [Check("llm", "redis-server", "ok", exe)]


def check_budgets() -> list[Check]:
    """The model broker's budgets and what the studio processes on this machine hold now."""
    from animstudio.config import load_settings
    from animstudio.models.broker import human, machine_status

    conf = load_settings().broker
    found = machine_status()
    out = []
    for device, budget in found["budgets"].items():
        setting = getattr(conf, f"{device}_budget")
        if device == "gpu" and not budget:
            out.append(Check("models", "gpu budget", "info", "no NVIDIA GPU: models load in RAM"))
            continue
        out.append(Check("models", f"{device} budget", "ok",
                         f"{human(budget)} (broker.{device}_budget = {setting}); {human(found['used'][device])} "
                         f"held by {len({m['pid'] for m in found['models'] if m['device'] == device})} process(es)"))
    return out


def check_models() -> list[Check]:
    from animstudio.models.catalog import catalog
    from animstudio.models.warehouse import Warehouse

    wh = Warehouse()
    out = []
    for entry in catalog():
        states = {s.state for s in wh.status(entry)}
        if states == {"verified"}:
            out.append(Check("models", entry.name, "ok", f"verified ({wh.path(entry)})"))
        elif "bad" in states:
            out.append(Check("models", entry.name, "fail", f"hash mismatch: animstudio models install {entry.name}"))
        elif states == {"missing"}:
            out.append(Check("models", entry.name, "info", f"not installed: animstudio models install {entry.name}"))
        elif "missing" in states:
            out.append(Check("models", entry.name, "warn", f"incomplete: animstudio models install {entry.name}"))
        else:
            out.append(Check("models", entry.name, "warn", f"not verified yet: animstudio models verify {entry.name}"))
    return out


def _service_urls() -> dict[str, str]:
    settings = load_settings(check_folders=False)   # a bad home is a finding here
    found: dict[str, str] = {}

    def walk(prefix: str, tree: dict) -> None:
        for key, value in tree.items():
            if isinstance(value, dict):
                walk(f"{prefix}{key}.", value)
            elif key.endswith("_url") and value:
                found[prefix + key] = value

    walk("", settings.model_dump(mode="json"))
    return found


def reachable(url: str, timeout: float = 1.5) -> str | None:
    """None when a TCP connection to the URL's host and port succeeds; otherwise the reason."""
    try:
        parsed = urlparse(url)
        port = parsed.port or {"https": 443, "http": 80, "redis": 6379, "rediss": 6380}.get(parsed.scheme, 80)
    except ValueError as exc:
        return f"malformed URL ({exc}); write it like http://host:port"
    if not parsed.hostname or not parsed.scheme:
        return "not a URL; write it like http://host:port"
    try:
        with socket.create_connection((parsed.hostname, port), timeout=timeout):
            return None
    except OSError as exc:
        return exc.strerror or type(exc).__name__


def check_services() -> list[Check]:
    urls = _service_urls()
    if not urls:
        return [Check("services", "configured", "info", "none (embedded defaults in use)")]
    out = []
    for key, url in urls.items():
        problem = reachable(url)
        fix = "" if problem is None or "URL" in problem else "; start it or unset " + key
        out.append(Check("services", key, "ok" if problem is None else "fail",
                         f"{url} reachable" if problem is None else f"{url}: {problem}{fix}"))
    return out


def check_home() -> list[Check]:
    settings = load_settings(check_folders=False)   # a bad home is a finding here
    out = []
    for name, path, var in (("home", settings.home, "ANIMSTUDIO_HOME"),
                            ("warehouse", settings.warehouse, "ANIMSTUDIO_MODELS")):
        target = path if path.exists() else next((p for p in path.parents if p.exists()), path)
        problem = None
        if not target.is_dir():
            problem = f"{target} is not a folder"
        elif not os.access(target, os.W_OK):
            problem = f"{target} is not writable"
        out.append(Check("platform", name, "fail" if problem else "ok",
                         f"{path}: {problem}; set {var} to a writable folder" if problem else str(path)))
    return out


def run_checks(deep: bool = False) -> list[Check]:
    checks: list[Check] = []
    steps = [check_platform, check_home, check_ffmpeg, lambda: check_extras(deep), check_torch, check_nvml,
             check_espeak, check_redis, check_budgets, check_models, check_services]
    for fn in steps:
        try:
            checks += fn()
        except StudioError as exc:
            checks.append(Check("doctor", getattr(fn, "__name__", "check"), "fail", str(exc)))
    return checks
