"""The GPU-host deployment (deploy/: compose file, studio image, Prometheus, Grafana) and docs/deploy.md,
checked without a container engine: every service, volume, port, setting, command line, scrape target and
chart they name is one that exists, in the compose file or in the code."""

from __future__ import annotations

import functools
import json
import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import typer
import yaml
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import BaseModel

from animstudio.config import ENV_PREFIX, Settings, explain_settings

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
COMPOSE_FILE = DEPLOY / "compose.yaml"
DOCKERFILE = DEPLOY / "Dockerfile"
PROMETHEUS_FILE = DEPLOY / "prometheus.yml"
GRAFANA = DEPLOY / "grafana"
DASHBOARD_FILE = GRAFANA / "dashboards" / "animstudio.json"
DOCS = ROOT / "docs" / "deploy.md"

# Series Prometheus writes itself for every target, beside what the target serves.
PROMETHEUS_SERIES = {"up"}


# -- reading the files as Compose, Docker and the CLI read them -------------------------------------------

_VARIABLE = re.compile(r"\$(?:\$|\{(?P<braced>[A-Za-z_]\w*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
                       r"|(?P<bare>[A-Za-z_]\w*))")


def interpolate(text: str, required: dict[str, str] | None = None) -> str:
    """``text`` as Compose reads it with no variable set: ``${VAR:-default}`` gives the default, ``$$`` a
    dollar, and a required ``${VAR:?message}`` stands as ``test-var`` (its name and message go to
    ``required``)."""
    def one(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group("braced") or match.group("bare")
        op, arg = match.group("op") or "", match.group("arg") or ""
        if op.endswith("-"):
            return arg
        if op.endswith("?"):
            if required is not None:
                required[name] = arg
            return f"test-{name.lower()}"
        return ""
    return _VARIABLE.sub(one, text)


def _resolved(node: Any, required: dict[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, required)
    if isinstance(node, list):
        return [_resolved(item, required) for item in node]
    if isinstance(node, dict):
        return {key: _resolved(value, required) for key, value in node.items()}
    return node


@functools.cache
def raw_compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


@functools.cache
def compose_and_required() -> tuple[dict[str, Any], dict[str, str]]:
    required: dict[str, str] = {}
    return _resolved(raw_compose(), required), required


def services() -> dict[str, dict[str, Any]]:
    return compose_and_required()[0]["services"]


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def command_of(service: dict[str, Any]) -> list[str]:
    command = service.get("command")
    if command is None and "build" in service:
        return dockerfile()["CMD"]
    return shlex.split(command) if isinstance(command, str) else [str(part) for part in command or []]


def port_spec(spec: Any) -> tuple[str | None, list[int], int]:
    """A ``ports`` entry as (host address, host ports, container port); no host ports when Docker picks."""
    if isinstance(spec, dict):
        published = str(spec.get("published", ""))
        host_ports = _port_range(published) if published else []
        return spec.get("host_ip"), host_ports, int(spec["target"])
    parts = str(spec).split("/")[0].split(":")
    container = int(parts[-1])
    if len(parts) == 1:
        return None, [], container
    return (parts[0] if len(parts) == 3 else None), _port_range(parts[-2]), container


def _port_range(text: str) -> list[int]:
    first, _, last = text.partition("-")
    return list(range(int(first), int(last or first) + 1))


def listen_ports(service: dict[str, Any]) -> set[int]:
    """The ports a service listens on in the compose network: its ``expose`` and its published ports."""
    exposed = {int(str(p).split("/")[0]) for p in service.get("expose", [])}
    return exposed | {port_spec(p)[2] for p in service.get("ports", [])}


def mounts(service: dict[str, Any]) -> list[tuple[str, str | None, str]]:
    """Each volume entry as (kind, source, target): kind ``volume`` (named or anonymous) or ``bind``."""
    out = []
    for entry in service.get("volumes", []):
        if isinstance(entry, dict):
            source = entry.get("source")
            kind = entry.get("type", "volume")
            out.append((kind, source, entry["target"]))
            continue
        parts = entry.split(":")
        if len(parts) == 1:
            out.append(("volume", None, parts[0]))
            continue
        kind = "bind" if parts[0].startswith((".", "/", "~")) else "volume"
        out.append((kind, parts[0], parts[1]))
    return out


def project_services() -> dict[str, dict[str, Any]]:
    """The services that run the studio's own image (built from this repository)."""
    return {name: s for name, s in services().items() if "build" in s}


@functools.cache
def dockerfile() -> dict[str, Any]:
    """The Dockerfile's instructions: FROM, RUN (joined), COPY sources, ENV, CMD."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    out: dict[str, Any] = {"RUN": [], "COPY": [], "ENV": {}}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        if word == "FROM":
            out["FROM"] = rest.split()[0]
        elif word == "RUN":
            out["RUN"].append(rest)
        elif word == "COPY":
            out["COPY"] += [a for a in shlex.split(rest) if not a.startswith("--")][:-1]
        elif word == "ENV":
            out["ENV"].update(pair.split("=", 1) for pair in shlex.split(rest))
        elif word == "CMD":
            out["CMD"] = json.loads(rest)
    return out


def cli(argv: list[str]) -> tuple[list[str], dict[str, Any]]:
    """An ``animstudio`` command line parsed by the real CLI: its command path and its parameters."""
    from animstudio.cli import build_app

    assert argv[0] == "animstudio", f"{argv} does not run animstudio"
    command = typer.main.get_command(build_app())
    args, path = list(argv[1:]), []
    while hasattr(command, "list_commands"):   # a command group: the next word names its command
        name, args = args[0], args[1:]
        sub = command.get_command(command.context_class(command), name)
        assert sub is not None, f"animstudio has no command {' '.join(path + [name])!r}"
        command, path = sub, path + [name]
    return path, command.make_context(" ".join(["animstudio", *path]), args).params


def setting_of(variable: str) -> str | None:
    """The dotted settings key an ``ANIMSTUDIO_*`` variable sets, walking Settings section by section;
    None when there is no such field."""
    parts = variable.removeprefix(ENV_PREFIX).lower().split("__")
    model: type[BaseModel] = Settings
    for depth, part in enumerate(parts):
        field = model.model_fields.get(part)
        if field is None:
            return None
        if depth < len(parts) - 1:
            if not (isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)):
                return None
            model = field.annotation
    return ".".join(parts)


def app_of(argv: list[str]) -> Any:
    """The ASGI app a project service's command line serves, made the way that command makes it."""
    path, _ = cli(argv)
    if path == ["llm", "serve"]:
        from animstudio.config import LLMGatewaySettings
        from animstudio.llm.gateway.app import create_app

        return create_app({}, LLMGatewaySettings())
    if path == ["studio", "serve"]:
        from animstudio.studio.api import create_app

        return create_app(api_keys=list(cli(argv)[1].get("api_key") or []))
    raise AssertionError(f"no known server behind `animstudio {' '.join(path)}`")


def exposition(argv: list[str], path: str, token: str | None = None) -> list[Any] | None:
    """The metric families served at ``path`` by that command's app (asked with ``token`` as a bearer
    key), or None when it serves none there."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = TestClient(app_of(argv)).get(path, headers=headers)
    if response.status_code != 200 or "text/plain" not in response.headers.get("content-type", ""):
        return None
    return list(text_string_to_metric_families(response.text))


SUFFIXES = {"counter": ("_total", "_created"), "gauge": ("",), "histogram": ("_bucket", "_count", "_sum", "_created"),
            "summary": ("", "_count", "_sum", "_created"), "unknown": ("",), "info": ("_info",),
            "stateset": ("",), "gaugehistogram": ("_bucket", "_gcount", "_gsum")}


def series_names(families: list[Any]) -> set[str]:
    """The series names a PromQL query may use for these families (a counter's ``_total``, a histogram's
    ``_bucket`` ...)."""
    return {family.name + suffix for family in families for suffix in SUFFIXES[family.type]}


def scrape_targets() -> list[tuple[str, str, str, int]]:
    """Each Prometheus target as (job, metrics path, host, port)."""
    config = yaml.safe_load(PROMETHEUS_FILE.read_text(encoding="utf-8"))
    out = []
    for job in config["scrape_configs"]:
        path = job.get("metrics_path", "/metrics")
        for static in job.get("static_configs", []):
            for target in static["targets"]:
                host, _, port = target.rpartition(":")
                out.append((job["job_name"], path, host, int(port)))
        for dns in job.get("dns_sd_configs", []):
            assert dns.get("type", "SRV") == "A", "a compose network answers A records; give type: A and a port"
            out += [(job["job_name"], path, name, int(dns["port"])) for name in dns["names"]]
    return out


def scrape_token(job_name: str) -> str | None:
    """The bearer key Prometheus sends for a job: the compose secret mounted at its credentials file, as
    Compose fills it from its variable (a required one stands as ``test-<name>``)."""
    config = yaml.safe_load(PROMETHEUS_FILE.read_text(encoding="utf-8"))
    job = next(j for j in config["scrape_configs"] if j["job_name"] == job_name)
    credentials = (job.get("authorization") or {}).get("credentials_file")
    if credentials is None:
        return None
    assert credentials.startswith("/run/secrets/"), f"job {job_name}: the key must come from a compose secret"
    name = credentials.removeprefix("/run/secrets/")
    assert name in services()["prometheus"].get("secrets", []), f"prometheus is not given the secret {name}"
    variable = compose_and_required()[0]["secrets"][name]["environment"]
    return f"test-{variable.lower()}"


_PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless",
                 "offset", "inf", "nan"}


def promql_metrics(expr: str) -> set[str]:
    """The metric names a PromQL expression reads (not its functions, labels, keywords or numbers)."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    expr = re.sub(r"\{[^}]*\}", "", expr)
    expr = re.sub(r"\[[^\]]*\]", "", expr)
    expr = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    label_values = re.match(r"\s*label_values\(\s*([A-Za-z_:][\w:]*)\s*,", expr)
    if label_values:   # a Grafana variable query: label_values(metric, label)
        return {label_values.group(1)}
    names = set()
    for match in re.finditer(r"(?<![\w.$])([A-Za-z_:][\w:]*)\s*(\()?", expr):
        if not match.group(2) and match.group(1).lower() not in _PROMQL_WORDS:
            names.add(match.group(1))
    return names


def dashboard_panels(panels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for panel in panels:
        out.append(panel)
        out += dashboard_panels(panel.get("panels", []))
    return out


# -- the compose file ------------------------------------------------------------------------------------

def test_compose_parses_and_every_service_runs_an_image():
    assert compose_and_required()[0]["name"] == "animstudio"
    assert services(), "compose.yaml has no services"
    for name, service in services().items():
        assert "image" in service or "build" in service, f"service {name} has neither image nor build"
        if "build" in service:
            context = (COMPOSE_FILE.parent / service["build"]["context"]).resolve()
            assert (context / "pyproject.toml").is_file(), f"{name} builds from {context}, not the repository"
            assert (context / service["build"]["dockerfile"]).resolve() == DOCKERFILE


def test_the_stack_has_every_part():
    commands = {tuple(cli(command_of(s))[0]) for s in project_services().values()}
    assert commands == {("studio", "serve"), ("llm", "serve")}
    images = " ".join(s.get("image", "") for s in services().values() if "build" not in s)
    for part in ("vllm/vllm-openai:", "gpt-sovits", "redis:", "postgres:", "chromadb/chroma:", "prom/prometheus:",
                 "grafana/grafana:"):
        assert part in images, f"no service runs {part}"


def test_depends_on_names_services_and_waits_only_on_healthchecks():
    order: dict[str, set[str]] = {}
    for name, service in services().items():
        depends = service.get("depends_on") or {}
        if isinstance(depends, list):
            depends = {other: {"condition": "service_started"} for other in depends}
        order[name] = set(depends)
        for other, spec in depends.items():
            assert other in services(), f"{name} depends on {other}, which is not a service"
            condition = spec.get("condition", "service_started")
            assert condition in ("service_started", "service_healthy", "service_completed_successfully")
            if condition == "service_healthy":
                assert services()[other].get("healthcheck", {}).get("test"), \
                    f"{name} waits for {other} to be healthy, but {other} has no healthcheck"
    done: set[str] = set()
    while len(done) < len(order):   # every service can start: no cycle
        ready = {name for name, needs in order.items() if name not in done and needs <= done}
        assert ready, f"depends_on has a cycle among {sorted(set(order) - done)}"
        done |= ready


def test_every_service_has_a_healthcheck():
    for name, service in services().items():
        test = service.get("healthcheck", {}).get("test")
        assert test and test[0] in ("CMD", "CMD-SHELL"), f"service {name} has no healthcheck"


def test_named_volumes_are_declared_and_used_and_bind_sources_exist():
    declared = set(compose_and_required()[0].get("volumes") or {})
    used = set()
    for name, service in services().items():
        written = raw_compose()["services"][name].get("volumes", [])
        for (kind, source, target), entry in zip(mounts(service), written, strict=True):
            assert target.startswith("/"), f"{name} mounts on {target!r}, not an absolute path"
            if kind == "volume":
                assert source is not None, f"{name} has an anonymous volume on {target}; name it"
                assert source in declared, f"{name} uses volume {source!r}, not declared under volumes:"
                used.add(source)
            elif "${" not in str(entry):   # a folder the operator chooses may not exist yet
                assert (COMPOSE_FILE.parent / source).exists(), f"{name} mounts {source}, which does not exist"
    assert declared == used, f"declared but unused volumes: {sorted(declared - used)}"
    for name in ("studio", "gateway"):
        targets = {target: source for _, source, target in mounts(services()[name])}
        env = environment(services()[name])
        assert env["ANIMSTUDIO_HOME"] in targets and env["ANIMSTUDIO_MODELS"] in targets, \
            f"{name}'s studio home and model warehouse must be on volumes"
    assert "/var/lib/postgresql/data" in {t for _, _, t in mounts(services()["postgres"])}


def test_published_ports_do_not_clash():
    seen: dict[int, str] = {}
    for name, service in services().items():
        for spec in service.get("ports", []):
            _, host_ports, container = port_spec(spec)
            assert container in listen_ports(service)
            for port in host_ports:
                assert 0 < port < 65536
                assert port not in seen, f"host port {port} is published by {seen[port]} and {name}"
                seen[port] = name
    assert seen, "nothing is published to the host"


def test_gpu_reservations_ask_for_nvidia_gpus():
    reserving = set()
    for name, service in services().items():
        devices = service.get("deploy", {}).get("resources", {}).get("reservations", {}).get("devices", [])
        for device in devices:
            assert device.get("driver") == "nvidia" and "gpu" in device.get("capabilities", []), \
                f"{name}'s device reservation needs driver: nvidia and capabilities: [gpu]"
            reserving.add(name)
    vllm = next(n for n, s in services().items() if s.get("image", "").startswith("vllm/vllm-openai:"))
    assert vllm in reserving and "studio" in reserving


# -- settings --------------------------------------------------------------------------------------------

def _settings_variables() -> list[Any]:
    found = [(name, var) for name, service in services().items() for var in environment(service)
             if var.startswith(ENV_PREFIX)]
    found += [("Dockerfile", var) for var in dockerfile()["ENV"] if var.startswith(ENV_PREFIX)]
    return [pytest.param(var, id=f"{where}-{var}") for where, var in found]


@pytest.mark.parametrize("variable", _settings_variables())
def test_animstudio_variable_is_a_setting(variable):
    assert setting_of(variable) is not None, f"{variable} names no field of animstudio.config.Settings"


@pytest.mark.parametrize("name", sorted(project_services()))
def test_service_settings_load_from_its_environment(name, monkeypatch):
    env = {k: v for k, v in environment(services()[name]).items() if k.startswith(ENV_PREFIX)}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    sources = explain_settings()
    for variable in env:
        key = setting_of(variable)
        rows = [row for row in sources if row[0] == key or row[0].startswith(key + ".")]
        # (a table's entries are reported under the variable of each entry: ..._ROUTES__CHAT)
        assert rows and all(source.startswith(f"env {variable}") for _, _, source in rows), (variable, rows)


def test_service_urls_in_settings_point_at_services():
    postgres = environment(services()["postgres"])
    checked = 0
    for name, service in project_services().items():
        for variable, value in environment(service).items():
            if not variable.startswith(ENV_PREFIX):
                continue
            for url in re.findall(r"[a-z]+://[^\s\"',\]]+", value):
                parts = urlsplit(url)
                default = {"http": 80, "https": 443, "redis": 6379, "postgresql": 5432}[parts.scheme]
                assert parts.hostname in services(), f"{name}: {variable} names {parts.hostname}, not a service"
                assert (parts.port or default) in listen_ports(services()[parts.hostname]), \
                    f"{name}: {variable} calls {parts.hostname} on {parts.port or default}, where it does not listen"
                if parts.scheme == "postgresql":
                    assert (parts.username, parts.password, parts.path.lstrip("/")) == \
                        (postgres["POSTGRES_USER"], postgres["POSTGRES_PASSWORD"], postgres["POSTGRES_DB"])
                checked += 1
    assert checked >= 5


def test_secrets_come_from_required_variables():
    raw = raw_compose()["services"]
    _, required = compose_and_required()
    secret = re.compile(r"PASSWORD|SECRET|TOKEN|API_KEY", re.I)
    for name, service in raw.items():
        for variable, value in environment(service).items():
            if secret.search(variable) and value:
                assert "${" in value, f"{name}'s {variable} is written in the file; take it from a variable"
        command = [str(part) for part in service.get("command") or []]
        for flag, value in zip(command, command[1:], strict=False):
            if flag == "--api-key":
                assert re.fullmatch(r"\$\{\w+:\?[^}]+\}", value), f"{name}'s --api-key must be ${{VAR:?message}}"
    assert {"STUDIO_API_KEY", "POSTGRES_PASSWORD", "GRAFANA_ADMIN_PASSWORD"} <= set(required)
    assert all(message.strip() for message in required.values())


def test_commands_parse_with_the_real_cli():
    for name, service in project_services().items():
        path, params = cli(command_of(service))
        assert params["host"] == "0.0.0.0", f"{name} listens only inside its container"
        assert params["port"] in listen_ports(service), f"{name} serves on {params['port']}, which is not exposed"
        url = service["healthcheck"]["test"][-1]
        assert f"127.0.0.1:{params['port']}/" in url, f"{name}'s healthcheck asks another port"


# -- the image -------------------------------------------------------------------------------------------

def test_dockerfile_builds_the_studio_from_the_source_tree():
    spec = dockerfile()
    assert spec["FROM"].startswith("python:3.11-slim")
    apt = next(run for run in spec["RUN"] if "apt-get install" in run).split()
    assert {"ffmpeg", "espeak-ng"} <= set(apt)
    assert any(re.search(r"\bpip install \"?\.(\[|\"|\s)", run) for run in spec["RUN"]), \
        "the project is not pip-installed from the source tree"
    for source in spec["COPY"]:
        assert (ROOT / source).exists(), f"COPY {source}: no such file in the repository"
    ignored = (DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()
    assert ignored.index("*") < min(ignored.index(f"!{source}") for source in spec["COPY"]), \
        "the build context leaves out what COPY needs"
    path, params = cli(spec["CMD"])
    assert path == ["studio", "serve"] and params["host"] == "0.0.0.0"
    assert spec["ENV"]["ANIMSTUDIO_HOME"] == environment(services()["studio"])["ANIMSTUDIO_HOME"]


# -- Prometheus ------------------------------------------------------------------------------------------

def test_prometheus_scrapes_services_where_the_code_serves_metrics():
    targets = scrape_targets()
    assert targets
    for job, path, host, port in targets:
        assert host in services(), f"job {job} scrapes {host}, not a service"
        assert port in listen_ports(services()[host]), f"job {job} scrapes {host}:{port}, where it does not listen"
        if host in project_services():
            argv = command_of(services()[host])
            assert cli(argv)[1]["port"] == port
            families = exposition(argv, path, scrape_token(job))
            assert families, f"job {job}: {host} serves no metrics at {path}"
            if scrape_token(job) is None:
                continue
            assert exposition(argv, path) is None, f"job {job}: {host} serves {path} without its key"
    scraped = {host for _, _, host, _ in targets}
    for name, service in project_services().items():   # a service that serves metrics is scraped
        if name not in scraped:
            assert exposition(command_of(service), "/metrics") is None, f"{name} serves /metrics; scrape it"
    mounted = {target: source for _, source, target in mounts(services()["prometheus"])}
    config = next(a.split("=", 1)[1] for a in command_of(services()["prometheus"]) if a.startswith("--config.file="))
    assert (COMPOSE_FILE.parent / mounted[config]).resolve() == PROMETHEUS_FILE


# -- Grafana ---------------------------------------------------------------------------------------------

DASHBOARD_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["uid", "title", "schemaVersion", "panels", "templating"],
    "properties": {
        "uid": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,40}$"},
        "title": {"type": "string", "minLength": 1},
        "schemaVersion": {"type": "integer", "minimum": 30},
        "refresh": {"type": "string"},
        "time": {"type": "object", "required": ["from", "to"]},
        "templating": {"type": "object", "required": ["list"],
                       "properties": {"list": {"type": "array", "items": {"$ref": "#/$defs/variable"}}}},
        "panels": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/panel"}},
    },
    "$defs": {
        "datasource": {"type": "object", "required": ["type", "uid"],
                       "properties": {"type": {"const": "prometheus"}, "uid": {"type": "string", "minLength": 1}}},
        "gridPos": {"type": "object", "required": ["h", "w", "x", "y"],
                    "properties": {"h": {"type": "integer", "minimum": 1},
                                   "w": {"type": "integer", "minimum": 1, "maximum": 24},
                                   "x": {"type": "integer", "minimum": 0, "maximum": 23},
                                   "y": {"type": "integer", "minimum": 0}}},
        "target": {"type": "object", "required": ["refId", "expr"],
                   "properties": {"refId": {"type": "string", "minLength": 1},
                                  "expr": {"type": "string", "minLength": 1},
                                  "datasource": {"$ref": "#/$defs/datasource"}}},
        "panel": {
            "type": "object", "required": ["id", "type", "title", "gridPos"],
            "properties": {"id": {"type": "integer", "minimum": 1},
                           "type": {"enum": ["row", "timeseries", "stat", "heatmap", "gauge", "bargauge", "table"]},
                           "title": {"type": "string", "minLength": 1},
                           "gridPos": {"$ref": "#/$defs/gridPos"},
                           "datasource": {"$ref": "#/$defs/datasource"},
                           "targets": {"type": "array", "items": {"$ref": "#/$defs/target"}},
                           "panels": {"type": "array", "items": {"$ref": "#/$defs/panel"}}},
            "if": {"properties": {"type": {"const": "row"}}},
            "then": {"not": {"required": ["targets"]}},
            "else": {"required": ["datasource", "targets"], "properties": {"targets": {"minItems": 1}}},
        },
        "variable": {"type": "object", "required": ["name", "type", "query", "datasource"],
                     "properties": {"name": {"type": "string", "pattern": "^[a-z_]+$"},
                                    "type": {"const": "query"},
                                    "datasource": {"$ref": "#/$defs/datasource"},
                                    "query": {"type": "object", "required": ["query"]}}},
    },
}


def _dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD_FILE.read_text(encoding="utf-8"))


def _provisioned_datasource() -> dict[str, Any]:
    files = sorted((GRAFANA / "provisioning" / "datasources").glob("*.yaml"))
    assert files, "no datasource is provisioned"
    sources = [s for f in files for s in yaml.safe_load(f.read_text(encoding="utf-8"))["datasources"]]
    assert len(sources) == 1
    return sources[0]


def test_dashboard_has_the_shape_grafana_needs():
    dashboard = _dashboard()
    jsonschema.Draft202012Validator.check_schema(DASHBOARD_SCHEMA)
    jsonschema.Draft202012Validator(DASHBOARD_SCHEMA).validate(dashboard)
    panels = dashboard_panels(dashboard["panels"])
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids)), "panel ids repeat"
    boxes = []
    for panel in panels:
        g = panel["gridPos"]
        assert g["x"] + g["w"] <= 24, f"panel {panel['title']!r} runs past the 24 columns"
        for title, (x, y, w, h) in boxes:
            assert not (g["x"] < x + w and x < g["x"] + g["w"] and g["y"] < y + h and y < g["y"] + g["h"]), \
                f"panels {title!r} and {panel['title']!r} overlap"
        boxes.append((panel["title"], (g["x"], g["y"], g["w"], g["h"])))
    for panel in panels:
        refs = [t["refId"] for t in panel.get("targets", [])]
        assert len(refs) == len(set(refs)), f"panel {panel['title']!r} repeats a refId"


def test_dashboard_uses_the_provisioned_datasource():
    uid = _provisioned_datasource()["uid"]
    dashboard = _dashboard()
    used = [p["datasource"]["uid"] for p in dashboard_panels(dashboard["panels"]) if "datasource" in p]
    used += [t["datasource"]["uid"] for p in dashboard_panels(dashboard["panels"]) for t in p.get("targets", [])
             if "datasource" in t]
    used += [v["datasource"]["uid"] for v in dashboard["templating"]["list"]]
    assert used and set(used) == {uid}


def test_dashboard_charts_only_metrics_the_code_serves():
    served: set[str] = set(PROMETHEUS_SERIES)
    for job, path, host, _ in scrape_targets():
        if host in project_services():
            served |= series_names(exposition(command_of(services()[host]), path, scrape_token(job)) or [])
    assert "llm_requests_total" in served and "llm_request_seconds_bucket" in served
    dashboard = _dashboard()
    queries = [(p["title"], t["expr"]) for p in dashboard_panels(dashboard["panels"]) for t in p.get("targets", [])]
    queries += [(f"variable {v['name']}", v["query"]["query"]) for v in dashboard["templating"]["list"]]
    charted = set()
    for title, expr in queries:
        names = promql_metrics(expr)
        assert names, f"{title}: {expr!r} reads no metric"
        unknown = names - served
        assert not unknown, f"{title}: {sorted(unknown)} are not served by the studio's metrics endpoints"
        charted |= names
    assert any(name.endswith("_bucket") for name in charted), "no latency histogram is charted"


def test_promql_metric_names_are_read_from_expressions():
    expr = ('histogram_quantile(0.95, sum by (le, model) (rate(llm_request_seconds_bucket{model=~"$model",'
            'status!~"2.."}[$__rate_interval]))) / on (model) group_left count(up == 1) * 1e-3')
    assert promql_metrics(expr) == {"llm_request_seconds_bucket", "up"}
    assert promql_metrics("label_values(llm_in_flight, instance)") == {"llm_in_flight"}


def test_grafana_provisioning_matches_the_mounts():
    grafana = services()["grafana"]
    mounted = {target: source for _, source, target in mounts(grafana)}
    assert (COMPOSE_FILE.parent / mounted["/etc/grafana/provisioning"]).resolve() == GRAFANA / "provisioning"
    url = urlsplit(_provisioned_datasource()["url"])
    assert url.hostname in services() and url.port in listen_ports(services()[url.hostname])
    assert "prom/prometheus" in services()[url.hostname]["image"]
    providers = [p for f in sorted((GRAFANA / "provisioning" / "dashboards").glob("*.yaml"))
                 for p in yaml.safe_load(f.read_text(encoding="utf-8"))["providers"]]
    assert providers
    for provider in providers:
        folder = provider["options"]["path"]
        assert folder in mounted, f"dashboards are read from {folder}, which grafana does not mount"
        assert (COMPOSE_FILE.parent / mounted[folder] / DASHBOARD_FILE.name).resolve() == DASHBOARD_FILE
    home = environment(grafana)["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home == f"{providers[0]['options']['path']}/{DASHBOARD_FILE.name}"


# -- the guide -------------------------------------------------------------------------------------------

def test_docs_name_real_settings_variables_and_ports():
    text = DOCS.read_text(encoding="utf-8")
    assert "docker compose -f deploy/compose.yaml up -d" in text
    for variable in set(re.findall(r"\bANIMSTUDIO_[A-Z0-9_]+\b", text)):
        assert setting_of(variable) is not None, f"docs/deploy.md names {variable}, which is not a setting"
    compose_variables = set(re.findall(r"\$\{(\w+)", COMPOSE_FILE.read_text(encoding="utf-8")))
    undocumented = {v for v in compose_variables if f"`{v}`" not in text}
    assert not undocumented, f"docs/deploy.md does not explain {sorted(undocumented)}"
    published = {port for s in services().values() for spec in s.get("ports", []) for port in port_spec(spec)[1]}
    for port in re.findall(r"http://(?:localhost|127\.0\.0\.1|HOST):(\d+)", text):
        assert int(port) in published, f"docs/deploy.md sends readers to port {port}, which nothing publishes"
