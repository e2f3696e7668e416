// The agent's page: a request (and its files) in, the plan and each step (the call, what came back,
// its score, the decisions) streamed in as they happen, with approve / deny when a step waits.

import { h, api, upload, follow } from "./api.js";
import { showResults } from "./jobs.js";

function bubble(kind, ...children) {
  return h("li", { class: `step ${kind}`, "data-kind": kind }, h("b", {}, kind), " ", ...children);
}

function describe(event) {
  const d = event.data || {};
  switch (event.kind) {
    case "plan":
    case "replan":
      if (d.declined) return bubble("declined", d.declined);
      return bubble(event.kind, event.kind === "replan" ? `${d.why || ""} ` : `${d.intent || ""} `,
        h("ol", { class: "plan-steps" }, (d.steps || []).map((s) => h("li", {}, h("code", {}, s.tool), " ",
          JSON.stringify(s.args || {}), s.after && s.after.length ? ` after ${s.after.join(", ")}` : ""))));
    case "action":
      return bubble("action", h("code", {}, d.tool), ` ${JSON.stringify(d.args || {})} (try ${d.attempt})`);
    case "observation":
      return d.error ? bubble("observation", `error: ${d.error}`) : bubble("observation", ...outcome(d.result || {}));
    case "score":
      return bubble("score", `${d.passed ? "passed" : "failed"}${d.note ? `: ${d.note}` : ""}`);
    default:
      return bubble(event.kind, event.message);
  }
}

// What a step gave back: one line per field (a list by its length and first items), then the whole
// of it under a disclosure.
function outcome(result) {
  const short = (value) => {
    if (Array.isArray(value)) {
      const items = value.filter((v) => !(typeof v === "string" && v.startsWith("... "))).length;
      const more = value.length > items ? Number(/\d+/.exec(value[value.length - 1])[0]) : 0;
      const first = value.slice(0, 3).map((v) => (typeof v === "object" ? JSON.stringify(v) : String(v)));
      return `${items + more} (${first.join(", ")}${items + more > 3 ? ", ..." : ""})`;
    }
    if (value && typeof value === "object") return `{${Object.keys(value).join(", ")}}`;
    return String(value);
  };
  const fields = Object.entries(result).map(([k, v]) => h("li", { "data-field": k }, h("b", {}, k), ` ${short(v)}`));
  return [h("ul", { class: "fields" }, fields),
    h("details", {}, h("summary", {}, "all of it"), h("pre", {}, JSON.stringify(result, null, 2)))];
}

export async function agentPage(root) {
  const request = h("textarea", { id: "agent-request", name: "request", rows: 3, required: true,
    placeholder: "Make a 10-second highlight reel of match.mp4 in the noir style and export it as an EDL" });
  const files = h("input", { type: "file", name: "files", multiple: true, id: "agent-files" });
  const yes = h("input", { type: "checkbox", name: "yes", id: "agent-yes" });
  const planOnly = h("input", { type: "checkbox", name: "plan-only", id: "agent-plan-only" });
  const send = h("button", { type: "submit" }, "Send");
  const form = h("form", { id: "form-agent", class: "schema-form" },
    h("label", { for: "agent-request" }, "What should the studio make?"), request,
    h("label", { for: "agent-files" }, "Files"), files,
    h("label", {}, yes, " run expensive steps without asking"),
    h("label", {}, planOnly, " only show the plan"), send);
  const chat = h("ol", { class: "chat", "aria-live": "polite" });
  root.append(h("h1", {}, "Agent"), form, chat);

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    send.disabled = true;
    try {
      const names = [];
      for (const file of files.files) names.push(await upload(file));
      chat.append(h("li", { class: "step user" }, h("b", {}, "you"), " ", request.value));
      if (planOnly.checked) {
        const plan = await api("/agent/plan", { method: "POST", body: { request: request.value, files: names } });
        chat.append(describe({ kind: "plan", data: plan }));
        return;
      }
      const job = await api("/agent/runs", { method: "POST",
        body: { request: request.value, files: names, yes: yes.checked } });
      watch(job, chat);
    } catch (err) {
      chat.append(h("li", { class: "step error", role: "alert" }, err.message));
    } finally {
      send.disabled = false;
    }
  });
}

function watch(job, chat) {
  const run = h("li", { class: "run", "data-job": job.id }, h("code", {}, job.id),
    h("progress", { max: "1", value: "0" }));
  const steps = h("ol", { class: "run-steps" });
  const out = h("div", { class: "results" });
  run.append(steps, out);
  chat.append(run);
  const bar = run.querySelector("progress");
  follow(job.id, (event) => {
    if (event.fraction !== null && event.fraction !== undefined) bar.value = Math.max(bar.value, event.fraction);
    if (event.kind === "status" && event.message.startsWith("waiting")) {
      steps.append(approval(job.id, event.message.replace(/^waiting: /, "")));
      return;
    }
    if (event.data || ["guard", "decision", "error"].includes(event.kind)) steps.append(describe(event));
  }, async (ended) => {
    if (!ended) return;
    bar.value = ended.status === "done" ? 1 : bar.value;
    steps.append(bubble(ended.status, ended.error || ""));
    if (ended.status === "done") await showResults(ended, out);
  });
}

function approval(jobId, why) {
  const answer = async (approve, box) => {
    box.querySelectorAll("button").forEach((b) => { b.disabled = true; });
    try {
      await api(`/agent/runs/${jobId}/approval`, { method: "POST", body: { approve } });
      box.append(` ${approve ? "approved" : "denied"}`);
    } catch (err) {
      box.append(` ${err.message}`);
    }
  };
  const box = bubble("waiting", why.split("; approve with")[0], " ");
  box.append(h("button", { type: "button", class: "approve", onclick: () => answer(true, box) }, "Approve"),
    h("button", { type: "button", class: "deny", onclick: () => answer(false, box) }, "Deny"));
  return box;
}
