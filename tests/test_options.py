"""One declaration, many faces: an Options model becomes Typer flags, -O pairs and a JSON schema."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest
import typer
from pydantic import BaseModel, ConfigDict, Field
from typer.testing import CliRunner

from animstudio.errors import InvalidInputError
from animstudio.options import build, json_schema, parse_pairs, with_options


class Look(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    clip: str = Field(min_length=1, description="the clip")
    threshold: float = Field(0.5, ge=0, le=1, description="how different two frames must be")
    mode: Literal["fast", "exact"] = Field("exact", description="how hard to look")
    loud: bool = Field(False, description="say more")
    tags: list[str] = Field(default_factory=list, description="labels to add")
    name: str | None = Field(None, description="a name for the result")
    extra: dict[str, int] = Field(default_factory=dict, description="anything else")


def app_for(**kwargs) -> tuple[typer.Typer, list]:
    seen: list = []
    app = typer.Typer()

    @app.command("look")
    @with_options(Look, **kwargs)
    def look(clip: Path = typer.Argument(..., help="The clip."), as_json: bool = typer.Option(False, "--json"),
             options: Look | None = None) -> None:
        seen.append((as_json, options))

    @app.command("other")
    def other() -> None:
        pass

    return app, seen


def test_fields_become_typed_flags_with_help_defaults_and_ranges():
    app, seen = app_for(args=("clip",), short={"threshold": "-t"}, names={"tags": "--tag"}, pairs=True)
    runner = CliRunner()
    help_text = runner.invoke(app, ["look", "--help"], env={"COLUMNS": "200"}).output
    for flag in ("--threshold", "-t", "--mode", "--loud", "--no-loud", "--tag", "--name", "--option", "-O",
                 "How different two frames must be.", "fast|exact", "0<=x<=1"):
        assert flag in help_text, flag
    assert "--extra" not in help_text and "--clip" not in help_text   # a mapping goes through -O; clip is the argument
    ok = runner.invoke(app, ["look", "a.mp4", "-t", "0.7", "--mode", "fast", "--loud", "--tag", "x", "--tag", "y",
                             "-O", 'extra={"k": 2}', "--json"])
    assert ok.exit_code == 0, ok.output
    as_json, options = seen[-1]
    assert as_json is True
    assert options == Look(clip="a.mp4", threshold=0.7, mode="fast", loud=True, tags=["x", "y"], extra={"k": 2})
    runner.invoke(app, ["look", "b.mp4"])
    assert seen[-1][1] == Look(clip="b.mp4")   # defaults come from the model, nothing else


def test_bad_values_are_usage_errors_or_one_line_errors():
    app, _ = app_for(args=("clip",), pairs=True)
    runner = CliRunner()
    out_of_range = runner.invoke(app, ["look", "a.mp4", "--threshold", "1.5"])
    assert out_of_range.exit_code == 2 and "less than or equal to 1" in out_of_range.output
    wrong_choice = runner.invoke(app, ["look", "a.mp4", "--mode", "slow"])
    assert wrong_choice.exit_code == 2
    unknown = runner.invoke(app, ["look", "a.mp4", "-O", "bogus=1"])
    assert isinstance(unknown.exception, InvalidInputError)
    assert str(unknown.exception) == ("invalid bogus 1: extra inputs are not permitted "
                                      "(known: clip, threshold, mode, loud, tags, name, extra)")


def test_a_command_may_not_declare_a_field_itself():
    with pytest.raises(TypeError, match="declares threshold itself and in Look"):
        @with_options(Look)
        def twice(threshold: float = 0.1, options: Look | None = None) -> None:
            pass


def test_pairs_and_build():
    assert parse_pairs(["threshold=0.6", "mode=fast", "tags=[\"a\"]", "name=x=y"]) == {
        "threshold": 0.6, "mode": "fast", "tags": ["a"], "name": "x=y"}
    with pytest.raises(InvalidInputError, match="must look like KEY=VALUE"):
        parse_pairs(["threshold"])
    with pytest.raises(InvalidInputError, match="invalid threshold nan"):
        build(Look, {"clip": "a", "threshold": float("nan")})
    schema = json_schema(Look)
    assert schema["additionalProperties"] is False and schema["required"] == ["clip"]
    assert schema["properties"]["mode"]["enum"] == ["fast", "exact"]
    assert schema["properties"]["threshold"]["maximum"] == 1
