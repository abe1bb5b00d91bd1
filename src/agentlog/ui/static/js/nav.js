// Routes and small page helpers shared by the pages.

import { h } from "./dom.js";

export function parseRoute() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, search = ""] = raw.split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  return { name: parts[0] || "sessions", arg: parts[1] || null, params: new URLSearchParams(search) };
}

export function routeOf(name, arg, params) {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params || {})) {
    if (value === undefined || value === null || value === "" || value === false) continue;
    q.set(key, String(value));
  }
  const text = q.toString();
  return `/${name}${arg ? "/" + encodeURIComponent(arg) : ""}${text ? "?" + text : ""}`;
}

export function go(route) {
  const target = "#" + route;
  if (location.hash !== target) location.hash = target;
}

export function errorBox(error) {
  return h("p", { class: "error", role: "alert" }, `Could not load: ${error.message || error}`);
}

// Calls fn every `ms` while the tab is visible; returns a stop function.
export function poll(fn, ms = 1500) {
  let timer = null;
  let stopped = false;
  let busy = false;
  const tick = async () => {
    if (stopped) return;
    if (!document.hidden && !busy) {
      busy = true;
      try { await fn(); } catch (error) { if (error.name !== "AbortError") console.warn(error.message); }
      busy = false;
    }
    if (!stopped) timer = setTimeout(tick, ms);
  };
  timer = setTimeout(tick, ms);
  return () => { stopped = true; clearTimeout(timer); };
}

// A labelled form control.
export function control(label, input) {
  return h("label", { class: "control" }, h("span", null, label), input);
}

// datetime-local value (browser zone) <-> RFC 3339 UTC.
export function toRfc(local) {
  if (!local) return "";
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? "" : d.toISOString();
}

export function toLocalInput(rfc) {
  if (!rfc) return "";
  const d = new Date(rfc);
  if (Number.isNaN(d.getTime())) return "";
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

// A filter form's inputs -> route parameters (times as RFC 3339 UTC), and back.
export function formParams(inputs) {
  const out = {};
  for (const [k, el] of Object.entries(inputs)) {
    const v = el.type === "datetime-local" ? toRfc(el.value) : el.value.trim();
    if (v) out[k] = v;
  }
  return out;
}

export function fillInputs(inputs, params, defaults = {}) {
  for (const [k, el] of Object.entries(inputs)) {
    const v = params.get(k) || defaults[k] || "";
    el.value = el.type === "datetime-local" ? toLocalInput(v) : v;
  }
}

// Submitting the form goes to the page's route with the form's values.
export function onSubmit(form, inputs, page) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    go(routeOf(page, null, formParams(inputs)));
  });
}
