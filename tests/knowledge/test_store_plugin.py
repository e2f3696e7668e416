"""The knowledge base asks the registry for its vector store: a store registered by a plugin module
and named by the setting knowledge.vector_store holds what kb add writes and answers kb search."""

from __future__ import annotations

import json
import types

import pytest

from animstudio import plugins
from animstudio.errors import PluginError, UnknownBackendError
from animstudio.hookspecs import hookimpl
from animstudio.knowledge.chroma import ChromaStore
from animstudio.knowledge.kb import KnowledgeBase
from animstudio.knowledge.store import VectorStore
from conftest import run_cli

pytest.importorskip("chromadb")


class ShelfStore(ChromaStore):
    """Chroma under another name: its embedded files go to <home>/knowledge/shelf."""

    name = "shelf"
    opened: list[str] = []

    def collection(self, name, create=False, embedder=None):
        ShelfStore.opened.append(name)
        return super().collection(name, create, embedder)


def register(*stores) -> None:
    plugin = types.ModuleType("shelf_plugin")

    @hookimpl
    def register_vector_stores(register):
        for store in stores:
            register(store)

    plugin.register_vector_stores = register_vector_stores
    plugins.register_module(plugin, name="shelf_plugin")


def test_the_knowledge_base_uses_the_store_the_setting_names(minilm, monkeypatch, studio_home, tmp_path):
    monkeypatch.setenv("ANIMSTUDIO_MODELS", str(minilm))
    monkeypatch.setenv("ANIMSTUDIO_KNOWLEDGE__VECTOR_STORE", "shelf")
    register(ShelfStore)
    ShelfStore.opened.clear()
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "rick.md").write_text("# Rick\n\nRick keeps a portal gun in the garage.\n", encoding="utf-8")
    (notes / "giulia.md").write_text("# Giulia\n\nGiulia bakes bread in Naples at dawn.\n", encoding="utf-8")
    kb = KnowledgeBase()
    assert type(kb.store) is ShelfStore and kb.store.where == str(studio_home / "knowledge" / "shelf")
    report = kb.add([notes])
    assert (report.sources_added, report.chunks_written) == (2, 2)
    hits = kb.search("where is the portal gun?", k=2)
    assert [h.metadata["source"] for h in hits] == [str(notes / "rick.md"), str(notes / "giulia.md")]
    assert ShelfStore.opened[0] == "documents" and kb.store.names() == ["documents"]
    assert not (studio_home / "knowledge" / "chroma").exists()   # nothing went to the built-in store
    assert KnowledgeBase(store="chroma").store.names() == []


def test_an_unknown_store_lists_the_known_ones(monkeypatch):
    register(ShelfStore)
    monkeypatch.setenv("ANIMSTUDIO_KNOWLEDGE__VECTOR_STORE", "shelves")
    with pytest.raises(UnknownBackendError, match="no vector store called 'shelves'; known: chroma, shelf"):
        KnowledgeBase()


def test_a_store_that_breaks_the_contract_is_refused_when_registered():
    class NoCollection(VectorStore):
        name = "broken"

    with pytest.raises(PluginError, match=r"does not define collection\(\), which every vector store must have"):
        plugins.check_backend("vector_store", NoCollection, "shelf_plugin")
    with pytest.raises(PluginError, match="is registered as a vector store but is not one"):
        plugins.check_backend("vector_store", dict, "shelf_plugin")


def test_plugins_list_shows_the_built_in_store():
    proc = run_cli("plugins", "list", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["backends"]["vector_store"] == {"chroma": "animstudio.knowledge.chroma.ChromaStore"}
