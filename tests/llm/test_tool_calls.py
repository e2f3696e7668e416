"""The schema a tool-calling reply must fit, and the request the engine answers (no model needed)."""

from __future__ import annotations

import json

import pytest

from animstudio.errors import InvalidInputError
from animstudio.llm.tool_calls import answer, call_schema, constrained, wants_tools

SHOT = {"type": "function", "function": {
    "name": "cut", "description": "Cut a clip",
    "parameters": {"type": "object", "required": ["span"], "$defs": {"Span": {"type": "object", "properties": {
        "start": {"type": "number"}, "end": {"type": "number"}}}},
        "properties": {"span": {"$ref": "#/$defs/Span"}, "fade": {"anyOf": [{"type": "number"}, {"type": "null"}]}}}}}
SAY = {"type": "function", "function": {"name": "say", "description": "Speak",
                                        "parameters": {"type": "object", "properties": {"text": {"type": "string"}},
                                                       "$defs": {"Span": {"type": "string"}}}}}


def test_every_branch_is_a_call_of_one_offered_tool_or_an_answer():
    schema = call_schema({"tools": [SHOT, SAY]})
    calls, words = schema["anyOf"]
    names = [c["properties"]["name"]["const"] for c in calls["properties"]["tool_calls"]["items"]["anyOf"]]
    assert names == ["cut", "say"] and words["required"] == ["answer"]
    # each tool's $defs moved to the root under its own prefix, references rewritten
    span_def = SHOT["function"]["parameters"]["$defs"]["Span"]
    assert schema["$defs"] == {"t0_Span": span_def, "t1_Span": {"type": "string"}}
    span = calls["properties"]["tool_calls"]["items"]["anyOf"][0]["properties"]["arguments"]["properties"]["span"]
    assert span == {"$ref": "#/$defs/t0_Span"}


def test_tool_choice_narrows_the_schema():
    required = call_schema({"tools": [SHOT, SAY], "tool_choice": "required"})
    assert "anyOf" not in required and required["required"] == ["tool_calls"]
    one = call_schema({"tools": [SHOT, SAY], "tool_choice": {"type": "function", "function": {"name": "say"}}})
    assert one["properties"]["tool_calls"]["items"]["properties"]["name"] == {"const": "say"}
    assert not wants_tools({"tools": [SAY], "tool_choice": "none"}) and not wants_tools({"messages": []})
    with pytest.raises(InvalidInputError, match="tool_choice must be"):
        call_schema({"tools": [SAY], "tool_choice": "sometimes"})


def test_history_becomes_plain_turns_and_the_reply_tool_calls():
    request = {"model": "m", "tools": [SAY], "temperature": 0, "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "greet"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "say", "arguments": "{\"text\": \"hi\"}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "done"}]}
    out = constrained(request)
    assert "tools" not in out and out["temperature"] == 0
    system = out["messages"][0]["content"]
    assert system.startswith("Be brief.") and "- say(text?: string): Speak" in system
    assert [m["role"] for m in out["messages"]] == ["system", "user", "assistant", "user"]
    assert json.loads(out["messages"][2]["content"]) == {"tool_calls": [{"name": "say", "arguments": {"text": "hi"}}]}
    assert out["messages"][3]["content"] == "Result of say:\ndone"
    raw = {"choices": [{"index": 0, "finish_reason": "stop", "message": {
        "role": "assistant", "content": '{"tool_calls": [{"name": "say", "arguments": {"text": "bye"}}]}'}}]}
    reply = answer(request, raw)["choices"][0]
    assert reply["finish_reason"] == "tool_calls" and reply["message"]["content"] is None
    assert json.loads(reply["message"]["tool_calls"][0]["function"]["arguments"]) == {"text": "bye"}
    cut = {"choices": [{"index": 0, "finish_reason": "length", "message": {"role": "assistant",
                                                                           "content": '{"tool_calls": [{"na'}}]}
    assert answer(request, cut)["choices"][0]["message"]["content"] == '{"tool_calls": [{"na'
