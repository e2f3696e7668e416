"""Typed tools: their contract is checked when they are defined; arguments are checked when called."""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel, ConfigDict

from animstudio.errors import InvalidInputError, PluginError
from animstudio.tools import Tool, get_tool, tool, tools
from conftest import assert_bad_input, run_cli


class Sum(BaseModel):
    total: int


def test_name_description_and_schema_come_from_the_signature_and_docstring():
    @tool("demo.add", example={"a": 1})
    def add(a: int, b: int = 2) -> Sum:
        """Add two whole numbers.

        Args:
            a: the first number
            b: the second number, which may
                be long enough to wrap
        """
        return Sum(total=a + b)

    assert isinstance(add, Tool) and add.name == "demo.add" and add.description == "Add two whole numbers."
    schema = add.schema()
    assert schema["required"] == ["a"] and schema["additionalProperties"] is False
    assert schema["properties"]["b"] == {"default": 2, "description": "the second number, which may be long enough "
                                                                      "to wrap", "title": "B", "type": "integer"}
    assert add(a=3) == Sum(total=5) and add(a=3, b=4).total == 7
    with pytest.raises(InvalidInputError, match=r"^demo.add: invalid a 'x': input should be a valid integer"):
        add(a="x")
    with pytest.raises(InvalidInputError, match="extra inputs are not permitted"):
        add(a=1, c=2)


def _def(name="demo.t", doc="Do a thing.\n\n    Args:\n        a: a number\n    ", example=None, ret=Sum, **kw):
    def fn(a: int) -> ret:  # type: ignore[valid-type]
        return Sum(total=a)

    fn.__doc__ = doc
    fn.__annotations__ = {"a": int, "return": ret, **kw}
    return tool(name, example=example)(fn)


@pytest.mark.parametrize(("kwargs", "needle"), [
    ({"name": "Voice Say"}, "a tool name is lowercase words"),
    ({"doc": None}, "has no docstring"),
    ({"doc": "Do a thing."}, "argument 'a' is not described under 'Args:'"),
    ({"doc": "Do.\n\n    Args:\n        a: x\n        b: y\n"}, "describes b, which it does not take"),
    ({"ret": dict}, "must declare its return type as a pydantic model"),
    ({"example": {"a": "many"}}, "its example arguments are not valid: invalid a 'many'"),
])
def test_a_broken_tool_is_refused_when_it_is_defined(kwargs, needle):
    with pytest.raises(PluginError, match=needle):
        _def(**kwargs)


class Loose(BaseModel):
    a: int


class Strict(Loose):
    model_config = ConfigDict(extra="forbid")


def test_a_tool_may_take_one_model_as_its_arguments():
    def fn(request: Strict) -> Sum:
        """Total of one number."""
        return Sum(total=request.a)

    one = tool("demo.one", example={"a": 1})(fn)
    assert one.Options is Strict and one(a=4).total == 4
    fn.__annotations__ = {"request": Loose, "return": Sum}
    with pytest.raises(PluginError, match="must forbid extra fields"):
        tool("demo.loose")(fn)


def test_registered_tools_describe_themselves_and_run_from_the_cli(tmp_path):
    assert {"parody", "narrate"} <= set(tools())
    listing = run_cli("tools", "list", "--json")
    assert listing.returncode == 0, listing.stderr
    described = {t["name"]: t for t in json.loads(listing.stdout)}
    assert set(described) == set(tools())
    parody = described["parody"]
    assert parody["parameters"]["required"] == ["clip"] and "brief" in parody["parameters"]["properties"]
    assert get_tool("parody").check(parody["example"]).brief == "sports commentary"
    wrong = run_cli("tools", "call", "parody", "--args", '{"clip": "a.mp4", "seed": "many"}')
    assert_bad_input(wrong, "invalid seed 'many'", code=2)
    not_json = run_cli("tools", "call", "parody", "--args", "{clip: a.mp4}")
    assert_bad_input(not_json, "not JSON", code=2)
    unknown = run_cli("tools", "call", "nope")
    assert_bad_input(unknown, "no tool called 'nope'")
