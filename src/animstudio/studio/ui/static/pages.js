// The pages: each is a form built from a job kind's or a tool's schema, the job it starts with its
// live progress, and a view of what came back. All work goes through the same routes as any client.

import { h, api, getCatalog, artifactUrl } from "./api.js";
import { schemaForm } from "./forms.js";
import { jobCard, showResults } from "./jobs.js";
import { shotsReport, timelineStrip, mouthCues } from "./views.js";
import { collectionsView, answerView, hitsView } from "./knowledge.js";
import { gallery } from "./gallery.js";

const HIDDEN = ["output", "confined_to"];   // results stay in the job's folder on a server
const NO_URLS = ["url"];                    // the server's configuration names the servers it talks to

function note(text, kind = "error") { return h("p", { class: `note ${kind}`, role: kind === "error" ? "alert" : "status" }, text); }

// a form that starts a job: uploads first (with their progress), then POST /jobs, then the job's card
function starter(form, makeJob, place, { onEnd, onEvent } = {}) {
  const uploading = h("progress", { class: "upload", max: "1", value: "0", hidden: true });
  const message = h("div", { class: "messages" });
  form.after(uploading, message);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    message.replaceChildren();
    try {
      const values = await form.read((fraction) => { uploading.hidden = false; uploading.value = fraction; });
      uploading.hidden = true;
      const job = await makeJob(values);
      place.prepend(jobCard(job, { onEnd, onEvent }));
    } catch (err) {
      message.append(note(err.message));
    } finally {
      uploading.hidden = true;
      button.disabled = false;
    }
  });
  return form;
}

function pipelineJob(kind) {
  return (params) => api("/jobs", { method: "POST", body: { kind, params } });
}

function toolJob(tool) {
  return (args) => api("/jobs", { method: "POST", body: { kind: "tool", params: { tool, args } } });
}

// a tool's form, its output named by the tool's own suffix
export function toolForm(name, tool, options = {}) {
  const params = tool.parameters;
  const output = params.properties && params.properties.output;
  const suffix = output && ((output.suffixes || [])[0] || (output.anyOf || []).map((o) => (o.suffixes || [])[0])
    .find(Boolean));
  const values = { ...(options.values || {}) };
  if (output && suffix && values.output === undefined) values.output = `${name.split(".").pop()}${suffix}`;
  return schemaForm(params, { omit: ["output", ...NO_URLS, ...(options.omit || [])], values, id: `form-${name}`,
    submit: options.submit || "Run", choices: options.choices });
}

async function pipelinePage(root, kind, intro, extra = {}) {
  const catalog = await getCatalog();
  const spec = catalog.pipelines[kind];
  const jobs = h("section", { class: "jobs" });
  const form = schemaForm(spec.schema, { omit: HIDDEN, id: `form-${kind}` });
  root.append(h("h1", {}, intro), h("p", {}, spec.description),
    h("p", { class: "limit" }, `Uploads up to ${catalog.max_upload_mb} MB.`), form, jobs);
  starter(form, pipelineJob(kind), jobs, extra);
}

export const pages = {
  async jobs(root) {
    const list = h("section", { class: "jobs" });
    root.append(h("h1", {}, "Jobs"), h("p", {}, "Every job of this studio, those started from the command line too."),
      list);
    const shown = new Map();
    async function refresh() {
      const jobs = await api("/jobs?limit=30");
      for (const job of jobs.reverse()) {
        if (shown.has(job.id)) continue;
        const card = jobCard(job, { results: false });
        const open = h("button", { type: "button", class: "open", onclick: async () => {
          const current = await api(`/jobs/${job.id}`);
          await showResults(current, card.querySelector(".results"));
        } }, "Open results");
        card.querySelector("header").append(open);
        list.prepend(card);
        shown.set(job.id, card);
      }
    }
    await refresh();
    const timer = setInterval(() => refresh().catch(() => {}), 3000);
    return () => clearInterval(timer);
  },

  parody: (root) => pipelinePage(root, "parody", "Parody"),
  narrate: (root) => pipelinePage(root, "narrate", "Narrate"),

  async analyze(root) {
    await pipelinePage(root, "analyze", "Analyze", {
      onEnd: async (job, card) => {
        if (job.status !== "done") return;
        const analysis = await api(artifactUrl(job.id, "analysis.json"));
        card.querySelector(".results").prepend(shotsReport(analysis, job));
      },
    });
  },

  async edit(root) {
    const catalog = await getCatalog();
    const jobs = h("section", { class: "jobs" });
    const strip = h("section", { class: "timeline-view" });
    const showTimeline = async (job, card) => {
      if (job.status !== "done") return;
      const files = await api(`/jobs/${job.id}/artifacts`);
      const otio = files.find((f) => f.name.endsWith(".otio"));
      if (otio) card.querySelector(".results").prepend(timelineStrip(await api(artifactUrl(job.id, otio.name))));
    };
    const reel = schemaForm(catalog.pipelines.highlights.schema, { omit: HIDDEN, id: "form-highlights",
      submit: "Cut a reel" });
    const render = schemaForm(catalog.pipelines.render.schema, { omit: HIDDEN, id: "form-render", submit: "Render" });
    const exported = toolForm("edit.export", catalog.tools["edit.export"], { submit: "Export" });
    // a timeline from this computer, read in the page (nothing is uploaded)
    const pick = h("input", { type: "file", id: "otio-file", accept: ".otio,application/json" });
    const seen = h("div", { class: "otio-view", "aria-live": "polite" });
    pick.addEventListener("change", async () => {
      const file = pick.files[0];
      if (!file) return;
      try {
        const otio = JSON.parse(await file.text());
        if (!String(otio.OTIO_SCHEMA || "").startsWith("Timeline")) throw new Error("its top is not a Timeline");
        seen.replaceChildren(timelineStrip(otio));
      } catch (err) {
        seen.replaceChildren(note(`${file.name} is not an OpenTimelineIO timeline (${err.message}); pick a .otio file`));
      }
    });
    root.append(h("h1", {}, "Edit"),
      h("h2", {}, "See a timeline"), h("label", { for: "otio-file" }, "An .otio file: "), pick, seen,
      h("h2", {}, "A highlight reel"), h("p", {}, catalog.pipelines.highlights.description), reel,
      h("h2", {}, "Render a timeline"), h("p", {}, catalog.pipelines.render.description), render,
      h("h2", {}, "Export for another editor"), h("p", {}, catalog.tools["edit.export"].description), exported,
      strip, jobs);
    starter(reel, pipelineJob("highlights"), jobs, { onEnd: showTimeline });
    starter(render, pipelineJob("render"), jobs);
    starter(exported, toolJob("edit.export"), jobs);
  },

  async voices(root) {
    const catalog = await getCatalog();
    const jobs = h("section", { class: "jobs" });
    const registry = await api("/voices");
    const unique = (list) => [...new Set(list)];
    const say = toolForm("voice.say", catalog.tools["voice.say"], { values: { cues: "say.json", check: true },
      omit: ["cues"], submit: "Speak", choices: {
        character: registry.characters.map((c) => c.character), engine: unique(registry.voices.map((v) => v.engine)),
        voice: unique(registry.voices.map((v) => v.voice)), emotion: registry.emotions } });
    root.append(h("h1", {}, "Voices"), h("p", {}, catalog.tools["voice.say"].description), say, jobs);
    starter(say, toolJob("voice.say"), jobs, {
      onEnd: async (job, card) => {
        const result = await showToolResult(job, card);
        if (!result) return;
        const out = card.querySelector(".results");
        const audio = out.querySelector("audio");
        if (audio && result.cues) out.prepend(await mouthCues(artifactUrl(job.id, result.cues.split("/").pop()), audio));
        if (result.check) {
          out.prepend(h("p", { class: `hearing ${result.check.passed ? "passed" : "failed"}` },
            `Heard back: "${result.check.heard}", word error rate ${(100 * result.check.wer).toFixed(0)} %`));
        }
      },
    });
  },

  async images(root) {
    const catalog = await getCatalog();
    const jobs = h("section", { class: "jobs" });
    const showGallery = async (job, card) => {
      if (job.status === "done") card.querySelector(".results").prepend(await gallery(job));
    };
    const generate = toolForm("image.generate", catalog.tools["image.generate"], { submit: "Generate" });
    root.append(h("h1", {}, "Images"), h("p", {}, catalog.tools["image.generate"].description), generate);
    starter(generate, toolJob("image.generate"), jobs, { onEnd: showGallery });
    const batch = catalog.pipelines["image-batch"];
    if (batch) {
      const form = schemaForm(batch.schema, { omit: HIDDEN, id: "form-image-batch", submit: "Make the batch" });
      root.append(h("h2", {}, "A batch"), h("p", {}, batch.description), form);
      starter(form, pipelineJob("image-batch"), jobs, { onEnd: showGallery });
    }
    root.append(jobs);
  },

  async knowledge(root) {
    const catalog = await getCatalog();
    const jobs = h("section", { class: "jobs" });
    const collections = h("section", { class: "collections" }, await collectionsView());
    const refresh = async () => collections.replaceChildren(await collectionsView());
    root.append(h("h1", {}, "Knowledge"), h("h2", {}, "Collections"), collections);
    const shown = {   // how each tool's result reads: an answer with its citations, hits, the collections again
      "kb.ask": (result, job) => answerView(result, job.id),
      "kb.search": (result) => hitsView(result),
      "kb.add": () => { refresh(); return null; },
    };
    for (const [name, submit] of [["kb.ask", "Ask"], ["kb.search", "Search"], ["kb.add", "Add"]]) {
      const form = toolForm(name, catalog.tools[name], { submit });
      root.append(h("h2", {}, catalog.tools[name].description), form);
      starter(form, toolJob(name), jobs, { onEnd: async (job, card) => {
        const result = await showToolResult(job, card);
        const view = result && shown[name](result, job);
        if (view) card.querySelector(".results").prepend(view);
      } });
    }
    root.append(jobs);
  },
};

// a finished tool job's result.json as a table above its files; the result
async function showToolResult(job, card) {
  if (job.status !== "done") return null;
  const result = await api(artifactUrl(job.id, "result.json"));
  card.querySelector(".results").prepend(resultTable(result));
  return result;
}

// a tool's result as a table (nested values as JSON)
export function resultTable(result) {
  return h("table", { class: "result" }, Object.entries(result).map(([key, value]) => h("tr", {},
    h("th", {}, key), h("td", {}, typeof value === "object" && value !== null ?
      h("pre", {}, JSON.stringify(value, null, 1)) : String(value)))));
}
