// Views of the knowledge base: its collections and their sources, an answer whose citations link to
// the passages it quotes, and search hits with where each came from.

import { h, api } from "./api.js";

// the collections as a table; a click on one lists the sources indexed into it
export async function collectionsView() {
  const collections = await api("/kb/collections");
  const names = Object.keys(collections);
  const sources = h("div", { class: "kb-sources", "aria-live": "polite" });
  if (!names.length) return h("p", { class: "note status" }, "The knowledge base is empty: add files below.");
  const show = async (name) => {
    const found = await api(`/kb/collections/${encodeURIComponent(name)}`);
    sources.replaceChildren(h("h3", {}, `${name}: ${Object.keys(found).length} sources`),
      h("table", { class: "result" }, h("tr", {}, h("th", {}, "source"), h("th", {}, "chunks"), h("th", {}, "indexed")),
        Object.entries(found).sort().map(([source, meta]) => h("tr", { "data-source": source },
          h("td", {}, source), h("td", {}, String(meta.chunks ?? "")), h("td", {}, meta.indexed_at || "")))));
  };
  const rows = names.map((name) => {
    const c = collections[name];
    return h("tr", { "data-collection": name },
      h("td", {}, h("button", { type: "button", class: "link", onclick: () => show(name) }, name)),
      h("td", {}, String(c.records)), h("td", {}, String(c.sources)), h("td", {}, c.record_kind || ""));
  });
  return h("section", { class: "kb-collections" },
    h("table", { class: "result" }, h("tr", {}, h("th", {}, "collection"), h("th", {}, "records"),
      h("th", {}, "sources"), h("th", {}, "kind")), rows), sources);
}

// an answer with each cited id in its text a link to the passage it names
export function answerView(answered, key) {
  const anchor = (i) => `cite-${key}-${i}`;
  const index = new Map(answered.passages.map((p, i) => [p.id, i]));
  const view = h("section", { class: "answer" });
  const text = h("p", { class: answered.abstained ? "answer-text abstained" : "answer-text" });
  const cited = answered.citations.filter((id) => index.has(id));
  const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const pattern = cited.length ? new RegExp(cited.map(escape).join("|"), "g") : null;
  let at = 0;
  for (const match of pattern ? answered.answer.matchAll(pattern) : []) {
    text.append(answered.answer.slice(at, match.index),
      h("a", { href: `#${anchor(index.get(match[0]))}`, class: "citation" }, match[0]));
    at = match.index + match[0].length;
  }
  text.append(answered.answer.slice(at));
  view.append(text);
  if (answered.abstained && answered.reason) view.append(h("p", { class: "note status" }, answered.reason));
  if (!answered.passages.length) return view;
  view.append(h("h3", {}, answered.abstained ? "The closest passages" : "Passages"),
    h("ol", { class: "passages" }, answered.passages.map((p, i) =>
    h("li", { id: anchor(i), class: cited.includes(p.id) ? "cited" : "" },
      h("code", {}, p.id), ` from ${p.source} (${p.collection}), similarity ${p.similarity.toFixed(2)}`))));
  return view;
}

// search hits, best first: where each came from, its score and its text
export function hitsView(found) {
  if (!found.hits.length) return h("p", { class: "note status" }, `Nothing found for "${found.query}".`);
  return h("ol", { class: "hits" }, found.hits.map((hit) => h("li", { "data-id": hit.id },
    h("p", {}, h("code", {}, hit.id), ` ${hit.metadata.source || ""} (${hit.collection}), score ${hit.score.toFixed(3)}`),
    h("blockquote", {}, hit.text))));
}
