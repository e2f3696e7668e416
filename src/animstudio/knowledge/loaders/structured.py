"""YAML, JSON and JSON Lines: one chunk per top-level entry or record, as ``key: value`` lines.

    rick:                       ->  chunk "rick.name: Rick Sanchez\\nrick.traits: genius, cynical"
      name: Rick Sanchez            meta key="rick", line=1
      traits: [genius, cynical]

A top-level mapping gives one chunk per key, except that a key holding a list of mappings gives one
chunk per item (key ``characters[2]``); a top-level list, and each line of a JSON Lines file, gives
one chunk per item (key ``[2]``, its lines relative to the record). Every line carries its full key
path, so a chunk longer than ``chunk_chars`` is split between lines and each piece still stands
alone. YAML and JSON are read whole (see ``MAX_WHOLE_BYTES``); JSON Lines is read line by line.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from animstudio.errors import InvalidInputError, MissingDependencyError
from animstudio.knowledge.loaders.chunk import Scalar
from animstudio.knowledge.loaders.decoding import detect_encoding, iter_lines, read_text, refuse_blank
from animstudio.knowledge.loaders.text import pack, split_text

Chunks = Iterator[tuple[str, dict[str, Scalar]]]
_JSON_SPACE = re.compile(r"[ \t\n\r]*")


def load_yaml(p: Path, chunk_chars: int, overlap_chars: int) -> Chunks:
    try:
        import yaml
    except ImportError:
        raise MissingDependencyError.for_extra("yaml", "knowledge", "Reading YAML documents") from None
    text, encoding = read_text(p, "yaml")
    loader = yaml.SafeLoader(text)
    documents = []
    try:
        while loader.check_node():
            node = loader.get_node()
            documents.append((loader.construct_document(node), _yaml_lines(node)))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{p}:{mark.line + 1}:{mark.column + 1}" if mark else str(p)
        raise InvalidInputError(f"{where}: not valid YAML ({exc.problem or exc.context}); fix it there") from None
    except yaml.YAMLError as exc:
        raise InvalidInputError(f"{p}: not valid YAML ({exc}); fix it") from None
    finally:
        loader.dispose()
    for data, lines in documents:
        yield from _chunks(data, lines, encoding, chunk_chars, overlap_chars)


def _yaml_lines(node: Any) -> dict[str, int]:
    """Line numbers of the entries ``_entries`` makes, by key path."""
    import yaml

    lines: dict[str, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                lines[key.value] = key.start_mark.line + 1
                if isinstance(value, yaml.SequenceNode):
                    for i, item in enumerate(value.value):
                        lines[f"{key.value}[{i}]"] = item.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[f"[{i}]"] = item.start_mark.line + 1
    return lines


def load_json(p: Path, chunk_chars: int, overlap_chars: int) -> Chunks:
    text, encoding = read_text(p, "json")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        hint = "; if it holds one JSON record per line, name it .jsonl" if exc.msg == "Extra data" else ""
        raise InvalidInputError(f"{p}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg}); fix it there{hint}"
                                ) from None
    yield from _chunks(data, _json_lines(text), encoding, chunk_chars, overlap_chars)


def _json_lines(text: str) -> dict[str, int]:
    """Line numbers of the entries ``_entries`` makes, by key path (``text`` is valid JSON)."""
    lines: dict[str, int] = {}
    at, line = 0, 1

    def line_of(offset: int) -> int:  # offsets come in increasing order
        nonlocal at, line
        line += text.count("\n", at, offset)
        at = offset
        return line

    for n, (key, start, value_at) in enumerate(_members(text, _JSON_SPACE.match(text).end())):
        lines[f"[{n}]" if key is None else key] = line_of(start)
        if key is not None and text.startswith("[", value_at):
            for i, (_, item_at, _) in enumerate(_members(text, value_at)):
                lines[f"{key}[{i}]"] = line_of(item_at)
    return lines


def _members(text: str, i: int) -> Iterator[tuple[str | None, int, int]]:
    """(key or None, where the member starts, where its value starts) of each member of the object or
    array at ``i``."""
    opener = text[i]
    if opener not in "[{":
        return
    decoder = json.JSONDecoder()
    i += 1
    while True:
        i = _JSON_SPACE.match(text, i).end()
        if text[i] in "]}":
            return
        start, key = i, None
        if opener == "{":
            key, i = decoder.raw_decode(text, i)
            i = _JSON_SPACE.match(text, _JSON_SPACE.match(text, i).end() + 1).end()  # past the colon
        yield key, start, i
        i = _JSON_SPACE.match(text, decoder.raw_decode(text, i)[1]).end()
        if text[i] == ",":
            i += 1


def load_jsonl(p: Path, chunk_chars: int, overlap_chars: int) -> Chunks:
    encoding = detect_encoding(p)
    records = 0
    for number, line in enumerate(iter_lines(p, encoding), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"{p}:{number}:{exc.colno}: not valid JSON ({exc.msg}); each line of a JSON "
                                    f"Lines file must be one JSON value: fix that line") from None
        path = f"[{records}]"
        records += 1
        yield from _entry_chunks(path, _render("", record), {"encoding": encoding, "key": path, "line": number},
                                 chunk_chars, overlap_chars)
    if not records:
        refuse_blank(p)


def _chunks(data: Any, lines: dict[str, int], encoding: str, chunk_chars: int, overlap_chars: int) -> Chunks:
    for path, prefix, value in _entries(data):
        meta: dict[str, Scalar] = {"encoding": encoding}
        if path:
            meta["key"] = path
        if path in lines:
            meta["line"] = lines[path]
        yield from _entry_chunks(path, _render(prefix, value), meta, chunk_chars, overlap_chars)


def _entries(data: Any) -> Iterator[tuple[str, str, Any]]:
    """(key path, the prefix its lines get, value) of each top-level entry or record."""
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
                for i, item in enumerate(value):
                    yield f"{key}[{i}]", f"{key}[{i}]", item
            else:
                yield str(key), str(key), value
    elif isinstance(data, list):
        for i, item in enumerate(data):
            yield f"[{i}]", "", item
    elif data is not None:
        yield "", "", data


def _entry_chunks(path: str, lines: list[str], meta: dict[str, Scalar], chunk_chars: int,
                  overlap_chars: int) -> Chunks:
    for first, last in pack([len(line) for line in lines], chunk_chars, overlap_chars):
        if len(lines[first]) > chunk_chars:
            for piece in split_text(lines[first], chunk_chars, overlap_chars):
                yield piece.text, dict(meta)
        elif text := "\n".join(lines[first:last]).strip():
            yield text, dict(meta)


def _render(path: str, value: Any) -> list[str]:
    """``key.path: value`` lines; lists of plain values on one line, comma-separated."""
    if isinstance(value, dict):
        if not value:
            return [f"{path}: {{}}"] if path else []
        return [line for k, v in value.items() for line in _render(f"{path}.{k}" if path else str(k), v)]
    if isinstance(value, list):
        if not value:
            return [f"{path}: []"] if path else []
        if not any(isinstance(v, dict | list) for v in value):
            return [f"{path}: " + ", ".join(_scalar(v) for v in value) if path else ", ".join(map(_scalar, value))]
        return [line for i, v in enumerate(value) for line in _render(f"{path}[{i}]", v)]
    return [f"{path}: {_scalar(value)}" if path else _scalar(value)]


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return str(value).replace("\n", "\n  ")
