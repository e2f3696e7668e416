"""The one extension point: a real plugin package adds a backend and a CLI command."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pytest

from animstudio import plugins
from animstudio.analysis.detector import Detection, SceneDetector
from animstudio.errors import InvalidInputError, PluginError, UnknownBackendError
from animstudio.hookspecs import hookimpl
from conftest import run_cli

PLUGIN_MODULE = '''
import numpy as np
import typer
from animstudio.analysis.detector import Detection, SceneDetector
from animstudio.hookspecs import hookimpl


class TinyDetector(SceneDetector):
    """Cuts wherever the mean brightness jumps."""
    name = "tiny"

    class Options(SceneDetector.Options):
        threshold: float = 0.5

    def process(self, features):
        jumps = np.flatnonzero(np.abs(np.diff(features.luma)) > self.options.threshold) + 1
        return Detection(cuts=[int(j) for j in jumps])


@hookimpl
def register_detectors(register):
    register(TinyDetector)


@hookimpl
def register_commands(app):
    @app.command("hello")
    def hello(name: str = typer.Option("world", help="Who to greet.")):
        """Say hello from the tiny plugin."""
        typer.echo(f"hello {name} from tiny")
'''


@pytest.fixture(scope="module")
def installed_plugin(tmp_path_factory) -> Path:
    """Build and pip-install a plugin package into a target folder, as a user's `pip install` would."""
    src = tmp_path_factory.mktemp("plugin-src")
    (src / "animstudio_tiny.py").write_text(PLUGIN_MODULE)
    (src / "pyproject.toml").write_text(textwrap.dedent('''
        [build-system]
        requires = ["setuptools>=61"]
        build-backend = "setuptools.build_meta"
        [project]
        name = "animstudio-tiny"
        version = "0.1.0"
        [project.entry-points.animstudio]
        tiny = "animstudio_tiny"
        [tool.setuptools]
        py-modules = ["animstudio_tiny"]
    '''))
    target = tmp_path_factory.mktemp("plugin-site")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                    "--no-index", "--target", str(target), str(src)], check=True, capture_output=True)
    return target


def test_installed_plugin_adds_backend_and_command(installed_plugin):
    env = {"PYTHONPATH": str(installed_plugin), "ANIMSTUDIO_NO_PLUGINS": ""}
    listing = run_cli("plugins", "list", "--json", env=env)
    assert listing.returncode == 0, listing.stderr
    data = json.loads(listing.stdout)
    assert data["backends"]["detector"]["tiny"] == "animstudio_tiny.TinyDetector"
    assert data["backends"]["detector"]["animation"].startswith("animstudio.analysis.detectors")
    tiny = next(p for p in data["plugins"] if p["name"] == "tiny")
    assert tiny["distribution"] == "animstudio-tiny" and "register_detectors" in tiny["hooks"]
    builtin = {p["module"] for p in data["plugins"] if p["distribution"] == "animstudio"}
    assert {"animstudio.cli.builtin", "animstudio.pipelines", "animstudio.voice.tools"} <= builtin   # same group
    hello = run_cli("hello", "--name", "Bugs", env=env)
    assert hello.returncode == 0 and hello.stdout.strip() == "hello Bugs from tiny"
    assert "hello" in run_cli("--help", env=env).stdout
    # without the plugin, neither exists
    assert run_cli("hello").returncode == 2
    assert "tiny" not in json.loads(run_cli("plugins", "list", "--json").stdout)["backends"]["detector"]


def plugin_site(tmp_path: Path, name: str, source: str) -> Path:
    """A folder that holds plugin ``animstudio_NAME`` as if pip had installed it there (for PYTHONPATH)."""
    site = tmp_path / "site"
    dist = site / f"animstudio_{name}-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(f"Name: animstudio-{name}\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(f"[animstudio]\n{name} = animstudio_{name}\n")
    (site / f"animstudio_{name}.py").write_text(source)
    return site


def test_broken_plugin_does_not_break_the_cli(tmp_path, installed_plugin):
    broken = plugin_site(tmp_path, "broken", "raise ImportError('needs a missing library')\n")
    proc = run_cli("media", "--help", env={"PYTHONPATH": str(broken), "ANIMSTUDIO_NO_PLUGINS": ""})
    assert proc.returncode == 0
    assert "plugin broken (animstudio-broken) failed to load" in proc.stderr


def test_get_backend_in_process():
    class Flash(SceneDetector):
        name = "flash"

        class Options(SceneDetector.Options):
            min_gap: int = 3

        def process(self, features):
            return Detection()

    module = types.SimpleNamespace(register_detectors=hookimpl(lambda register: register(Flash)))
    plugins.register_module(module, name="test-flash")
    assert plugins.get_backend("detector", "flash") is Flash
    assert Flash(min_gap=5).options.min_gap == 5
    with pytest.raises(InvalidInputError, match="known options: min_gap"):
        Flash(bogus=1)
    with pytest.raises(UnknownBackendError, match="known: adaptive, animation, content, flash"):
        plugins.get_backend("detector", "nope")
    with pytest.raises(UnknownBackendError, match="kinds: detector, llm_engine, tts_engine"):
        plugins.backends("spaceship")


def test_plugin_failing_inside_a_hook_is_skipped(tmp_path):
    site = plugin_site(tmp_path, "rude", textwrap.dedent('''
        import typer
        from animstudio.hookspecs import hookimpl

        @hookimpl
        def register_detectors(register):
            raise RuntimeError("boom")

        @hookimpl
        def register_commands(app):
            models = typer.Typer()
            @models.command("list")
            def hijack():
                print("hijacked")
            app.add_typer(models, name="models")
    '''))
    env = {"PYTHONPATH": str(site), "ANIMSTUDIO_NO_PLUGINS": ""}
    listing = run_cli("plugins", "list", "--json", env=env)
    assert listing.returncode == 0, listing.stderr
    assert "plugin animstudio_rude skipped: register_detectors failed: RuntimeError: boom" in listing.stderr
    rude = next(p for p in json.loads(listing.stdout)["plugins"] if p["name"] == "rude")
    assert "boom" in rude["error"]
    models = run_cli("models", "list", "--json", env=env)
    assert models.returncode == 0 and "hijacked" not in models.stdout
    assert "tried to replace models" in models.stderr


SLOPPY_MODULE = '''
from animstudio.analysis.detector import SceneDetector
from animstudio.backend import Backend
from animstudio.hookspecs import hookimpl


class Sloppy(SceneDetector):
    name = "sloppy"
    def detect(self, features):          # the wrong method name
        return None


class NotADetector(Backend):
    name = "impostor"
    def process(self, features):
        return None


@hookimpl
def register_detectors(register):
    register(Sloppy)


@hookimpl
def register_llm_engines(register):
    register(NotADetector)
'''


def test_a_plugin_whose_class_breaks_its_kinds_contract_is_refused_by_name(tmp_path):
    site = plugin_site(tmp_path, "sloppy", SLOPPY_MODULE)
    env = {"PYTHONPATH": str(site), "ANIMSTUDIO_NO_PLUGINS": ""}
    listing = run_cli("plugins", "list", "--json", env=env)
    assert listing.returncode == 0, listing.stderr
    assert ("plugin animstudio_sloppy skipped: register_detectors failed: PluginError: animstudio_sloppy.Sloppy "
            "does not define process(), which every detector must have") in listing.stderr
    assert ("animstudio_sloppy.NotADetector is registered as a llm engine but is not one; subclass "
            "animstudio.llm.base.Engine and define chat()") in listing.stderr
    data = json.loads(listing.stdout)
    assert "sloppy" not in data["backends"]["detector"] and "impostor" not in data["backends"]["llm_engine"]
    assert set(data["backends"]["detector"]) == {"animation", "content", "adaptive", "threshold", "histogram", "hash"}


def test_each_kind_checks_its_contract_in_process():
    class Nameless(SceneDetector):
        def process(self, features):
            return Detection()

    class NoOptions(SceneDetector):
        name = "no-options"
        Options = None

        def process(self, features):
            return Detection()

    with pytest.raises(PluginError, match="has no name"):
        plugins.check_backend("detector", Nameless)
    with pytest.raises(PluginError, match="has no Options model"):
        plugins.check_backend("detector", NoOptions)
    with pytest.raises(PluginError, match="is registered as a pipeline but is not one"):
        plugins.check_backend("pipeline", Nameless)
    for kind, spec in plugins.KINDS.items():   # every kind's base can be imported and names its method
        base = spec.base_class()
        assert hasattr(base, spec.method), kind
