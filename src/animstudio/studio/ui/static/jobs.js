// A job on the page: its live progress bar (from the job's server-sent events), its log, cancel and
// resume, and what it made once it is done (videos with their subtitles, audio, pictures, files).

import { h, api, follow, artifactUrl } from "./api.js";

const PLAYABLE = { video: [".mp4", ".webm", ".mov", ".mkv"], audio: [".wav", ".mp3", ".ogg", ".flac", ".m4a"],
  image: [".png", ".jpg", ".jpeg", ".webp"] };
const ENDED = new Set(["done", "failed", "cancelled"]);

function kindOf(name) {
  const lower = name.toLowerCase();
  return Object.keys(PLAYABLE).find((k) => PLAYABLE[k].some((s) => lower.endsWith(s)));
}

export function overall(job, event) {
  const names = job.steps.map((s) => s.name);
  const index = Math.max(0, names.indexOf(event.step));   // the steps run in order
  const within = event.fraction === null || event.fraction === undefined ? 0 : event.fraction;
  return Math.min(1, (index + within) / Math.max(1, names.length));
}

export function jobCard(job, { onEvent = () => {}, onEnd = () => {}, results = true } = {}) {
  const bar = h("progress", { max: "1", value: "0" });
  const label = h("span", { class: "status" }, job.status);
  const percent = h("span", { class: "percent" }, "0 %");
  const log = h("ol", { class: "log" });
  const out = h("div", { class: "results" });
  const cancel = h("button", { type: "button", class: "cancel", onclick: async () => {
    await api(`/jobs/${job.id}`, { method: "DELETE" }).catch((e) => say(`cancel: ${e.message}`));
  } }, "Cancel");
  const resume = h("button", { type: "button", class: "resume", hidden: true, onclick: async () => {
    try { watch(await api(`/jobs/${job.id}/resume`, { method: "POST" })); } catch (e) { say(e.message); }
  } }, "Resume");
  const card = h("article", { class: "job", "data-job": job.id, "data-kind": job.kind, "data-status": job.status },
    h("header", {}, h("b", {}, job.kind), " ", h("code", {}, job.id), " ", label, " ", percent, " ", cancel, resume),
    bar, log, out);
  let stop = null;

  function say(text, kind = "progress") {
    if (!text) return;
    log.append(h("li", { class: `event ${kind}` }, text));
    while (log.children.length > 200) log.firstChild.remove();
  }

  function setStatus(status, fraction) {
    card.dataset.status = status;
    label.textContent = status;
    if (fraction !== undefined) {
      bar.value = fraction;
      percent.textContent = `${Math.round(fraction * 100)} %`;
    }
    cancel.hidden = ENDED.has(status);
    resume.hidden = !(status === "failed" || status === "cancelled");
  }

  function watch(current) {
    job = current;
    setStatus(job.status, job.status === "done" ? 1 : undefined);
    if (stop) stop();
    if (ENDED.has(job.status)) { finish(job); return; }
    stop = follow(job.id, (event) => {
      const waiting = event.kind === "status" && event.message.startsWith("waiting");
      const moved = event.kind === "progress" || (event.fraction !== null && event.fraction !== undefined);
      setStatus(waiting ? "waiting" : "running", moved ? Math.max(bar.value, overall(job, event)) : undefined);
      say(event.message, event.kind);
      onEvent(event, card);
    }, (ended) => { if (ended) finish(ended); });
  }

  async function finish(ended) {
    job = ended;
    setStatus(job.status, job.status === "done" ? 1 : undefined);
    if (job.error) say(job.error, "error");
    if (results && job.status === "done") await showResults(job, out);
    onEnd(job, card);
  }

  card.watch = watch;
  watch(job);
  return card;
}

export async function showResults(job, out) {
  const files = await api(`/jobs/${job.id}/artifacts`);
  out.replaceChildren();
  const names = files.map((f) => f.name);
  for (const f of files) {
    const url = artifactUrl(job.id, f.name);
    const kind = kindOf(f.name);
    if (kind === "video") {
      const video = h("video", { controls: true, src: url, preload: "metadata", class: "result-video" });
      const srt = f.name.replace(/\.[^.]+$/, ".srt");
      if (names.includes(srt)) {
        video.append(h("track", { kind: "subtitles", label: "subtitles", default: true, srclang: "en",
          src: artifactUrl(job.id, srt, "vtt") }));
      }
      out.append(h("figure", {}, video, h("figcaption", {}, f.name)));
    } else if (kind === "audio") {
      out.append(h("figure", {}, h("audio", { controls: true, src: url, class: "result-audio" }),
        h("figcaption", {}, f.name)));
    } else if (kind === "image" && files.length <= 40) {
      out.append(h("figure", {}, h("img", { src: url, alt: f.name, loading: "lazy", class: "result-image" }),
        h("figcaption", {}, f.name)));
    }
  }
  out.append(h("ul", { class: "downloads" }, files.map((f) => h("li", {},
    h("a", { href: artifactUrl(job.id, f.name), download: f.name.split("/").pop() }, f.name),
    ` (${(f.bytes / 1024).toFixed(1)} KB)`))));
  return files;
}
