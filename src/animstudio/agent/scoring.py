"""Scoring a plan against what a good plan has (the agent's development and test sets).

A request counts as understood when every expected tool is planned, no tool outside the expected
and optional ones is planned, and every expected argument is right: a string as a case-insensitive
substring of the planned value (or of any element of a list), a number equal. An expected argument
is found under its own name or the tool's name for it (``duration`` is ``duration_s``, ``style`` is
``styles``).

    understood(plan, {"tools": ["edit.highlights"], "optional": [], "args": {"edit.highlights": {"duration": 12}}})
"""

from __future__ import annotations

from typing import Any


def _planned_value(args: dict[str, Any], name: str) -> tuple[bool, Any]:
    for key in (name, f"{name}_s", f"{name}s", name.removesuffix("s")):
        if key in args:
            return True, args[key]
    return False, None


def _matches(expected: Any, planned: Any) -> bool:
    if isinstance(planned, list):
        return any(_matches(expected, item) for item in planned)
    if isinstance(expected, bool) or isinstance(planned, bool):
        return expected is planned
    if isinstance(expected, (int, float)):
        return isinstance(planned, (int, float)) and float(planned) == float(expected)
    return isinstance(planned, str) and str(expected).lower() in planned.lower()


def misses(steps: list[tuple[str, dict[str, Any]]], expect: dict[str, Any]) -> list[str]:
    """Why a plan (its ``(tool, args)`` steps) does not count as understood; empty when it does."""
    planned = [tool for tool, _ in steps]
    wanted, optional = list(expect.get("tools", [])), set(expect.get("optional", []))
    found = [f"missing {t}" for t in wanted if t not in planned]
    found += [f"unexpected {t}" for t in dict.fromkeys(planned) if t not in wanted and t not in optional]
    for tool, expected_args in (expect.get("args") or {}).items():
        calls = [args for name, args in steps if name == tool]
        for arg, value in expected_args.items():
            if not any(_planned_value(a, arg)[0] and _matches(value, _planned_value(a, arg)[1]) for a in calls):
                got = [_planned_value(a, arg)[1] for a in calls]
                found.append(f"{tool}.{arg} should be {value!r}, planned {got[0] if len(got) == 1 else got!r}")
    return found


def understood(steps: list[tuple[str, dict[str, Any]]], expect: dict[str, Any]) -> bool:
    return not misses(steps, expect)
