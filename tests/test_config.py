"""Settings: defaults, config.toml in the home, ANIMSTUDIO_* variables, and where each value came from."""

from __future__ import annotations

import json

import pytest

from animstudio.config import default_home, explain_settings, load_settings
from animstudio.errors import ConfigError
from conftest import run_cli


def test_defaults_follow_the_home(studio_home, monkeypatch):
    s = load_settings()
    assert s.home == studio_home
    assert s.warehouse == studio_home / "models"
    assert s.llm.default_model == "qwen2.5-coder-1.5b-instruct"
    monkeypatch.delenv("ANIMSTUDIO_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", "/tmp/xdg-test")
    assert default_home().as_posix() == "/tmp/xdg-test/animstudio"
    assert load_settings().home.as_posix() == "/tmp/xdg-test/animstudio"


def test_sources_in_order(studio_home, monkeypatch, tmp_path):
    studio_home.mkdir(parents=True)
    (studio_home / "config.toml").write_text('[llm]\nthreads = 3\ndefault_model = "smollm2-135m-instruct"\n'
                                             '[llm.cache]\nttl_s = 60\n')
    monkeypatch.setenv("ANIMSTUDIO_MODELS", str(tmp_path / "wh"))
    monkeypatch.setenv("ANIMSTUDIO_LLM__THREADS", "5")
    monkeypatch.setenv("ANIMSTUDIO_LLM__CACHE__REDIS_URL", "redis://127.0.0.1:1/0")
    s = load_settings()
    assert s.llm.threads == 5 and s.llm.default_model == "smollm2-135m-instruct" and s.llm.cache.ttl_s == 60
    assert s.llm.cache.redis_url == "redis://127.0.0.1:1/0"
    assert s.warehouse == tmp_path / "wh"
    sources = {key: source for key, _, source in explain_settings()}
    assert sources["llm.threads"] == "env ANIMSTUDIO_LLM__THREADS"
    assert sources["llm.default_model"] == "config.toml"
    assert sources["llm.cache.ttl_s"] == "config.toml"
    assert sources["llm.cache.redis_url"] == "env ANIMSTUDIO_LLM__CACHE__REDIS_URL"
    assert sources["models"] == "env ANIMSTUDIO_MODELS"
    assert sources["knowledge.chroma_url"] == "default"
    assert sources["home"] == "env ANIMSTUDIO_HOME"
    assert load_settings(llm={"threads": 7}).llm.threads == 7


def test_config_show_cli(studio_home):
    studio_home.mkdir(parents=True)
    (studio_home / "config.toml").write_text("[jobs]\nmax_concurrent = 2\n")
    proc = run_cli("config", "show", "--json", env={"ANIMSTUDIO_VOICE__GPT_SOVITS_URL": "http://127.0.0.1:9880"})
    assert proc.returncode == 0, proc.stderr
    shown = json.loads(proc.stdout)
    assert shown["jobs.max_concurrent"] == {"value": 2, "source": "config.toml"}
    assert shown["voice.gpt_sovits_url"]["source"] == "env ANIMSTUDIO_VOICE__GPT_SOVITS_URL"
    table = run_cli("config", "show")
    assert "config.toml" in table.stdout and "max_concurrent" in table.stdout


@pytest.mark.parametrize("text,needle", [
    ("[llm\nthreads=1", "not valid TOML"),
    ("[llm]\nthredas = 1\n", "llm.thredas"),
    ("[llm]\nthreads = -2\n", "llm.threads (config.toml)"),
])
def test_bad_config_file_is_one_clear_error(studio_home, text, needle):
    studio_home.mkdir(parents=True)
    (studio_home / "config.toml").write_text(text)
    with pytest.raises(ConfigError, match=needle.replace("(", r"\(").replace(")", r"\)")):
        load_settings()
    proc = run_cli("config", "show")
    assert proc.returncode == 1 and proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr


def test_bad_environment_value(monkeypatch):
    monkeypatch.setenv("ANIMSTUDIO_JOBS__MAX_CONCURRENT", "many")
    with pytest.raises(ConfigError, match=r"jobs.max_concurrent \(env ANIMSTUDIO_JOBS__MAX_CONCURRENT\)"):
        load_settings()


def test_paths_are_absolute_and_relative_models_live_in_the_home(studio_home, monkeypatch, tmp_path):
    studio_home.mkdir(parents=True)
    (studio_home / "config.toml").write_text('models = "weights"\n')
    monkeypatch.chdir(tmp_path)
    assert load_settings().warehouse == studio_home / "weights"
    monkeypatch.setenv("ANIMSTUDIO_MODELS", "~/wh")
    assert load_settings().warehouse.is_absolute() and "~" not in str(load_settings().warehouse)
    monkeypatch.setenv("ANIMSTUDIO_MODELS", "")
    with pytest.raises(ConfigError, match="models .*is empty"):
        load_settings()


def test_home_cannot_be_set_in_its_own_config_file(studio_home):
    studio_home.mkdir(parents=True)
    (studio_home / "config.toml").write_text('home = "/elsewhere"\n')
    with pytest.raises(ConfigError, match="set ANIMSTUDIO_HOME instead"):
        load_settings()


def test_each_load_reads_its_own_home(tmp_path, studio_home):
    for name, threads in (("a", 3), ("b", 9)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "config.toml").write_text(f"[llm]\nthreads = {threads}\n")
    assert load_settings(home=tmp_path / "a").llm.threads == 3
    assert load_settings(home=tmp_path / "b").llm.threads == 9
    assert load_settings().llm.threads == 0


def test_config_show_hides_secrets(monkeypatch):
    from animstudio.config import explain_settings

    monkeypatch.setenv("ANIMSTUDIO_LLM__GATEWAY__API_KEYS", '["sk-very-secret-1234"]')
    monkeypatch.setenv("ANIMSTUDIO_LLM__CACHE__REDIS_URL", "redis://user:hunter2@cache.local:6379/0")
    rows = {key: value for key, value, _ in explain_settings()}
    assert rows["llm.gateway.api_keys"] == ["...1234"]
    assert rows["llm.cache.redis_url"] == "redis://***@cache.local:6379/0"
