"""The registered tools as OpenAI function definitions (from their type hints and docstrings), and as
the short signature lines a planner prompt lists.

    functions()               # [{"type": "function", "function": {"name": "voice_say", ...}}, ...]
    tool_name("voice_say")    # 'voice.say' (OpenAI names allow no dots)
"""

from __future__ import annotations

from typing import Any

from animstudio.errors import InvalidInputError
from animstudio.llm.tool_calls import signature
from animstudio.tools import Tool, tools


def function_name(name: str) -> str:
    """A tool's name as an OpenAI function name (letters, digits, ``_`` and ``-`` only)."""
    return name.replace(".", "_")


def tool_name(function: str, among: dict[str, Tool] | None = None) -> str:
    """The tool an OpenAI function name stands for."""
    known = among if among is not None else tools()
    for name in known:
        if function in (name, function_name(name)):
            return name
    raise InvalidInputError(f"no tool {function!r}; tools: {', '.join(sorted(known))}")


def definition(tool: Tool) -> dict[str, Any]:
    return {"type": "function", "function": {"name": function_name(tool.name), "description": tool.description,
                                             "parameters": tool.schema()}}


def functions(names: list[str] | None = None) -> list[dict[str, Any]]:
    """OpenAI function definitions of the registered tools (or of ``names``)."""
    known = tools()
    return [definition(known[n]) for n in (names if names is not None else sorted(known))]


def catalog(names: list[str] | None = None) -> str:
    """One line a tool, with the arguments a planner decides:
    ``- voice.say(text: string, output: string, character?: string, ...): ...``."""
    known = tools()
    lines = []
    for name in names if names is not None else sorted(known):
        tool = known[name]
        lines.append(signature({"name": name, "description": tool.description,
                                "parameters": tool.planning_schema()}))
    return "\n".join(lines)
