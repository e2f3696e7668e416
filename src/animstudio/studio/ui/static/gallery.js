// The pictures a job made as a gallery: each with the parameters of its JSON sidecar (prompt, seed,
// sampler, steps, CFG, size, checkpoint, LoRAs) and, in a batch checked against a character's
// references, its consistency score and how many tries it took.

import { h, api, artifactUrl } from "./api.js";

const SHOWN = [["seed", "seed"], ["sampler", "sampler"], ["steps", "steps"], ["cfg_scale", "CFG"],
  ["model", "checkpoint"]];

function parameters(p) {
  const rows = SHOWN.filter(([key]) => p[key] !== undefined && p[key] !== null)
    .map(([key, label]) => [label, String(p[key])]);
  rows.push(["size", `${p.width}x${p.height}`]);
  const loras = Object.entries(p.loras || {});
  if (loras.length) rows.push(["LoRAs", loras.map(([name, weight]) => `${name}:${weight}`).join(", ")]);
  if (p.negative_prompt) rows.push(["negative", p.negative_prompt]);
  return h("dl", {}, rows.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

export async function gallery(job) {
  const files = await api(`/jobs/${job.id}/artifacts`);
  const names = new Set(files.map((f) => f.name));
  const sidecar = (name) => name.replace(/\.png$/, ".json");
  const pictures = files.filter((f) => f.name.endsWith(".png") && names.has(sidecar(f.name)));
  const items = new Map();
  for (const manifest of files.filter((f) => f.name.split("/").pop() === "batch.json")) {
    const folder = manifest.name.slice(0, -"batch.json".length);
    for (const item of (await api(artifactUrl(job.id, manifest.name))).items) items.set(folder + item.file, item);
  }
  const figures = await Promise.all(pictures.map(async (f) => {
    const p = await api(artifactUrl(job.id, sidecar(f.name)));
    const item = items.get(f.name);
    const scored = item && typeof item.score === "number";
    return h("figure", { class: "picture", "data-file": f.name, "data-seed": p.seed },
      h("a", { href: artifactUrl(job.id, f.name), target: "_blank" },
        h("img", { src: artifactUrl(job.id, f.name), alt: p.prompt, loading: "lazy" })),
      h("figcaption", {}, h("p", { class: "prompt" }, p.prompt), parameters(p),
        scored ? h("p", { class: "score", "data-score": item.score },
          `consistency ${item.score.toFixed(2)}${item.tries > 1 ? ` after ${item.tries} tries` : ""}`) : null));
  }));
  return h("section", { class: "gallery", "aria-label": "pictures" }, figures);
}
