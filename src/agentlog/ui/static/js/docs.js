// /docs: the API reference rendered from /openapi.json with this origin's files only.

import { fill, h } from "./dom.js";
import { jsonTree } from "./json.js";

const main = document.getElementById("main");

function resolve(spec, schema) {
  let s = schema;
  for (let i = 0; s && s.$ref && i < 20; i++) {
    s = s.$ref.replace(/^#\//, "").split("/").reduce((o, k) => (o ? o[k] : undefined), spec);
  }
  return s || {};
}

function typeOf(spec, schema) {
  const s = resolve(spec, schema);
  if (schema && schema.$ref) return schema.$ref.split("/").pop();
  if (s.anyOf) return s.anyOf.map((x) => typeOf(spec, x)).join(" | ");
  if (s.type === "array") return `${typeOf(spec, s.items || {})}[]`;
  return s.type || "any";
}

function operation(spec, path, method, op) {
  const params = (op.parameters || []).map((p) => h("tr", null,
    h("td", null, h("code", null, p.name)), h("td", null, p.in), h("td", null, typeOf(spec, p.schema || {})),
    h("td", null, p.required ? "required" : ""), h("td", { class: "wrap" }, p.description || (p.schema && p.schema.description) || "")));
  const body = op.requestBody && op.requestBody.content && op.requestBody.content["application/json"];
  const ok = Object.entries(op.responses || {}).find(([code]) => code.startsWith("2"));
  const okSchema = ok && ok[1].content && ok[1].content["application/json"];
  return h("details", { class: "op", id: op.operationId },
    h("summary", null, h("span", { class: `method m-${method}` }, method.toUpperCase()), " ", h("code", null, path), " ",
      h("span", { class: "muted" }, op.summary || "")),
    op.description ? h("p", { class: "prose" }, op.description) : null,
    params.length ? h("table", { class: "grid small" }, h("thead", null, h("tr", null,
      ["Parameter", "In", "Type", "", "Description"].map((t) => h("th", { scope: "col" }, t)))), h("tbody", null, params)) : null,
    body ? h("div", null, h("h3", null, "Request body"), jsonTree(resolve(spec, body.schema), "Request body schema")) : null,
    okSchema ? h("div", null, h("h3", null, `Response ${ok[0]}: ${typeOf(spec, okSchema.schema || {})}`),
      jsonTree(resolve(spec, okSchema.schema), "Response schema")) : null);
}

async function main_() {
  let spec;
  try {
    const response = await fetch("/openapi.json", { credentials: "same-origin" });
    spec = await response.json();
  } catch (error) {
    fill(main, h("p", { class: "error" }, `Could not load /openapi.json: ${error.message}`));
    return;
  }
  const groups = new Map();
  for (const [path, methods] of Object.entries(spec.paths || {})) {
    for (const [method, op] of Object.entries(methods)) {
      const tag = (op.tags && op.tags[0]) || "other";
      if (!groups.has(tag)) groups.set(tag, []);
      groups.get(tag).push(operation(spec, path, method, op));
    }
  }
  fill(main, h("h1", null, `${spec.info.title} ${spec.info.version}`),
    h("p", { class: "prose" }, spec.info.description || ""),
    ...[...groups.entries()].map(([tag, ops]) => h("section", null, h("h2", null, tag), ops)),
    h("h2", null, "Schemas"),
    jsonTree((spec.components && spec.components.schemas) || {}, "Schemas"));
}

main_();
