// Views of what jobs make: an analysis as a report (shots on a strip, camera moves, composition,
// loudness, speech), a timeline as strips of clips, transitions and captions, mouth cues in time
// with their audio.

import { h, artifactUrl } from "./api.js";

const fmt = (s) => `${Math.floor(s / 60)}:${(s % 60).toFixed(1).padStart(4, "0")}`;
const pct = (x) => `${(100 * x).toFixed(3)}%`;

export function shotsReport(analysis, job) {
  const total = analysis.video.duration_s || (analysis.shots.length ? analysis.shots.at(-1).end_s : 1);
  const camera = new Map((analysis.camera || []).map((c) => [c.shot, c]));
  const composition = new Map((analysis.composition || []).map((c) => [c.shot, c]));
  const strip = h("div", { class: "strip shots", role: "list", "aria-label": "shots" });
  for (const shot of analysis.shots) {
    const cam = camera.get(shot.index);
    const comp = composition.get(shot.index);
    strip.append(h("div", { class: "shot", role: "listitem", "data-shot": shot.index,
      style: `left:${pct(shot.start_s / total)};width:${pct((shot.end_s - shot.start_s) / total)}`,
      title: `shot ${shot.index + 1}: ${fmt(shot.start_s)}-${fmt(shot.end_s)}` +
        (cam ? `, camera ${cam.label}` : "") + (comp ? `, ${comp.shot_size}` : "") }, String(shot.index + 1)));
  }
  const speech = h("div", { class: "strip speech", "aria-label": "speech" },
    (analysis.audio.speech || []).map((s) => h("div", { class: "speech-segment",
      style: `left:${pct(s.start_s / total)};width:${pct((s.end_s - s.start_s) / total)}`,
      title: `speech ${fmt(s.start_s)}-${fmt(s.end_s)}` })));
  const rows = analysis.shots.map((shot) => {
    const cam = camera.get(shot.index) || {};
    const comp = composition.get(shot.index) || {};
    const frame = comp.keyframe !== undefined && job ? h("span", {}, `frame ${comp.keyframe}`) : "";
    return h("tr", { "data-shot": shot.index }, h("td", {}, String(shot.index + 1)), h("td", {}, fmt(shot.start_s)),
      h("td", {}, `${(shot.end_s - shot.start_s).toFixed(2)} s`), h("td", {}, cam.label || ""),
      h("td", {}, comp.shot_size || ""), h("td", {}, comp.thirds_score === undefined ? "" :
        comp.thirds_score.toFixed(2)), h("td", {},
        (comp.palette || []).slice(0, 5).map((s) => h("i", { class: "swatch", style: `background:${s.hex || s.color}`,
          title: s.hex || s.color }))), h("td", {}, frame),
      h("td", { class: "speakers" }, [...new Set((analysis.lines || []).filter((l) => l.shot === shot.index)
        .map((l) => l.speaker))].join(", ")));
  });
  const audio = analysis.audio;
  const lines = analysis.lines || [];
  const spoken = lines.length ? h("table", { class: "speech-table" },
    h("tr", {}, ["time", "shot", "speaker", "line"].map((t) => h("th", {}, t))),
    lines.map((line) => h("tr", { "data-shot": line.shot ?? "" }, h("td", {}, fmt(line.start_s)),
      h("td", {}, line.shot === null || line.shot === undefined ? "" : String(line.shot + 1)),
      h("td", { class: "speaker" }, line.speaker), h("td", {}, line.text)))) : "";
  return h("section", { class: "analysis-report" },
    h("h3", {}, `${analysis.shots.length} shots in ${total.toFixed(1)} s`), strip, speech,
    h("p", { class: "loudness" }, audio.has_audio ?
      `Loudness ${audio.integrated_lufs?.toFixed(1)} LUFS, range ${audio.loudness_range_lu?.toFixed(1)} LU, ` +
      `true peak ${audio.true_peak_dbfs?.toFixed(1)} dBFS, speech ${(100 * audio.speech_ratio).toFixed(0)} % of the time` :
      "No audio."),
    h("table", { class: "shots-table" }, h("tr", {}, ["shot", "start", "length", "camera", "size", "thirds",
      "palette", "keyframe", "who speaks"].map((t) => h("th", {}, t))), rows),
    lines.length ? h("h3", {}, `Speech: ${new Set(lines.map((l) => l.speaker)).size} speakers, ${lines.length} lines`) : "",
    spoken);
}

function seconds(time) {
  return time ? time.value / time.rate : 0;
}

export function timelineStrip(otio) {
  const tracks = (otio.tracks && otio.tracks.children) || [];
  let total = 0;
  for (const track of tracks) {
    let end = 0;
    for (const item of track.children || []) if (item.source_range) end += seconds(item.source_range.duration);
    total = Math.max(total, end);
  }
  total = total || 1;
  const view = h("section", { class: "timeline", "aria-label": "timeline" },
    h("h3", {}, `${otio.name || "timeline"}: ${total.toFixed(2)} s`));
  for (const track of tracks) {
    const row = h("div", { class: "strip track", "data-track": track.name || track.kind });
    let at = 0;
    for (const item of track.children || []) {
      const schema = (item.OTIO_SCHEMA || "").split(".")[0];
      if (schema === "Transition") {
        const length = seconds(item.in_offset) + seconds(item.out_offset);
        row.append(h("div", { class: "item transition", title: `${item.transition_type} ${length.toFixed(2)} s`,
          style: `left:${pct((at - seconds(item.in_offset)) / total)};width:${pct(length / total)}` }));
        continue;
      }
      const length = item.source_range ? seconds(item.source_range.duration) : 0;
      const meta = (item.metadata && item.metadata.animstudio) || {};
      const text = meta.text || item.name || "";
      if (schema !== "Gap") {
        row.append(h("div", { class: `item ${schema.toLowerCase()}`, title: `${text} ${fmt(at)} +${length.toFixed(2)} s`,
          style: `left:${pct(at / total)};width:${pct(length / total)}` }, text));
      }
      at += length;
    }
    view.append(h("div", { class: "track-row" }, h("span", { class: "track-name" }, track.name || track.kind), row));
  }
  return view;
}

// mouth shapes (Rhubarb's A-H and X) shown in time with the audio element that plays the line
export async function mouthCues(url, audio) {
  const data = await (await fetch(url, { credentials: "same-origin" })).json();
  const cues = data.mouthCues || data.cues || [];
  const mouth = h("div", { class: "mouth", "aria-label": "mouth shape" }, "X");
  const strip = h("div", { class: "strip cues" });
  const total = cues.length ? cues.at(-1).end : 1;
  for (const cue of cues) {
    strip.append(h("div", { class: `cue shape-${cue.value}`, title: `${cue.value} ${cue.start.toFixed(2)} s`,
      style: `left:${pct(cue.start / total)};width:${pct((cue.end - cue.start) / total)}` }, cue.value));
  }
  const show = () => {
    const t = audio.currentTime;
    const cue = cues.find((c) => c.start <= t && t < c.end);
    mouth.textContent = cue ? cue.value : "X";
    mouth.dataset.shape = mouth.textContent;
  };
  audio.addEventListener("timeupdate", show);
  audio.addEventListener("seeked", show);
  let frame = null;
  const tick = () => { show(); if (!audio.paused) frame = requestAnimationFrame(tick); };
  audio.addEventListener("play", () => { cancelAnimationFrame(frame); tick(); });
  return h("section", { class: "lipsync" }, h("h3", {}, `${cues.length} mouth cues`), mouth, strip);
}

export { artifactUrl };
