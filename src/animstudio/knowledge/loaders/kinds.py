"""Which loader reads which file: the suffix table and the list users see when a file is refused."""

from __future__ import annotations

SUFFIXES: dict[str, str] = {
    ".txt": "text", ".text": "text", ".rst": "text", ".log": "text",
    ".md": "markdown", ".markdown": "markdown", ".mdown": "markdown", ".mkd": "markdown",
    ".srt": "subtitles", ".vtt": "subtitles", ".ass": "subtitles", ".ssa": "subtitles",
    ".pdf": "pdf",
    ".yaml": "yaml", ".yml": "yaml",
    ".json": "json",
    ".jsonl": "jsonl", ".ndjson": "jsonl",
}

KINDS = ("text", "markdown", "subtitles", "pdf", "yaml", "json", "jsonl")

SUPPORTED_HELP = ("text (.txt), Markdown (.md), subtitles (.srt .vtt .ass), PDF (.pdf), YAML (.yaml .yml), "
                  "JSON (.json) or JSON Lines (.jsonl)")

# Kinds read whole into memory; larger files are refused with a way out (plain text and JSONL are streamed).
MAX_WHOLE_BYTES = 64 << 20
