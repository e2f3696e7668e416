// Forms built from JSON schemas (a job kind's Options, a tool's arguments): one field per property,
// its kind from the schema's type, enum, bounds and description. File arguments get an upload and a
// choice among the server's media; nothing here knows a particular job or tool.

import { h, api, upload, mediaChoices, getCatalog } from "./api.js";

export const FILE_ARGS = new Set(["clip", "file", "files", "timeline", "audio", "script", "input", "music", "image",
  "images", "references", "paths", "text_file", "video", "source"]);
const OUTPUTS = new Set(["output", "cues"]);   // paths a tool writes: named by the page, not picked
const LONG_TEXT = new Set(["brief", "text", "request", "question", "prompt", "negative_prompt", "query"]);

function resolve(spec, root) {
  if (spec && spec.$ref) return resolve(root.$defs[spec.$ref.split("/").pop()], root);
  if (spec && spec.allOf && spec.allOf.length === 1) return { ...resolve(spec.allOf[0], root), ...spec, allOf: undefined };
  return spec || {};
}

// the non-null branch of "X or null", and whether null is allowed
function nullable(spec, root) {
  spec = resolve(spec, root);
  const options = spec.anyOf || spec.oneOf;
  if (!options) return [spec, false];
  const rest = options.filter((o) => o.type !== "null");
  return [rest.length === 1 ? { ...resolve(rest[0], root), description: spec.description, default: spec.default,
    title: spec.title } : spec, rest.length < options.length];
}

function label(name, spec, required, id) {
  const text = (spec.title || name.replace(/_/g, " ")) + (required ? " *" : "");
  return h("label", { for: id, title: spec.description || "" }, text);
}

function fileField(name, spec, many, id) {
  const box = h("div", { class: "file-field" });
  const input = h("input", { type: "file", id, name, ...(many ? { multiple: "" } : {}) });
  const suffixes = spec.suffixes || (spec.items && spec.items.suffixes);
  if (suffixes) input.accept = suffixes.join(",");
  const pick = h("select", { name: `${name}-pick`, "aria-label": `${name} from the server's media` },
    h("option", { value: "" }, "or pick a served file..."));
  mediaChoices().then((files) => files.filter((f) => !suffixes || suffixes.some((s) => f.name.toLowerCase().endsWith(s)))
    .forEach((f) => pick.append(h("option", { value: f.path }, f.name))));
  box.append(input, pick);
  box.value = async (onProgress) => {
    if (input.files.length) {
      const limit = (await getCatalog()).max_upload_mb;   // checked here before sending; the server checks again
      for (const file of input.files) {
        if (suffixes && !suffixes.some((s) => file.name.toLowerCase().endsWith(s))) {
          throw new Error(`${file.name} is not a ${suffixes.join(", ")} file: pick one of those for ${name}`);
        }
        if (limit && file.size > limit * 2 ** 20) {
          throw new Error(`${file.name} is ${Math.ceil(file.size / 2 ** 20)} MB; uploads are limited to ${limit} MB`);
        }
      }
      const names = [];
      for (const file of input.files) names.push(await upload(file, onProgress));
      return many ? names : names[0];
    }
    if (pick.value) return many ? [pick.value] : pick.value;
    return undefined;
  };
  return box;
}

function plainField(name, spec, root, choices, id) {
  const [inner] = nullable(spec, root);
  const initial = inner.default ?? spec.default;
  let el;
  if (choices) {   // the server's registry knows the values (characters, engines, emotions)
    el = h("select", { id, name }, h("option", { value: "" }, initial === undefined || initial === null ? "" :
      `(default: ${initial})`), ...choices.map((v) => h("option", { value: v }, v)));
    el.value_ = () => (el.value === "" ? undefined : el.value);
  } else if (inner.enum) {
    el = h("select", { id, name }, h("option", { value: "" }, initial === undefined || initial === null ? "" :
      `(default: ${initial})`), ...inner.enum.map((v) => h("option", { value: JSON.stringify(v) }, String(v))));
    el.value_ = () => (el.value ? JSON.parse(el.value) : undefined);
  } else if (inner.type === "boolean") {
    el = h("input", { id, name, type: "checkbox", ...(initial ? { checked: "" } : {}) });
    el.value_ = () => el.checked;
  } else if (inner.type === "integer" || inner.type === "number") {
    el = h("input", { id, name, type: "number", step: inner.type === "integer" ? "1" : "any",
      placeholder: initial ?? "" });
    for (const [key, attr] of [["minimum", "min"], ["maximum", "max"]]) if (inner[key] !== undefined) el.setAttribute(attr, inner[key]);
    el.value_ = () => (el.value === "" ? undefined : Number(el.value));
  } else if (inner.type === "array" && resolve(inner.items, root).enum) {   // a multiple choice: ticks
    el = h("fieldset", { id, class: "choices" }, resolve(inner.items, root).enum.map((v) =>
      h("label", {}, h("input", { type: "checkbox", name, value: v }), ` ${v}`)));
    el.value_ = () => {
      const picked = [...el.querySelectorAll("input:checked")].map((box) => box.value);
      return picked.length ? picked : undefined;
    };
  } else if (inner.type === "array" && resolve(inner.items, root).type === "string") {
    el = h("textarea", { id, name, rows: 2, placeholder: "one per line" });
    if (Array.isArray(initial)) el.value = initial.join("\n");
    el.value_ = () => { const lines = el.value.split("\n").map((s) => s.trim()).filter(Boolean); return lines.length ? lines : undefined; };
  } else if (inner.type === "array" || inner.type === "object" || inner.anyOf) {
    el = h("textarea", { id, name, rows: 2, placeholder: "JSON" });
    el.value_ = () => (el.value.trim() ? JSON.parse(el.value) : undefined);
  } else {
    const long = LONG_TEXT.has(name) || (inner.maxLength || 0) > 300;
    el = h(long ? "textarea" : "input", { id, name, ...(long ? { rows: 3 } : { type: "text" }),
      placeholder: initial ?? "" });
    if (inner.maxLength) el.maxLength = inner.maxLength;
    el.value_ = () => (el.value === "" ? undefined : el.value);
  }
  return el;
}

// schemaForm(schema, {omit, values, submit, id, choices}) -> a <form> whose .read(onProgress) gives the
// arguments; choices: {field: [values]} for fields whose values the server lists
export function schemaForm(schema, { omit = [], values = {}, submit = "Start", id, choices = {} } = {}) {
  const form = h("form", { class: "schema-form", ...(id ? { id } : {}) });
  const required = new Set(schema.required || []);
  const fields = [];
  const advanced = h("details", { class: "advanced" }, h("summary", {}, "More options"));
  for (const [name, raw] of Object.entries(schema.properties || {})) {
    if (omit.includes(name)) continue;
    const [spec] = nullable(raw, schema);
    const many = spec.type === "array";
    const isPath = spec.format === "path" || (spec.items && resolve(spec.items, schema).format === "path");
    const isFile = FILE_ARGS.has(name) || (isPath && !OUTPUTS.has(name));
    const fieldId = `${id || "form"}-${name}`;   // unique in the page: two forms may share a field's name
    const el = isFile ? fileField(name, spec, many, fieldId) : plainField(name, raw, schema, choices[name], fieldId);
    if (values[name] !== undefined && !isFile) {
      if (el.type === "checkbox") el.checked = !!values[name];
      else el.value = typeof values[name] === "string" ? values[name] : JSON.stringify(values[name]);
    }
    const row = h("div", { class: "field", "data-field": name }, label(name, spec, required.has(name), fieldId), el,
      spec.description ? h("small", {}, spec.description) : "");
    (required.has(name) || isFile || LONG_TEXT.has(name) ? form : advanced).append(row);
    fields.push([name, el, isFile]);
  }
  if (advanced.children.length > 1) form.append(advanced);
  form.append(h("button", { type: "submit" }, submit));
  form.read = async (onProgress) => {
    const out = { ...values };
    for (const [name, el, isFile] of fields) {
      const value = isFile ? await el.value(onProgress) : el.value_();
      if (value !== undefined) out[name] = value;
    }
    const missing = [...required].filter((n) => out[n] === undefined && !omit.includes(n));
    if (missing.length) throw new Error(`fill in: ${missing.join(", ")}`);
    return out;
  };
  return form;
}

export { api };
