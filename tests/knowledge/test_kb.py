"""The knowledge base on a real Chroma, embedded and as a server process: records, incremental
indexing, hybrid search with filters, films from an analysis, and what bad input gets."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from animstudio.errors import InvalidInputError, ServiceUnavailableError
from animstudio.knowledge.kb import KnowledgeBase
from animstudio.knowledge.records import GenerationRecord
from conftest import free_port, run_cli, running_process

pytest.importorskip("chromadb")

BIBLE = """
characters:
  Rick:
    description: A brilliant, reckless scientist who travels between dimensions in a flying saucer.
    personality: cynical, impatient, secretly caring
    appearance: spiky blue-grey hair, white lab coat
    palette: ["#a0c4ff", white]
    catchphrases: ["Wubba lubba dub dub"]
  Giulia:
    description: A baker from Naples who is terrified of the dark.
    personality: warm, loud, brave in daylight
    appearance: curly black hair, flour-dusted apron
    palette: [red, cream]
"""


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    """A real `chroma run` process on a free loopback port."""
    chroma = Path(sys.executable).with_name("chroma")
    if not chroma.exists():
        pytest.skip("the chroma command is not installed")
    port = free_port()
    with running_process([str(chroma), "run", "--path", str(tmp_path_factory.mktemp("chroma-server")), "--host",
                          "127.0.0.1", "--port", str(port)], port, what="chroma", wait_s=30,
                         health="/api/v2/heartbeat", suffix="") as url:
        yield url


@pytest.fixture(params=["embedded", "server"])
def kb(request, minilm, monkeypatch, tmp_path):
    monkeypatch.setenv("ANIMSTUDIO_MODELS", str(minilm))
    if request.param == "server":
        url = request.getfixturevalue("chroma_server")
        base = KnowledgeBase(url=url)
        for name in base.store.names():   # each test starts from an empty server
            base.store.drop(name)
        return base
    return KnowledgeBase(path=tmp_path / "chroma")


def test_records_index_once_and_changes_replace_them(kb, tmp_path):
    bible = tmp_path / "characters.yaml"
    bible.write_text(BIBLE, encoding="utf-8")
    first = kb.add([bible])
    assert (first.sources_added, first.chunks_written) == (1, 2)
    again = kb.add([bible])
    assert (again.sources_unchanged, again.chunks_written) == (1, 0)
    hits = kb.search("who is scared of the dark?", k=1)
    assert hits[0].id == "character:giulia" and hits[0].collection == "characters"
    assert set(hits[0].ranks) == {"dense", "bm25"} and hits[0].score > 0
    giulia = BIBLE[BIBLE.index("  Giulia:"):].replace("terrified of the dark", "terrified of thunderstorms")
    bible.write_text("characters:\n" + giulia, encoding="utf-8")   # Giulia changed, Rick gone
    changed = kb.add([bible])
    assert (changed.sources_updated, changed.chunks_written, changed.chunks_deleted) == (1, 1, 1)
    assert kb.collection("characters").count() == 1
    assert "thunderstorms" in kb.search("afraid of storms", k=1)[0].text


def test_filters_methods_and_generations(kb):
    kb.add_records("generations", [
        GenerationRecord(artifact="image", prompt="Rick in his lab, ink sketch", model="sdxl", seed=7, rating=5),
        GenerationRecord(artifact="image", prompt="Giulia at the oven, watercolour", model="sdxl", seed=8, rating=2),
        GenerationRecord(artifact="voice", prompt="Rick shouting in the garage", model="piper", seed=1),
    ])
    hits = kb.search("Rick", k=5, where={"artifact": "image"})
    assert [h.metadata["seed"] for h in hits][0] == 7 and all(h.metadata["artifact"] == "image" for h in hits)
    good = kb.search("a picture", k=5, where={"rating": {"$gte": 4}})
    assert [h.metadata["seed"] for h in good] == [7]
    bm25 = kb.search("watercolour oven", k=1, method="bm25")
    assert bm25[0].metadata["seed"] == 8 and set(bm25[0].ranks) == {"bm25"}
    varied = kb.search("Rick", k=2, diversity=0.9)
    assert len(varied) == 2 and len({h.id for h in varied}) == 2


def test_films_from_an_analysis(kb, tmp_path):
    analysis = {
        "schema_version": 1, "video": {"path": "ep1.mp4"}, "detector": "x", "cuts": [48],
        "shots": [{"index": 0, "start_frame": 0, "end_frame": 48, "start_s": 0.0, "end_s": 2.0},
                  {"index": 1, "start_frame": 48, "end_frame": 120, "start_s": 2.0, "end_s": 5.0}],
        "transitions": [], "flashes": [],
        "camera": [{"shot": 0, "label": "static"}, {"shot": 1, "label": "pan_left"}],
        "composition": [{"shot": 0, "shot_size": "wide", "subject": "none", "palette": [{"hex": "#102030",
                                                                                         "share": 0.5}]},
                        {"shot": 1, "shot_size": "close_up", "subject": "face", "palette": []}],
    }
    path = tmp_path / "ep1.analysis.json"
    path.write_text(json.dumps(analysis), encoding="utf-8")
    srt = tmp_path / "ep1.srt"
    srt.write_text("1\n00:00:02,500 --> 00:00:04,000\nWe have to get to the bakery before dark.\n", encoding="utf-8")
    report = kb.add([path], transcript=srt)
    assert report.chunks_written == 2 and kb.store.names() == ["films"]
    hit = kb.search("the bakery before dark", k=1, collections=["films"])[0]
    assert hit.id == "shot:ep1.mp4:1" and hit.metadata["start_s"] == 2.0 and hit.metadata["camera"] == "pan left"
    assert "close up" in hit.metadata["composition"]
    later = kb.search("a shot", k=5, where={"start_s": {"$gte": 1.0}})
    assert [h.id for h in later] == ["shot:ep1.mp4:1"]


def test_bad_input(kb, tmp_path):
    with pytest.raises(InvalidInputError, match="empty"):
        kb.search("anything")
    kb.add_records("generations", [GenerationRecord(artifact="image", prompt="x")])
    with pytest.raises(InvalidInputError, match="no collection 'nope'.*existing: generations"):
        kb.search("x", collections=["nope"])
    with pytest.raises(InvalidInputError, match="query is empty"):
        kb.search("   ")
    bad = tmp_path / "characters.yaml"
    bad.write_text("characters:\n  Rick: {eyes: 2}\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="characters entry 1: invalid eyes 2: extra inputs"):
        kb.add([bad])
    with pytest.raises(InvalidInputError, match="neither a source nor a record id"):
        kb.remove("generations", ["no-such-thing"])


def test_a_server_that_is_down_is_named(minilm, monkeypatch):
    monkeypatch.setenv("ANIMSTUDIO_MODELS", str(minilm))
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ServiceUnavailableError, match=f"Chroma server at {url} does not answer"):
        KnowledgeBase(url=url)
    proc = run_cli("kb", "stats", env={"ANIMSTUDIO_KNOWLEDGE__CHROMA_URL": url})
    assert proc.returncode == 1 and url in proc.stderr


def test_an_older_schema_says_what_to_do(minilm, monkeypatch, tmp_path):
    monkeypatch.setenv("ANIMSTUDIO_MODELS", str(minilm))
    kb = KnowledgeBase(path=tmp_path / "chroma")
    kb.store.client.create_collection("styles", metadata={"animstudio_schema": 0}, embedding_function=None)
    with pytest.raises(InvalidInputError, match="schema version 0.*kb remove --collection styles --all"):
        kb.search("noir", collections=["styles"])
    kb.store.drop("styles")   # what the message says to do works
    assert kb.store.names() == []


def test_documents_sync_with_their_folder(kb, tmp_path):
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "rick.md").write_text("# Rick\n\n## Lab\n\nRick keeps a portal gun in the garage.\n", encoding="utf-8")
    (notes / "scene.srt").write_text("1\n00:00:01,000 --> 00:00:03,000\nGiulia bakes bread at dawn.\n",
                                     encoding="utf-8")
    first = kb.sync(notes)
    assert (first.sources_added, first.chunks_written) == (2, 2)
    hit = kb.search("where is the portal gun kept?", k=1)[0]
    assert hit.metadata["heading"] == "Rick > Lab" and hit.metadata["format"] == "markdown"
    assert kb.search("baking at dawn", k=1)[0].metadata["start_s"] == 1.0
    (notes / "scene.srt").unlink()
    (notes / "rick.md").write_text("# Rick\n\n## Lab\n\nRick keeps a portal gun in the attic now.\n", encoding="utf-8")
    second = kb.sync(notes)
    s = second
    assert (s.sources_updated, s.sources_removed, s.chunks_written, s.chunks_deleted) == (1, 1, 1, 1)
    assert kb.collection("documents").count() == 1 and "attic" in kb.search("portal gun", k=1)[0].text
    assert kb.sync(notes).sources_unchanged == 1


def test_bad_documents(kb, tmp_path):
    png = tmp_path / "notes.md"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    for path, message in ((png, "binary"), (empty, "empty")):
        proc = run_cli("kb", "add", str(path), env={"ANIMSTUDIO_HOME": str(tmp_path / "home")})
        assert proc.returncode == 1 and message in proc.stderr.lower() and len(proc.stderr.strip().splitlines()) == 1
