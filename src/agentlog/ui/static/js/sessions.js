// Sessions: filters, keyset paging, newest first; the first page follows new sessions live.

import { api } from "./api.js";
import { clear, fill, h, link, statusBadge } from "./dom.js";
import { duration, number, money, oneLine, timeEl } from "./format.js";
import { control, errorBox, fillInputs, go, onSubmit, poll, routeOf } from "./nav.js";

const FILTERS = ["name", "user", "status", "config", "since", "until", "sort", "order"];
const STATUSES = ["", "running", "success", "error", "cancelled", "timeout"];
const cursorStacks = new Map(); // filter signature -> cursors of the pages before this one

// "agent=bot1, version=2" or a JSON object -> the configs filter (values JSON when they parse).
export function parseConfigs(text) {
  text = (text || "").trim();
  if (!text) return null;
  if (text.startsWith("{")) return JSON.parse(text);
  const out = {};
  for (const pair of text.split(/[,\n]\s*(?=[^=,\n]+=)/)) {
    const at = pair.indexOf("=");
    if (at < 1) throw new Error(`expected key=value, got "${pair.trim()}"`);
    const key = pair.slice(0, at).trim();
    const raw = pair.slice(at + 1).trim();
    let value = raw;
    try { value = JSON.parse(raw); } catch { value = raw; }
    out[key] = value;
  }
  return out;
}

function configChips(configs) {
  if (!configs || typeof configs !== "object") return h("span", { class: "muted" }, "—");
  const keys = Object.keys(configs);
  const chips = keys.slice(0, 4).map((k) => h("span", { class: "chip", title: oneLine(configs[k], 400) },
    `${k}=${oneLine(configs[k], 24)}`));
  if (keys.length > 4) chips.push(h("span", { class: "muted" }, ` +${keys.length - 4}`));
  return h("span", { class: "chips" }, chips);
}

function tags(session) {
  const list = Array.isArray(session.tags) ? session.tags : [];
  return h("span", { class: "chips" }, list.map((t) => h("span", { class: "chip tag" }, String(t))));
}

function costOf(s) {
  const v = s.cost_usd ?? (s.rollup && s.rollup.cost_usd);
  return typeof v === "number" ? v : null;
}

function scoresOf(s) {
  const v = s.scores;
  if (!v) return null;
  const list = Array.isArray(v) ? v.map((x) => [x.name, x.value]) : Object.entries(v);
  return list.length ? list.map(([k, val]) => `${k}: ${oneLine(val, 20)}`).join(", ") : null;
}

const COLUMNS = [
  ["Name", (s) => h("div", { class: "name-cell" },
    link(`/session/${encodeURIComponent(s.id)}`, s.name || s.id, { class: "session-link" }),
    s.parent_session_id ? h("div", { class: "sub" }, "↳ child of ",
      link(`/session/${encodeURIComponent(s.parent_session_id)}`, s.parent_session_id.slice(-12),
        { class: "parent-link", title: s.parent_session_id })) : null)],
  ["User", (s) => s.user || h("span", { class: "muted" }, "—")],
  ["Status", (s) => statusBadge(s.status)],
  ["Started", (s) => timeEl(s.started_at)],
  ["Duration", (s) => duration(s.duration_ms), "num"],
  ["Turns", (s) => number(s.rollup.turns), "num"],
  ["Tools", (s) => number(s.rollup.tool_calls), "num"],
  ["LLM", (s) => number(s.llm_calls), "num"],
  ["Tokens", (s) => number(s.rollup.tokens_in + s.rollup.tokens_out), "num"],
  ["Errors", (s) => s.rollup.errors ? h("span", { class: "err-count" }, number(s.rollup.errors)) : "0", "num"],
  ["Configs", (s) => configChips(s.configs)],
];
const OPTIONAL = [
  ["Cost", (s) => money(costOf(s)), "num", (items) => items.some((s) => costOf(s) !== null)],
  ["Scores", (s) => scoresOf(s) || "—", "", (items) => items.some((s) => scoresOf(s))],
  ["Tags", tags, "", (items) => items.some((s) => Array.isArray(s.tags) && s.tags.length)],
];

function signature(params) {
  return FILTERS.map((k) => `${k}=${params.get(k) || ""}`).join("&");
}

export function sessionsPage(root, route) {
  const form = h("form", { class: "filters", role: "search", "aria-label": "Filter sessions" });
  const inputs = {
    name: h("input", { name: "name", type: "search", placeholder: "part of the name" }),
    user: h("input", { name: "user", type: "search", placeholder: "exact user" }),
    status: h("select", { name: "status" }, STATUSES.map((s) => h("option", { value: s }, s || "any"))),
    config: h("input", { name: "config", type: "search", placeholder: "key=value, …", class: "wide" }),
    since: h("input", { name: "since", type: "datetime-local" }),
    until: h("input", { name: "until", type: "datetime-local" }),
    sort: h("select", { name: "sort" }, h("option", { value: "start" }, "start time"),
      h("option", { value: "duration" }, "duration")),
    order: h("select", { name: "order" }, h("option", { value: "" }, "descending"),
      h("option", { value: "asc" }, "ascending")),
  };
  form.append(
    control("Name", inputs.name), control("User", inputs.user), control("Status", inputs.status),
    control("Configs", inputs.config), control("From", inputs.since), control("To", inputs.until),
    control("Sort by", inputs.sort), control("Order", inputs.order),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Filter"),
      h("button", { type: "button", class: "secondary", onclick: () => go("/sessions") }, "Clear")),
  );
  const status = h("p", { class: "status-line", role: "status", "aria-live": "polite" });
  const table = h("table", { class: "grid sessions" });
  const pager = h("nav", { class: "pager", "aria-label": "Pages" });
  root.append(h("h1", null, "Sessions"), form, status, h("div", { class: "table-wrap" }, table), pager);

  let state = { params: route.params, page: null, controller: null };
  let shown = new Set();
  let lastJson = "";
  let seq = 0; // only the latest load renders: a slow poll must not undo a page change

  onSubmit(form, inputs, "sessions");

  const fillForm = (params) => fillInputs(inputs, params, { sort: "start" });

  function request(params) {
    const configs = parseConfigs(params.get("config"));
    return {
      name: params.get("name"), user: params.get("user"), status: params.get("status"),
      configs: configs ? JSON.stringify(configs) : null, since: params.get("since"),
      until: params.get("until"), sort: params.get("sort") || "start",
      time_desc: params.get("order") === "asc" ? "false" : "true", cursor: params.get("cursor"),
      limit: 50,
    };
  }

  function renderRows(page, { live = false } = {}) {
    const items = page.items;
    const columns = [...COLUMNS, ...OPTIONAL.filter((c) => c[3](items))];
    clear(table);
    table.append(h("caption", { class: "visually-hidden" }, "Sessions"),
      h("thead", null, h("tr", null, columns.map(([title, , cls]) => h("th", { scope: "col", class: cls }, title)))));
    const body = h("tbody");
    for (const s of items) {
      const row = h("tr", { dataset: { id: s.id }, class: live && !shown.has(s.id) ? "new" : null });
      for (const [, cell, cls] of columns) row.append(h("td", { class: cls }, cell(s)));
      body.append(row);
    }
    if (!items.length) {
      body.append(h("tr", null, h("td", { colspan: columns.length, class: "empty" }, "No sessions match.")));
    }
    table.append(body);
    shown = new Set(items.map((s) => s.id));
  }

  function renderPager(params, page) {
    clear(pager);
    const sig = signature(params);
    const stack = cursorStacks.get(sig) || [];
    const cursor = params.get("cursor");
    const base = Object.fromEntries([...params.entries()].filter(([k]) => k !== "cursor"));
    const prev = h("button", { type: "button", class: "secondary", disabled: !cursor }, "← Newer");
    prev.addEventListener("click", () => {
      const before = stack.pop();
      go(routeOf("sessions", null, { ...base, cursor: before || "" }));
    });
    const next = h("button", { type: "button", class: "secondary", disabled: !page.has_more }, "Older →");
    next.addEventListener("click", () => {
      stack.push(cursor || "");
      cursorStacks.set(sig, stack);
      go(routeOf("sessions", null, { ...base, cursor: page.next_cursor }));
    });
    if (params.get("order") === "asc" || params.get("sort") === "duration") {
      prev.textContent = "← Previous";
      next.textContent = "Next →";
    }
    pager.append(prev, h("span", { class: "muted" }, `Page ${stack.length + 1}`), next);
  }

  async function load(params, { live = false } = {}) {
    if (state.controller && !live) state.controller.abort();
    const controller = new AbortController();
    if (!live) state.controller = controller;
    let req;
    try {
      req = request(params);
    } catch (error) {
      status.textContent = "";
      fill(table, h("tbody", null, h("tr", null, h("td", null, errorBox(new Error(`Configs: ${error.message}`))))));
      return;
    }
    if (!live) status.textContent = "Loading…";
    const mine = ++seq;
    try {
      const page = await api.sessions(req, { signal: controller.signal });
      if (mine !== seq) return;
      const json = JSON.stringify(page);
      if (live && json === lastJson) return;
      lastJson = json;
      state.page = page;
      renderRows(page, { live });
      renderPager(params, page);
      status.textContent = `${page.items.length} session${page.items.length === 1 ? "" : "s"}` +
        (page.has_more ? ", more on the next pages" : "") +
        (params.get("cursor") ? "" : " · updates live");
    } catch (error) {
      if (error.name === "AbortError") return;
      if (!live) {
        status.textContent = "";
        fill(table, h("tbody", null, h("tr", null, h("td", null, errorBox(error)))));
      }
    }
  }

  fillForm(route.params);
  load(route.params);
  // The first page follows new sessions and changed rollups without a reload.
  const stop = poll(() => (state.params.get("cursor") ? null : load(state.params, { live: true })), 1500);

  return {
    update(next) {
      state.params = next.params;
      fillForm(next.params);
      load(next.params);
    },
    stop,
  };
}
