"""Grounded answers: the logic around the model is driven by a scripted client (the model's own
judgement is measured on SQuAD 2.0's unanswerable questions in the slow tier)."""

from __future__ import annotations

import json
import os

import pytest

from animstudio.knowledge.answer import Reply, ask, ungrounded
from animstudio.knowledge.kb import KnowledgeBase
from animstudio.knowledge.records import CharacterRecord
from conftest import installed_warehouse

pytest.importorskip("chromadb")


class Scripted:
    """Answers with the given replies in turn, and keeps what it was asked."""

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies)
        self.asked: list[list[dict]] = []

    def structured(self, messages, model, **params):
        assert model is Reply and params["temperature"] == 0
        self.asked.append(messages)
        return self.replies.pop(0)


@pytest.fixture(scope="module")
def kb(tmp_path_factory):
    pytest.importorskip("sentence_transformers")
    models = installed_warehouse(tmp_path_factory, "all-minilm-l6-v2")
    os.environ["ANIMSTUDIO_MODELS"] = str(models)
    base = KnowledgeBase(path=tmp_path_factory.mktemp("chroma"))
    base.models = models
    base.add_records("characters", [
        CharacterRecord(name="Giulia", description="A baker from Naples who is terrified of the dark.",
                        appearance="curly black hair, flour-dusted apron"),
        CharacterRecord(name="Rick", description="A scientist who keeps a portal gun in his garage since 1998."),
    ])
    yield base
    os.environ.pop("ANIMSTUDIO_MODELS", None)


@pytest.fixture(autouse=True)
def models_env(kb, monkeypatch):
    monkeypatch.setenv("ANIMSTUDIO_MODELS", str(kb.models))


def test_an_answer_quotes_and_cites_its_passage(kb):
    client = Scripted(Reply(quote="who is terrified of the dark", passage="character:giulia", answer="the dark"))
    answer = ask(kb, "What is Giulia afraid of?", client=client)
    assert not answer.abstained and answer.citations == ["character:giulia"]
    assert answer.answer == "the dark [character:giulia]"
    prompt = client.asked[0][1]["content"]
    assert "[character:giulia]" in prompt and "terrified of the dark" in prompt   # the passages went to the model


@pytest.mark.parametrize("reply, reason", [
    (Reply(quote="", passage="", answer=""), "do not state an answer"),
    (Reply(quote="afraid of spiders", passage="character:giulia", answer="spiders"), "quote is not in the passage"),
    (Reply(quote="terrified of the dark", passage="character:nobody", answer="the dark"), "do not state an answer"),
])
def test_unsupported_replies_abstain(kb, reply, reason):
    answer = ask(kb, "What is Giulia afraid of?", client=Scripted(reply))
    assert answer.abstained and answer.citations == [] and reason in answer.reason
    assert answer.answer.startswith("I don't know")


def test_weak_evidence_abstains_without_asking_the_model(kb):
    client = Scripted()
    answer = ask(kb, "What is the boiling point of tungsten in kelvin?", client=client)
    assert answer.abstained and "similarity" in answer.reason and client.asked == []


def test_grounding_checks():
    passage = "Rick has kept a portal gun in his garage since 1998, a gift from King Morty."
    assert ungrounded("What did Rick keep in 2005?", "a portal gun", passage) == "the passage never mentions 2005"
    assert "repeats the question" in ungrounded("Who gave King Morty a gift?", "King Morty", passage)
    assert ungrounded("Since when has Rick kept a portal gun?", "since 1998", passage) == ""
    # a name the question gives must be in the passage too (plurals, possessives and accents aside)
    assert ungrounded("Where has Summer kept a portal gun?", "his garage", passage) == \
        "the passage never mentions Summer"
    assert ungrounded("Where is Rick's portal gun kept?", "his garage", passage) == ""
    assert ungrounded("What did Kings give Rick?", "a portal gun", passage) == ""
    assert ungrounded("Who gave Rick the gun Hervé owned?", "King Morty",
                      "Herve's gun went to Rick from King Morty.") == ""


def test_ask_cli_json(kb, tmp_path):
    from conftest import run_cli

    env = {"ANIMSTUDIO_HOME": str(tmp_path / "home"), "ANIMSTUDIO_MODELS": os.environ["ANIMSTUDIO_MODELS"]}
    empty = run_cli("kb", "ask", "Who is Giulia?", env=env)
    assert empty.returncode == 1 and "is empty; add something with kb add" in empty.stderr
    bible = tmp_path / "characters.yaml"
    bible.write_text("characters:\n  Giulia: {description: A baker from Naples.}\n", encoding="utf-8")
    assert run_cli("kb", "add", str(bible), env=env).returncode == 0
    proc = run_cli("kb", "ask", "What is the boiling point of tungsten in kelvin?", "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["abstained"] and data["citations"] == [] and data["passages"][0]["id"] == "character:giulia"
