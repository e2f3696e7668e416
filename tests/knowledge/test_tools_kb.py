"""The knowledge tools on real documents (SQuAD 2.0 paragraphs of ../shared/data, one Markdown file each):
kb.add indexes them, kb.search ranks the paragraph that answers a SQuAD question first, kb.ask answers with
the default LLM and cites that paragraph's file; the schemas, bad arguments and `animstudio tools call`."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from animstudio.errors import InvalidInputError
from animstudio.tools import get_tool
from conftest import SHARED_DATA, assert_bad_input, installed_warehouse, run_cli

pytest.importorskip("chromadb")
pytest.importorskip("sentence_transformers")

PARAGRAPHS = ["Normans_0", "Normans_1", "Normans_2", "Computational_complexity_theory_0",
              "Computational_complexity_theory_1"]
TOOLS = ("kb.add", "kb.search", "kb.ask")


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    """A studio home whose knowledge base holds the paragraphs, added by the kb.add tool; and what it said."""
    corpus = SHARED_DATA / "retrieval" / "squad2_small" / "corpus.jsonl"
    if not corpus.is_file():
        pytest.skip(f"real test documents not found at {corpus}")
    # a fixed folder: a passage's id (shown to the LLM) comes from its file's path, so the answer the test
    # checks must not depend on where pytest puts its temporary files
    import tempfile

    docs = Path(tempfile.gettempdir()) / "animstudio-test-squad-docs"
    docs.mkdir(exist_ok=True)
    for line in corpus.read_text(encoding="utf-8").splitlines():
        doc = json.loads(line)
        if doc["_id"] in PARAGRAPHS:
            (docs / f"{doc['_id']}.md").write_text(f"# {doc['title'].replace('_', ' ')}\n\n{doc['text']}\n",
                                                   encoding="utf-8")
    models = installed_warehouse(tmp_path_factory, "all-minilm-l6-v2")
    home = tmp_path_factory.mktemp("kb-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ANIMSTUDIO_HOME", str(home))
        mp.setenv("ANIMSTUDIO_MODELS", str(models))
        first = get_tool("kb.add")(paths=[str(docs)])
        again = get_tool("kb.add")(paths=[str(docs)])
    return {"home": home, "models": models, "docs": docs, "first": first, "again": again}


@pytest.fixture(autouse=True)
def in_library(library, studio_home, monkeypatch):
    monkeypatch.setenv("ANIMSTUDIO_HOME", str(library["home"]))
    monkeypatch.setenv("ANIMSTUDIO_MODELS", str(library["models"]))


def test_kb_add_indexes_each_file_once(library):
    first, again = library["first"], library["again"]
    assert (first.sources_added, first.chunks_written, first.chunks_deleted) == (5, 6, 0)
    assert (again.sources_unchanged, again.sources_added, again.chunks_written) == (5, 0, 0)


@pytest.mark.parametrize("question, paragraph", [
    ("Who was the Norse leader?", "Normans_0"),
    ("Who was the duke in the battle of Hastings?", "Normans_1"),
    ("What unit is measured to determine circuit complexity?", "Computational_complexity_theory_1"),
])
def test_kb_search_ranks_the_answering_paragraph_first(library, question, paragraph):
    found = get_tool("kb.search")(query=question, k=3)
    best = found.hits[0]
    assert best.metadata["source"] == str(library["docs"] / f"{paragraph}.md")
    assert best.ranks == {"dense": 1, "bm25": 1} and best.collection == "documents" and len(found.hits) == 3
    words = get_tool("kb.search")(query=question, k=1, method="bm25", collections=["documents"],
                                  where={"format": "markdown"})
    assert [h.metadata["source"] for h in words.hits] == [best.metadata["source"]]
    assert set(words.hits[0].ranks) == {"bm25"}


@pytest.mark.slow
def test_kb_ask_answers_with_the_default_llm_and_cites_the_file(library, tmp_path_factory, monkeypatch):
    both = installed_warehouse(tmp_path_factory, "all-minilm-l6-v2", "qwen2.5-coder-1.5b-instruct")
    monkeypatch.setenv("ANIMSTUDIO_MODELS", str(both))
    answered = get_tool("kb.ask")(question="Who was the Norse leader?", k=3)
    assert not answered.abstained and answered.answer.startswith("Rollo [")
    assert answered.sources == [str(library["docs"] / "Normans_0.md")]
    assert answered.citations == [answered.passages[0].id] and answered.passages[0].source == answered.sources[0]


def test_kb_ask_abstains_without_evidence(library):
    answered = get_tool("kb.ask")(question="What is the boiling point of tungsten in kelvin?")
    assert answered.abstained and answered.citations == [] and answered.sources == []
    assert answered.answer.startswith("I don't know") and "similarity" in answered.reason


@pytest.mark.parametrize("name", TOOLS)
def test_each_schema_validates_its_example(name):
    found = get_tool(name)
    jsonschema.validate(found.example, found.schema())
    assert found.check(found.example) is not None


@pytest.mark.parametrize("name, arguments, needle", [
    ("kb.add", {"paths": "notes.md"}, "invalid paths"),
    ("kb.search", {"query": "Rollo", "k": "many"}, "invalid k 'many'"),
    ("kb.search", {"query": "Rollo", "method": "fuzzy"}, "invalid method 'fuzzy'"),
    ("kb.search", {"query": "Rollo", "where": "kind"}, "is not KEY=VALUE"),
    ("kb.ask", {"question": 42}, "invalid question 42"),
])
def test_a_wrong_argument_is_one_line(name, arguments, needle):
    with pytest.raises(InvalidInputError) as err:
        get_tool(name)(**arguments)
    assert needle in str(err.value) and "\n" not in str(err.value)


def test_tools_call_kb_search(library):
    args = json.dumps({"query": "Who was the Norse leader?", "k": 2, "collections": ["documents"]})
    proc = run_cli("tools", "call", "kb.search", "--args", args)
    assert proc.returncode == 0, proc.stderr
    hits = json.loads(proc.stdout)["hits"]
    assert [Path(h["metadata"]["source"]).name for h in hits] == ["Normans_0.md", "Normans_2.md"]
    wrong = run_cli("tools", "call", "kb.search", "--args", '{"query": "Who was the Norse leader?", "k": "two"}')
    assert_bad_input(wrong, "invalid k 'two'", code=2)


def test_kb_search_command_has_the_tools_arguments(library):
    proc = run_cli("kb", "search", "Who was the Norse leader?", "-k", "1", "-c", "documents", "--where",
                   "format=markdown", "--method", "dense", "--json")
    assert proc.returncode == 0, proc.stderr
    assert [Path(h["metadata"]["source"]).name for h in json.loads(proc.stdout)] == ["Normans_0.md"]
    assert_bad_input(run_cli("kb", "search", "Rollo", "--method", "fuzzy"), "fuzzy", code=2)
