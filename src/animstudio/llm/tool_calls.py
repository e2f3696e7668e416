"""OpenAI tool calling for engines that decode under a JSON schema (the embedded llama.cpp).

A request with ``tools`` is rewritten into one the engine can constrain: the tools are described in a
system message, earlier calls and their results become plain turns, and ``response_format`` is a
schema whose every branch is a call of one tool with arguments that fit its parameters (or, where
``tool_choice`` allows, a plain answer). The model's JSON comes back as the ``tool_calls`` of an
OpenAI ``chat.completion`` (``finish_reason: "tool_calls"``), so a small model cannot name a tool that
does not exist or send arguments that do not parse.

    if wants_tools(request):
        reply = answer(request, engine.chat(constrained(request)))
"""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any

from animstudio.errors import InvalidInputError

Request = dict[str, Any]
Response = dict[str, Any]

INSTRUCTIONS = """You can call these functions:
{tools}

Reply with JSON only. To call functions: {{"tool_calls": [{{"name": "<function>", "arguments": {{...}}}}]}}.{answer}"""
ANSWER = (" When a function can do or look up what the user asks, call it: never make up what it would "
          "return. Once its results are in, or when no function fits, reply in words: {\"answer\": \"<your reply>\"}.")


def _functions(request: Request) -> list[dict[str, Any]]:
    tools = request.get("tools")
    if not isinstance(tools, list) or not tools:
        raise InvalidInputError("tools must be a non-empty list of {\"type\": \"function\", \"function\": {...}}")
    found = []
    for i, tool in enumerate(tools):
        fn = tool.get("function") if isinstance(tool, dict) and tool.get("type", "function") == "function" else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str) or not fn["name"]:
            raise InvalidInputError(f"tools[{i}] must be {{\"type\": \"function\", \"function\": {{\"name\": ..., "
                                    "\"parameters\": {...}}}}}")
        found.append(fn)
    return found


def wants_tools(request: Request) -> bool:
    """Whether the request offers tools the model may call (``tool_choice: "none"`` offers none)."""
    return bool(request.get("tools")) and request.get("tool_choice", "auto") != "none"


def _choice(request: Request, names: list[str]) -> tuple[list[str], bool]:
    """(the tools the model may call, whether it may answer in words instead)."""
    choice = request.get("tool_choice", "auto")
    if choice == "auto":
        return names, True
    if choice == "required":
        return names, False
    if isinstance(choice, dict) and isinstance(choice.get("function"), dict):
        name = choice["function"].get("name")
        if name not in names:
            raise InvalidInputError(f"tool_choice names {name!r}, which is not among the tools: {', '.join(names)}")
        return [name], False
    raise InvalidInputError("tool_choice must be \"auto\", \"none\", \"required\" or "
                            "{\"type\": \"function\", \"function\": {\"name\": ...}}")


def hoisted(schema: Any, prefix: str, defs: dict[str, Any]) -> Any:
    """``schema`` with its local definitions moved into ``defs`` under ``prefix`` (one schema holds
    every tool's parameters, so their ``$defs`` must not collide)."""
    if isinstance(schema, list):
        return [hoisted(s, prefix, defs) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key in ("$defs", "definitions") and isinstance(value, dict):
            for name, sub in value.items():
                defs[f"{prefix}{name}"] = hoisted(sub, prefix, defs)
        elif key == "$ref" and isinstance(value, str) and value.startswith(("#/$defs/", "#/definitions/")):
            out[key] = f"#/$defs/{prefix}{value.rsplit('/', 1)[1]}"
        else:
            out[key] = hoisted(value, prefix, defs)
    return out


def call_schema(request: Request) -> dict[str, Any]:
    """The JSON schema the reply must fit: calls of the offered tools, or an answer where allowed."""
    functions = {fn["name"]: fn for fn in _functions(request)}
    allowed, may_answer = _choice(request, list(functions))
    defs: dict[str, Any] = {}
    calls = []
    for i, name in enumerate(allowed):
        params = copy.deepcopy(functions[name].get("parameters") or {"type": "object", "properties": {}})
        params = hoisted(params, f"t{i}_", defs)
        calls.append({"type": "object", "properties": {"name": {"const": name}, "arguments": params},
                      "required": ["name", "arguments"], "additionalProperties": False})
    branches = [{"type": "object", "additionalProperties": False, "required": ["tool_calls"],
                 "properties": {"tool_calls": {"type": "array", "minItems": 1, "maxItems": 8,
                                               "items": calls[0] if len(calls) == 1 else {"anyOf": calls}}}}]
    if may_answer:
        branches.append({"type": "object", "additionalProperties": False, "required": ["answer"],
                         "properties": {"answer": {"type": "string"}}})
    schema: dict[str, Any] = branches[0] if len(branches) == 1 else {"anyOf": branches}
    if defs:
        schema = {**schema, "$defs": defs}
    return schema


def _kind(spec: Any) -> str:
    """A parameter's type in a few characters: string, integer, "a"|"b", string/null..."""
    if not isinstance(spec, dict):
        return "value"
    if "enum" in spec:
        return "|".join(json.dumps(v) for v in spec["enum"])
    kind = spec.get("type")
    if isinstance(kind, list):
        return "/".join(map(str, kind))
    if kind:
        return f"{kind} of {_kind(spec['items'])}" if kind == "array" and "items" in spec else str(kind)
    options = [_kind(s) for s in spec.get("anyOf", []) if not (isinstance(s, dict) and s.get("type") == "null")]
    return "/".join(options) or "value"


def signature(fn: dict[str, Any], said: int = 70, required_said: bool = True) -> str:
    """``- name(arg: type (what it is), arg?: type (...)): description`` for the system message; each
    argument's description cut to ``said`` characters (and left out for required arguments unless
    ``required_said``)."""
    params = fn.get("parameters") or {}
    required = set(params.get("required", []))
    args = []
    for name, spec in (params.get("properties") or {}).items():
        what = str(spec.get("description", "")) if isinstance(spec, dict) else ""
        what = what.split(";")[0].strip() if required_said or name not in required else ""
        args.append(f"{name}{'' if name in required else '?'}: {_kind(spec)}" + (f" ({what[:said]})" if what else ""))
    return f"- {fn['name']}({', '.join(args)}): {' '.join(str(fn.get('description', '')).split())}"


def _text(content: Any) -> str:
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return "" if content is None else str(content)


def constrained(request: Request) -> Request:
    """The request the engine answers: tools in a system message, earlier calls and results as text,
    the reply held to :func:`call_schema`."""
    functions = _functions(request)
    allowed, may_answer = _choice(request, [fn["name"] for fn in functions])
    listing = "\n".join(signature(fn) for fn in functions if fn["name"] in allowed)
    system = INSTRUCTIONS.format(tools=listing, answer=ANSWER if may_answer else "")
    messages: list[dict[str, Any]] = []
    called = {c.get("id"): c["function"]["name"] for m in request["messages"] if m.get("role") == "assistant"
              for c in m.get("tool_calls") or []}
    for m in request["messages"]:
        role = m.get("role")
        if role in ("system", "developer"):
            system = f"{_text(m.get('content'))}\n\n{system}"
        elif role == "assistant" and m.get("tool_calls"):
            calls = [{"name": c["function"]["name"], "arguments": json.loads(c["function"].get("arguments") or "{}")}
                     for c in m["tool_calls"]]
            messages.append({"role": "assistant", "content": json.dumps({"tool_calls": calls})})
        elif role == "assistant":
            messages.append({"role": "assistant", "content": json.dumps({"answer": _text(m.get("content"))})})
        elif role == "tool":
            name = m.get("name") or called.get(m.get("tool_call_id")) or "the call"
            messages.append({"role": "user", "content": f"Result of {name}:\n{_text(m.get('content'))}"})
        else:
            messages.append({k: v for k, v in m.items() if k in ("role", "content")})
    out = {k: v for k, v in request.items() if k not in ("tools", "tool_choice", "parallel_tool_calls", "messages",
                                                         "response_format", "functions", "function_call")}
    out["messages"] = [{"role": "system", "content": system}, *messages]
    out["response_format"] = {"type": "json_schema", "json_schema": {"name": "reply", "schema": call_schema(request)}}
    return out


def answer(request: Request, raw: Response) -> Response:
    """The engine's constrained reply as an OpenAI completion with ``tool_calls`` (or the words)."""
    response = copy.deepcopy(raw)
    choice = response["choices"][0]
    text = _text(choice.get("message", {}).get("content"))
    try:
        reply = json.loads(text)
    except ValueError:
        reply = None
    if not isinstance(reply, dict):   # cut short by max_tokens: what there is, as words
        choice["message"] = {"role": "assistant", "content": text}
        return response
    if "tool_calls" in reply:
        if request.get("parallel_tool_calls") is False:
            reply["tool_calls"] = reply["tool_calls"][:1]
        calls = [{"id": f"call_{uuid.uuid4().hex[:24]}", "type": "function",
                  "function": {"name": c["name"], "arguments": json.dumps(c.get("arguments", {}))}}
                 for c in reply["tool_calls"]]
        choice["message"] = {"role": "assistant", "content": None, "tool_calls": calls}
        choice["finish_reason"] = "tool_calls"
    else:
        choice["message"] = {"role": "assistant", "content": str(reply.get("answer", ""))}
    return response
