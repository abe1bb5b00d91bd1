// Collapsible JSON: objects and arrays as <details>, their children built when first opened.

import { h } from "./dom.js";

const OPEN_DEPTH = 2;
const MAX_CHILDREN = 500;

function scalar(value) {
  if (value === null) return h("span", { class: "j-null" }, "null");
  switch (typeof value) {
    case "string": return h("span", { class: "j-str" }, `"${value}"`);
    case "number": return h("span", { class: "j-num" }, String(value));
    case "boolean": return h("span", { class: "j-bool" }, String(value));
    default: return h("span", null, String(value));
  }
}

function summaryText(value) {
  if (Array.isArray(value)) return `[${value.length}]`;
  const n = Object.keys(value).length;
  return `{${n} ${n === 1 ? "key" : "keys"}}`;
}

function node(key, value, depth) {
  const label = key === null ? null : h("span", { class: "j-key" }, `${key}: `);
  if (value === null || typeof value !== "object") {
    return h("div", { class: "j-row" }, label, scalar(value));
  }
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  if (entries.length === 0) {
    return h("div", { class: "j-row" }, label, h("span", { class: "j-punct" }, Array.isArray(value) ? "[]" : "{}"));
  }
  const details = h("details", { class: "j-node" },
    h("summary", null, label, h("span", { class: "j-punct" }, summaryText(value))));
  let built = false;
  const build = () => {
    if (built) return;
    built = true;
    const body = h("div", { class: "j-children" });
    for (const [k, v] of entries.slice(0, MAX_CHILDREN)) body.append(node(k, v, depth + 1));
    if (entries.length > MAX_CHILDREN) {
      body.append(h("div", { class: "muted" }, `… ${entries.length - MAX_CHILDREN} more`));
    }
    details.append(body);
  };
  details.addEventListener("toggle", () => { if (details.open) build(); });
  if (depth < OPEN_DEPTH) {
    details.open = true;
    build();
  }
  return details;
}

export function jsonTree(value, label) {
  return h("div", { class: "json", role: "group", "aria-label": label || "JSON" }, node(null, value, 0));
}
