"""Document loaders: real files made here (Markdown, text, SRT, PDF, YAML, JSON, JSONL, other encodings,
binary and empty files, a big file streamed), each with exact expected chunks."""

from __future__ import annotations

import io
import json
import tracemalloc
from pathlib import Path

import pytest
from PIL import Image

from animstudio.errors import InvalidInputError
from animstudio.knowledge.loaders import KINDS, SUPPORTED, Chunk, load_chunks
from animstudio.knowledge.loaders.text import pack, split_text

# ---------------------------------------------------------------- helpers


def make_pdf(pages: list[list[str]]) -> bytes:
    """A minimal valid PDF: one page per list of text lines (Helvetica); an empty list is a page with no text."""
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>", b"",
                            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    kids = []
    for lines in pages:
        ops = ["BT", "/F1 12 Tf", "14 TL", "72 720 Td"]
        for line in lines:
            escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            ops += [f"({escaped}) Tj", "T*"]
        stream = "\n".join([*ops, "ET"]).encode("latin-1") if lines else b""
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> "
                       b">> /Contents %d 0 R >>" % len(objects))
        kids.append(len(objects))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % k for k in kids), len(kids))
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def png_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buf, format="PNG")
    return buf.getvalue()


def prose(paragraphs: int, seed: int = 0) -> str:
    """Paragraphs of numbered sentences, every one different."""
    words = "the portal gun hums while Rick mixes another batch of questionable science in the garage".split()
    out = []
    for p in range(paragraphs):
        sentences = []
        for s in range(3 + (p + seed) % 4):
            n = 6 + (p * 7 + s * 3 + seed) % 9
            body = " ".join(words[(p + s + k) % len(words)] for k in range(n))
            sentences.append(f"P{p}s{s} {body}.")
        out.append(" ".join(sentences))
    return "\n\n".join(out) + "\n"


def covered(text: str, chunks: list[Chunk]) -> bool:
    """Whether the chunks (found by their offsets) hold every non-blank character of ``text``."""
    hit = bytearray(len(text))
    for c in chunks:
        start = c.meta["offset"]
        assert text[start:start + len(c.text)] == c.text
        hit[start:start + len(c.text)] = b"\1" * len(c.text)
    return all(hit[i] or ch.isspace() for i, ch in enumerate(text))


def error_of(path: Path, **kwargs) -> str:
    with pytest.raises(InvalidInputError) as info:
        list(load_chunks(path, **kwargs))
    message = str(info.value)
    assert "\n" not in message
    return message


# ---------------------------------------------------------------- Markdown

BIBLE = """\
Intro text before any heading.

# Show Bible

The show follows a scientist and his grandson.

## Characters

### Rick

Rick Sanchez is a genius scientist. He drinks too much.

```python
# not a heading: a comment in code
def portal(to):
    return f"opening a portal to {to}"
```

He built the portal gun himself.

### Morty

Morty Smith is Rick's grandson, anxious but kind.

## Locations

Places in the show.

Garage
------

Where Rick builds things (a setext heading: level 2, like Locations).

#### Deep note ##

A note four levels down.
"""


def test_markdown_sections_carry_their_heading_path(tmp_path: Path):
    doc = tmp_path / "bible.md"
    doc.write_text(BIBLE)
    chunks = list(load_chunks(doc))
    assert [c.meta.get("heading") for c in chunks] == [
        None, "Show Bible", "Show Bible > Characters > Rick", "Show Bible > Characters > Morty",
        "Show Bible > Locations", "Show Bible > Garage", "Show Bible > Garage > Deep note"]
    assert [c.meta["line"] for c in chunks] == [1, 5, 11, 23, 27, 32, 36]
    assert [c.ordinal for c in chunks] == list(range(7))
    assert chunks[0].text == "Intro text before any heading."
    assert chunks[3].text == "Show Bible > Characters > Morty\n\nMorty Smith is Rick's grandson, anxious but kind."
    rick = chunks[2].text
    assert rick.startswith("Show Bible > Characters > Rick\n\nRick Sanchez is a genius scientist.")
    assert "```python\n# not a heading: a comment in code\ndef portal(to):" in rick
    assert rick.endswith("He built the portal gun himself.")
    assert all(c.meta["kind"] == "markdown" and c.meta["encoding"] == "utf-8" for c in chunks)
    assert chunks[0].meta["source"] == str(doc.resolve())
    # every line of text in the file is in a chunk (headings in the paths)
    text = "\n".join(c.text for c in chunks)
    for line in BIBLE.splitlines():
        if line.strip() and not line.startswith("#") and set(line) != {"-"}:
            assert line in text, line


def test_markdown_long_section_is_split_with_overlap_and_code_kept_whole(tmp_path: Path):
    code = "```\n" + "\n".join(f"step_{i} = portal({i})  # hop {i}" for i in range(12)) + "\n```"
    body = prose(8, seed=1)
    doc = tmp_path / "long.md"
    doc.write_text(f"# Episodes\n\n## Pilot\n\n{body}\n{code}\n\nAfter the code.\n")
    chunks = list(load_chunks(doc, chunk_chars=300, overlap_chars=60))
    prefix = "Episodes > Pilot\n\n"
    assert all(c.text.startswith(prefix) and c.meta["heading"] == "Episodes > Pilot" for c in chunks)
    bodies = [c.text[len(prefix):] for c in chunks]
    with_code = [b for b in bodies if "step_0" in b]
    assert with_code == [code]  # the code block (over 300 characters) is one chunk, not cut
    assert len(code) > 300
    assert all(len(b) <= 300 for b in bodies if b != code)
    prose_bodies = [b for b in bodies if b != code and b != "After the code."]
    assert len(prose_bodies) >= 5
    for before, after in zip(prose_bodies, prose_bodies[1:], strict=False):
        assert after[:20] in before  # the next chunk begins inside the one before
    joined = " ".join(bodies)
    for sentence in body.replace("\n\n", " ").split(". "):
        assert sentence.strip().rstrip(".") in joined
    assert bodies[-1] == "After the code."


def test_markdown_front_matter_is_kept_whole(tmp_path: Path):
    doc = tmp_path / "fm.md"
    doc.write_text("---\ntitle: Pilot\ntags: [sci-fi]\n---\n\nOpening scene.\n\n# Act 1\n\nThe garage.\n")
    chunks = list(load_chunks(doc))
    assert [c.text for c in chunks] == ["---\ntitle: Pilot\ntags: [sci-fi]\n---\n\nOpening scene.",
                                        "Act 1\n\nThe garage."]


# ---------------------------------------------------------------- plain text


def test_text_chunks_exact_at_paragraphs_without_overlap(tmp_path: Path):
    paragraphs = [f"Paragraph {i:02d}. " + "x" * 135 + "." for i in range(10)]  # 150 characters each
    assert {len(p) for p in paragraphs} == {150}
    doc = tmp_path / "notes.txt"
    doc.write_text("\n\n".join(paragraphs) + "\n")
    chunks = list(load_chunks(doc, chunk_chars=400, overlap_chars=0))
    assert [c.text for c in chunks] == ["\n\n".join(paragraphs[i:i + 2]) for i in range(0, 10, 2)]
    assert [c.meta["line"] for c in chunks] == [1, 5, 9, 13, 17]
    assert [c.meta["offset"] for c in chunks] == [0, 304, 608, 912, 1216]


def test_text_chunks_overlap_cover_the_document_and_stay_in_size(tmp_path: Path):
    text = prose(40)
    doc = tmp_path / "story.txt"
    doc.write_text(text)
    chunks = list(load_chunks(doc, chunk_chars=400, overlap_chars=80))
    assert len(chunks) > 10
    assert all(len(c.text) <= 400 for c in chunks)
    assert covered(text, chunks)
    for before, after in zip(chunks, chunks[1:], strict=False):
        end = before.meta["offset"] + len(before.text)
        assert before.meta["offset"] < after.meta["offset"] < end  # overlap, and progress
        assert text[after.meta["offset"]:end] in before.text and len(text[after.meta["offset"]:end].strip()) > 0
        assert after.meta["line"] == text.count("\n", 0, after.meta["offset"]) + 1
    # chunks end at sentence ends (every sentence here is shorter than a chunk)
    assert all(c.text.endswith(".") for c in chunks)


def test_splitter_cuts_a_run_without_spaces_and_pack_groups_items():
    pieces = list(split_text("a" * 250, chunk_chars=100, overlap_chars=10))
    assert [(p.offset, len(p.text)) for p in pieces] == [(0, 100), (90, 100), (180, 70)]
    assert list(pack([40, 40, 40], chunk_chars=90, overlap_chars=50)) == [(0, 2), (1, 3)]
    assert list(pack([40, 200, 40], chunk_chars=90, overlap_chars=50)) == [(0, 1), (1, 2), (2, 3)]
    assert list(pack([], chunk_chars=90, overlap_chars=50)) == []


# ---------------------------------------------------------------- subtitles


def _cue_text(i: int) -> str:
    text = f"Cue {i:02d}: Rick tells Morty about dimension C-{i:03d}."
    return text.ljust(50, "!")


def _clock(seconds: float) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"


def test_subtitles_group_40_cues_with_their_time_ranges(tmp_path: Path):
    blocks = []
    for i in range(40):
        text = _cue_text(i)
        if i % 3 == 0:  # a two-line cue: its line break becomes a space
            text = text.replace(" ", "\n", 1)
        blocks.append(f"{i + 1}\n{_clock(i * 2.5)} --> {_clock(i * 2.5 + 2.0)}\n{text}\n")
    srt = tmp_path / "ep1.srt"
    srt.write_text("\n".join(blocks))
    assert {len(_cue_text(i)) for i in range(40)} == {50}
    chunks = list(load_chunks(srt, chunk_chars=300, overlap_chars=60))
    # 5 cues fit in 300 characters (5 * 50 + 4 newlines); each chunk after the first repeats the last cue
    ranges = [(0, 5)] + [(4 * k, min(4 * k + 5, 40)) for k in range(1, 10)]
    assert len(chunks) == 10
    for chunk, (first, last) in zip(chunks, ranges, strict=True):
        assert chunk.text == "\n".join(_cue_text(i) for i in range(first, last))
        assert chunk.meta["start_s"] == first * 2.5
        assert chunk.meta["end_s"] == (last - 1) * 2.5 + 2.0
        assert chunk.meta["cues"] == last - first
        assert chunk.meta["kind"] == "subtitles"
        assert len(chunk.text) <= 300


def test_subtitles_without_a_suffix_are_sniffed(tmp_path: Path):
    vtt = tmp_path / "captions"
    vtt.write_text("WEBVTT\n\n00:01.000 --> 00:02.500\nHello <b>there</b>\n\n00:03.000 --> 00:04.000\nBye\n")
    (chunk,) = load_chunks(vtt)
    assert (chunk.text, chunk.meta["kind"], chunk.meta["start_s"], chunk.meta["end_s"]) == \
        ("Hello there\nBye", "subtitles", 1.0, 4.0)


# ---------------------------------------------------------------- PDF


def test_pdf_text_per_page(tmp_path: Path):
    pdf = tmp_path / "bible.pdf"
    pdf.write_bytes(make_pdf([["Rick Sanchez is a scientist.", "He travels (a lot)."], [],
                              ["Morty Smith is his grandson."]]))
    chunks = list(load_chunks(pdf))
    assert [(c.text, c.meta["page"], c.meta["pages"]) for c in chunks] == [
        ("Rick Sanchez is a scientist.\nHe travels (a lot).", 1, 3), ("Morty Smith is his grandson.", 3, 3)]
    assert chunks[0].meta["kind"] == "pdf"


def test_pdf_without_text_layer_and_fake_pdf_are_refused(tmp_path: Path):
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(make_pdf([[], []]))
    message = error_of(scan)
    assert str(scan) in message and "no extractable text" in message and "OCR is not supported" in message
    fake = tmp_path / "fake.pdf"
    fake.write_text("just some text")
    assert "is not a PDF" in error_of(fake)
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog")
    assert "is not a readable PDF" in error_of(broken)


# ---------------------------------------------------------------- YAML, JSON, JSONL

CHARACTERS_YAML = """\
# Characters of the show
rick:
  name: Rick Sanchez
  age: 70
  traits: [genius, cynical]
  voice:
    engine: piper
    pitch: -2
morty:
  name: Morty Smith
  age: 14
  bio: |
    Anxious.
    Kind.
locations:
  - name: Garage
    owner: rick
  - name: School
show: Rick and Morty
"""


def test_yaml_one_chunk_per_entry(tmp_path: Path):
    doc = tmp_path / "characters.yaml"
    doc.write_text(CHARACTERS_YAML)
    chunks = list(load_chunks(doc))
    assert [(c.meta["key"], c.meta["line"]) for c in chunks] == [
        ("rick", 2), ("morty", 9), ("locations[0]", 16), ("locations[1]", 18), ("show", 19)]
    assert chunks[0].text == ("rick.name: Rick Sanchez\nrick.age: 70\nrick.traits: genius, cynical\n"
                              "rick.voice.engine: piper\nrick.voice.pitch: -2")
    assert chunks[1].text == "morty.name: Morty Smith\nmorty.age: 14\nmorty.bio: Anxious.\n  Kind."
    assert chunks[2].text == "locations[0].name: Garage\nlocations[0].owner: rick"
    assert chunks[4].text == "show: Rick and Morty"
    assert all(c.meta["kind"] == "yaml" for c in chunks)


def test_json_list_object_and_jsonl(tmp_path: Path):
    records = [{"name": "Rick", "age": 70, "tags": ["genius"]}, {"name": "Morty", "age": 14, "pet": None},
               {"name": "Summer", "nested": {"a": [1, {"b": True}]}}]
    listed = tmp_path / "characters.json"
    listed.write_text(json.dumps(records, indent=2))
    chunks = list(load_chunks(listed))
    assert [c.text for c in chunks] == ["name: Rick\nage: 70\ntags: genius", "name: Morty\nage: 14\npet: null",
                                        "name: Summer\nnested.a[0]: 1\nnested.a[1].b: true"]
    assert [(c.meta["key"], c.meta["line"]) for c in chunks] == [("[0]", 2), ("[1]", 9), ("[2]", 14)]

    keyed = tmp_path / "show.json"
    keyed.write_text('{"title": "Rick and Morty",\n "characters": [{"name": "Rick"},\n  {"name": "Morty"}],\n'
                     ' "seasons": 7}')
    assert [(c.text, c.meta["key"], c.meta["line"]) for c in load_chunks(keyed)] == [
        ("title: Rick and Morty", "title", 1), ("characters[0].name: Rick", "characters[0]", 2),
        ("characters[1].name: Morty", "characters[1]", 3), ("seasons: 7", "seasons", 4)]

    lines = tmp_path / "characters.jsonl"
    lines.write_text("\n".join(json.dumps(r) for r in records[:2]) + "\n\n" + json.dumps(records[2]) + "\n")
    chunks = list(load_chunks(lines))
    assert [c.text for c in chunks][:2] == ["name: Rick\nage: 70\ntags: genius", "name: Morty\nage: 14\npet: null"]
    assert [(c.meta["key"], c.meta["line"], c.meta["kind"]) for c in chunks] == [
        ("[0]", 1, "jsonl"), ("[1]", 2, "jsonl"), ("[2]", 4, "jsonl")]


def test_structured_entry_longer_than_a_chunk_is_split_between_lines(tmp_path: Path):
    doc = tmp_path / "episodes.yaml"
    doc.write_text("episodes:\n" + "".join(f"  e{i:02d}: Episode number {i} of the season\n" for i in range(30)))
    chunks = list(load_chunks(doc, chunk_chars=200, overlap_chars=0))
    lines = [line for c in chunks for line in c.text.split("\n")]
    assert lines == [f"episodes.e{i:02d}: Episode number {i} of the season" for i in range(30)]
    assert all(len(c.text) <= 200 and c.meta["key"] == "episodes" for c in chunks)
    assert [c.text.count("\n") + 1 for c in chunks] == [4] * 7 + [2]  # 4 lines of 44-45 characters fit in 200


def test_malformed_yaml_and_json_name_line_and_column(tmp_path: Path):
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("rick:\n  name: Rick\n  age: [70\nmorty: 14\n")
    message = error_of(bad_yaml)
    assert message.startswith(f"{bad_yaml}:4:6: not valid YAML") and "fix it there" in message
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('[\n  {"name": "Rick"},\n  {"name": "Morty",}\n]')
    assert error_of(bad_json).startswith(f"{bad_json}:3:20: not valid JSON (Expecting property name")
    two = tmp_path / "two.json"
    two.write_text('{"a": 1}\n{"a": 2}\n')
    assert "name it .jsonl" in error_of(two)
    bad_lines = tmp_path / "bad.jsonl"
    bad_lines.write_text('{"a": 1}\n{"a": 2\n')
    assert error_of(bad_lines).startswith(f"{bad_lines}:2:8: not valid JSON")


# ---------------------------------------------------------------- encodings

ACCENTED = "Café crème brûlée – “naïve” façade, 5 €, déjà vu.\nSecond line: Ærøskøbing, señor.\n"


def test_cp1252_utf16_and_utf8_bom(tmp_path: Path):
    cases = {"cp1252": ACCENTED.encode("cp1252"), "utf-16": ACCENTED.encode("utf-16"),
             "utf-8-sig": ACCENTED.encode("utf-8-sig"), "utf-8": ACCENTED.encode("utf-8")}
    assert cases["utf-16"][:2] in (b"\xff\xfe", b"\xfe\xff")
    for encoding, data in cases.items():
        doc = tmp_path / f"{encoding}.txt"
        doc.write_bytes(data)
        (chunk,) = load_chunks(doc)
        assert (chunk.text, chunk.meta["encoding"]) == (ACCENTED.strip(), encoding)


def test_utf16_markdown_and_cp1252_yaml(tmp_path: Path):
    md = tmp_path / "notes.md"
    md.write_bytes("# Équipe\n\nMorty, naïf.\n".encode("utf-16"))
    assert [(c.text, c.meta["encoding"]) for c in load_chunks(md)] == [("Équipe\n\nMorty, naïf.", "utf-16")]
    yml = tmp_path / "lieux.yml"
    yml.write_bytes("garage: Le garage de Rick, où tout commence\n".encode("cp1252"))
    assert [(c.text, c.meta["encoding"]) for c in load_chunks(yml)] == [
        ("garage: Le garage de Rick, où tout commence", "cp1252")]


def test_text_in_other_8_bit_encodings_is_refused(tmp_path: Path):
    cyrillic = tmp_path / "rick.txt"
    cyrillic.write_bytes("Рик и Морти: приключения во времени и пространстве.\n".encode("cp1251"))
    message = error_of(cyrillic)
    assert f"{cyrillic} is not UTF-8 text (byte 0xD0 on line 1)" in message
    assert "Western European" in message and "re-save it as UTF-8" in message
    undefined = tmp_path / "odd.txt"
    undefined.write_bytes(b"Plain words for a while, long enough to be text and not a binary file.\n" * 3 +
                          b"Then a byte \x81 that Windows-1252 leaves undefined.\n")
    assert error_of(undefined) == (f"{undefined} is not UTF-8 text (byte 0x81 on line 4) and not Windows-1252 "
                                   f"text either; re-save it as UTF-8")


# ---------------------------------------------------------------- bad input


def test_binary_files_are_refused_whatever_their_name(tmp_path: Path):
    for name in ("image.png", "image.txt", "image.md", "image"):
        path = tmp_path / name
        path.write_bytes(png_bytes())
        with pytest.raises(InvalidInputError) as info:
            load_chunks(path)  # refused at the call, before any chunk is read
        message = str(info.value)
        assert message.startswith(f"{path} is a binary file, not a text document")
        assert "Markdown (.md)" in message and "PDF (.pdf)" in message


def test_empty_blank_missing_and_bad_arguments(tmp_path: Path):
    empty = tmp_path / "empty.md"
    empty.write_bytes(b"")
    with pytest.raises(InvalidInputError, match=r"is empty \(0 bytes\); pass a file with text in it"):
        load_chunks(empty)
    for name in ("blank.txt", "blank.md", "blank.json", "blank.yaml", "blank.jsonl"):
        blank = tmp_path / name
        blank.write_text("  \n\n\t \n")
        assert error_of(blank) == f"{blank} holds only whitespace; pass a document with text in it"
    comments = tmp_path / "comments.yaml"
    comments.write_text("# nothing but a comment\n")
    assert "has no text to index" in error_of(comments)
    with pytest.raises(InvalidInputError, match="does not exist; check the path"):
        load_chunks(tmp_path / "missing.md")
    with pytest.raises(InvalidInputError, match="is not a file"):
        load_chunks(tmp_path)
    ok = tmp_path / "ok.txt"
    ok.write_text("Some text.")
    with pytest.raises(InvalidInputError, match="chunk_chars=10 is too small"):
        load_chunks(ok, chunk_chars=10)
    with pytest.raises(InvalidInputError, match="overlap_chars=500 must be"):
        load_chunks(ok, chunk_chars=1000, overlap_chars=500)
    with pytest.raises(InvalidInputError, match="unknown document kind 'docx'"):
        load_chunks(ok, kind="docx")


def test_files_read_whole_have_a_size_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from animstudio.knowledge.loaders import decoding

    monkeypatch.setattr(decoding, "MAX_WHOLE_BYTES", 1024)
    doc = tmp_path / "big.json"
    doc.write_text(json.dumps([{"n": i} for i in range(200)]))
    assert "JSON Lines (.jsonl" in error_of(doc)
    md = tmp_path / "big.md"
    md.write_text("# Big\n\n" + "Words. " * 300)
    assert "rename it to .txt to index it as plain text, which is read as a stream" in error_of(md)
    (tmp_path / "big.txt").write_text("Words. " * 300)
    assert len(list(load_chunks(tmp_path / "big.txt"))) == 3


def test_kind_by_content_when_the_suffix_says_nothing(tmp_path: Path):
    samples = {
        "md": ("# Rick\n\nA scientist.\n", "markdown"),
        "srt": ("1\n00:00:01,000 --> 00:00:02,000\nHi\n", "subtitles"),
        "json": ('[{"name": "Rick"}]', "json"),
        "jsonl": ('{"name": "Rick"}\n{"name": "Morty"}\n', "jsonl"),
        "yaml": ("%YAML 1.2\n---\nname: Rick\n", "yaml"),
        "text": ("[Verse 1] Wubba lubba dub dub.\n", "text"),
        "pdf": (make_pdf([["Hello PDF"]]).decode("latin-1"), "pdf"),
    }
    for name, (content, kind) in samples.items():
        path = tmp_path / f"{name}.unknown"
        path.write_bytes(content.encode("latin-1" if kind == "pdf" else "utf-8"))
        assert {c.meta["kind"] for c in load_chunks(path)} == {kind}, name
    forced = tmp_path / "forced.dat"
    forced.write_text("# Not a heading\n")
    assert next(load_chunks(forced, kind="text")).text == "# Not a heading"
    assert set(SUPPORTED) >= {".md", ".txt", ".srt", ".vtt", ".ass", ".pdf", ".yaml", ".yml", ".json", ".jsonl"}
    assert all(s == s.lower() and s.startswith(".") for s in SUPPORTED)
    assert set(KINDS) == {"text", "markdown", "subtitles", "pdf", "yaml", "json", "jsonl"}


def test_chunk_digest_follows_text_and_meta_not_ordinal():
    a = Chunk("Rick", 0, {"source": "/a.md", "line": 1})
    assert len(a.digest) == 64 and a.digest == Chunk("Rick", 5, {"line": 1, "source": "/a.md"}).digest
    assert a.digest != Chunk("Rick!", 0, a.meta).digest
    assert a.digest != Chunk("Rick", 0, {"source": "/a.md", "line": 2}).digest
    with pytest.raises(TypeError):
        Chunk("Rick", 0, {"tags": ["a"]})


# ---------------------------------------------------------------- big files


def _write_big(path: Path, megabytes: int) -> int:
    unit = prose(2000, seed=3)
    block = unit * (2**20 // len(unit) + 1)
    with open(path, "w", encoding="utf-8") as fh:
        for _ in range(megabytes):
            fh.write(block[:2**20])
    return megabytes * 2**20


def _stream_big(tmp_path: Path, megabytes: int) -> None:
    path = tmp_path / "big.txt"
    size = _write_big(path, megabytes)
    tracemalloc.start()
    try:
        count = longest = 0
        last_end = 0
        for chunk in load_chunks(path):
            count += 1
            longest = max(longest, len(chunk.text))
            assert chunk.meta["offset"] < last_end or count == 1  # overlaps the chunk before
            last_end = chunk.meta["offset"] + len(chunk.text)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert longest <= 1000
    assert last_end >= size - 2  # the last chunk reaches the end (ASCII: one character per byte)
    assert count > size // 1000
    assert peak < 4 * 2**20, f"peak {peak / 2**20:.1f} MB while streaming a {megabytes} MB file"


def test_big_text_file_is_streamed_in_bounded_memory(tmp_path: Path):
    _stream_big(tmp_path, 50)


@pytest.mark.slow
def test_200_mb_text_file_is_streamed_in_bounded_memory(tmp_path: Path):
    _stream_big(tmp_path, 200)
