// The studio's HTTP API as the page uses it: JSON calls, uploads with their progress, a job's
// server-sent events. The key (when the server asks for one) travels in a same-site cookie.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) if (child !== undefined && child !== null && child !== "") el.append(child);
  return el;
}

export class ApiError extends Error {
  constructor(status, detail) { super(detail); this.status = status; }
}

let onSignedOut = () => {};
export function whenSignedOut(fn) { onSignedOut = fn; }

export async function api(path, { method = "GET", body, signingIn = false } = {}) {
  const reply = await fetch(path, {
    method, credentials: "same-origin",
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await reply.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = { detail: text }; }
  if (!reply.ok) {
    if (reply.status === 401 && !signingIn) onSignedOut();
    const detail = data && data.detail;
    throw new ApiError(reply.status, typeof detail === "string" ? detail : JSON.stringify(detail));
  }
  return data;
}

// a file sent to /uploads: its name for a job ("upload:ID"); onProgress(fraction, message) while it goes
export function upload(file, onProgress = () => {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const form = new FormData();
    form.append("file", file);
    xhr.open("POST", "/uploads");
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total, `uploading ${file.name}`);
    xhr.onload = () => {
      let data = {};
      try { data = JSON.parse(xhr.responseText); } catch { /* the status says enough */ }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data.clip);
      else reject(new ApiError(xhr.status, data.detail || `upload failed (${xhr.status})`));
    };
    xhr.onerror = () => reject(new ApiError(0, "the server cannot be reached"));
    xhr.send(form);
  });
}

let media = null;
export function mediaChoices() {
  media = media || api("/media").catch(() => []);
  return media;
}

let catalog = null;
export function getCatalog() {
  catalog = catalog || api("/catalog");
  return catalog;
}

// follow(jobId, onEvent, onEnd) -> a function that stops watching; events as the API streams them
export function follow(jobId, onEvent, onEnd = () => {}) {
  const source = new EventSource(`/jobs/${encodeURIComponent(jobId)}/events`);
  const kinds = ["progress", "decision", "error", "status", "plan", "action", "observation", "score", "guard", "replan"];
  for (const kind of kinds) source.addEventListener(kind, (e) => onEvent(JSON.parse(e.data)));
  source.addEventListener("end", (e) => { source.close(); onEnd(JSON.parse(e.data)); });
  source.onerror = () => { if (source.readyState === EventSource.CLOSED) onEnd(null); };
  return () => source.close();
}

export function artifactUrl(jobId, name, as) {
  return `/jobs/${encodeURIComponent(jobId)}/artifacts/${name.split("/").map(encodeURIComponent).join("/")}` +
    (as ? `?as=${as}` : "");
}
