// Events across sessions, newest first, each linking to its place in its session.

import { api } from "./api.js";
import { fill, h, link, statusBadge } from "./dom.js";
import { duration, timeEl } from "./format.js";
import { control, errorBox, fillInputs, go, onSubmit, routeOf } from "./nav.js";
import { itemLabel } from "./session.js";

const stacks = new Map();

export function eventRow(e) {
  return h("tr", { dataset: { id: e.id }, class: e.status === "error" ? "is-error" : null },
    h("td", null, timeEl(e.ts)),
    h("td", null, h("span", { class: "type" }, e.type)),
    h("td", null, link(`/session/${encodeURIComponent(e.session_id || "")}?item=${encodeURIComponent(e.id)}`,
      itemLabel(e), { class: "event-link" })),
    h("td", null, statusBadge(e.status)),
    h("td", { class: "num" }, e.duration_ms === null || e.duration_ms === undefined ? "" : duration(e.duration_ms)),
    h("td", { class: "mono small" }, link(`/session/${encodeURIComponent(e.session_id || "")}`, (e.session_id || "").slice(-12), { title: e.session_id })));
}

export function eventsTable(items) {
  return h("table", { class: "grid events" },
    h("thead", null, h("tr", null, ["Time", "Type", "What", "Status", "Duration", "Session"].map((t) =>
      h("th", { scope: "col", class: t === "Duration" ? "num" : null }, t)))),
    h("tbody", null, items.length ? items.map(eventRow)
      : h("tr", null, h("td", { colspan: 6, class: "empty" }, "No events match."))));
}

export function eventsPage(root, route) {
  const inputs = {
    type: h("input", { name: "type", type: "search", placeholder: "tool_call, llm_call, …" }),
    name: h("input", { name: "name", type: "search", placeholder: "exact name" }),
    status: h("select", { name: "status" }, ["", "ok", "error"].map((s) => h("option", { value: s }, s || "any"))),
    since: h("input", { name: "since", type: "datetime-local" }),
    until: h("input", { name: "until", type: "datetime-local" }),
  };
  const form = h("form", { class: "filters", role: "search", "aria-label": "Filter events" },
    control("Type", inputs.type), control("Name", inputs.name), control("Status", inputs.status),
    control("From", inputs.since), control("To", inputs.until),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Filter"),
      h("button", { type: "button", class: "secondary", onclick: () => go("/events") }, "Clear")));
  const out = h("div", { class: "table-wrap" });
  const pager = h("nav", { class: "pager", "aria-label": "Pages" });
  root.append(h("h1", null, "Events"), form, out, pager);
  let controller = null;

  onSubmit(form, inputs, "events");

  async function load(params) {
    fillInputs(inputs, params);
    if (controller) controller.abort();
    controller = new AbortController();
    const types = (params.get("type") || "").split(",").map((t) => t.trim()).filter(Boolean);
    try {
      const page = await api.events({
        type: types, name: params.get("name"), status: params.get("status"),
        since: params.get("since"), until: params.get("until"), cursor: params.get("cursor"), limit: 50,
      }, { signal: controller.signal });
      fill(out, eventsTable(page.items));
      const sig = [...params.entries()].filter(([k]) => k !== "cursor").join("&");
      const stack = stacks.get(sig) || [];
      const base = Object.fromEntries([...params.entries()].filter(([k]) => k !== "cursor"));
      const prev = h("button", { type: "button", class: "secondary", disabled: !params.get("cursor") }, "← Newer");
      prev.addEventListener("click", () => go(routeOf("events", null, { ...base, cursor: stack.pop() || "" })));
      const next = h("button", { type: "button", class: "secondary", disabled: !page.has_more }, "Older →");
      next.addEventListener("click", () => {
        stack.push(params.get("cursor") || "");
        stacks.set(sig, stack);
        go(routeOf("events", null, { ...base, cursor: page.next_cursor }));
      });
      fill(pager, prev, h("span", { class: "muted" }, `Page ${stack.length + 1}`), next);
    } catch (error) {
      if (error.name !== "AbortError") fill(out, errorBox(error));
    }
  }

  load(route.params);
  return { update: (next) => load(next.params), stop: () => controller && controller.abort() };
}
