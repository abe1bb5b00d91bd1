// One session: its header and its timeline as a waterfall, a detail pane for the selected item.

import { api } from "./api.js";
import { clear, field, h, idWithCopy, link, statusBadge } from "./dom.js";
import { detail } from "./detail.js";
import { duration, messageText, number, oneLine, timeEl, tsMs } from "./format.js";
import { jsonTree } from "./json.js";
import { errorBox, poll } from "./nav.js";

const PAGE = 500;
const FIND_PAGES = 40; // how far a link to one item may page to find it

export function itemLabel(item) {
  if (item.kind === "message") return oneLine(messageText(item.blob), 140) || `(${item.role} message)`;
  const d = item.data || {};
  let text = item.name || "";
  if (item.type === "llm_call") text = item.name || d.model || d.request_model || "llm call";
  if (item.type === "text" && typeof d.text === "string") text = d.text;
  if (item.type === "decision" && d.choice !== undefined) text = `${item.name || "decision"} → ${oneLine(d.choice, 60)}`;
  if (item.error) {
    const said = `${item.error.type}: ${item.error.message}`;
    text = text && text !== item.error.type ? `${text} · ${said}` : said;
  }
  return oneLine(text || item.type, 160);
}

function kindOf(item) {
  return item.kind === "message" ? item.role : item.type;
}

export function sessionPage(root, route) {
  const sessionId = route.arg;
  const header = h("header", { class: "session-head" });
  const list = h("ol", { class: "waterfall", role: "tree", "aria-label": "Timeline" });
  const more = h("button", { type: "button", class: "secondary load-more", hidden: true }, "Load more");
  const progress = h("p", { class: "status-line", role: "status", "aria-live": "polite" });
  const axis = h("div", { class: "axis", "aria-hidden": "true" });
  const pane = h("aside", { class: "detail", "aria-label": "Selected item" },
    h("p", { class: "muted" }, "Select an item of the timeline to see its details."));
  root.append(header, h("div", { class: "split" },
    h("section", { class: "timeline", "aria-label": "Timeline" }, axis, list, more, progress), pane));

  const st = {
    session: null, items: [], rows: new Map(), byId: new Map(), kids: new Map(),
    collapsed: new Set(), cursor: null, hasMore: true, total: null, selected: null,
    t0: 0, t1: 1, loading: null, controller: new AbortController(), wanted: route.params.get("item"),
  };

  // -- the waterfall -------------------------------------------------------------------------
  function place(row) {
    const span = st.t1 - st.t0 || 1;
    const left = Math.min(100, Math.max(0, ((row.start - st.t0) / span) * 100));
    row.bar.style.left = `${left}%`;
    if (row.end !== null) row.bar.style.width = `${Math.max(0.25, Math.min(100 - left, ((row.end - row.start) / span) * 100))}%`;
  }

  function depthOf(item) {
    let depth = 0;
    let parent = item.kind === "event" ? item.parent_id : null;
    while (parent && st.byId.has(parent) && depth < 50) {
      depth += 1;
      parent = st.byId.get(parent).parent_id;
    }
    return depth;
  }

  function addToggle(parentId) {
    const row = st.rows.get(parentId);
    if (!row || row.toggle) return;
    const toggle = h("button", { type: "button", class: "toggle", "aria-label": "Collapse", tabindex: -1 }, "▾");
    toggle.addEventListener("click", (event) => { event.stopPropagation(); setCollapsed(parentId, !st.collapsed.has(parentId)); });
    row.spacer.replaceWith(toggle);
    row.toggle = toggle;
    row.el.setAttribute("aria-expanded", "true");
  }

  function setCollapsed(id, collapsed) {
    const row = st.rows.get(id);
    if (!row || !row.toggle) return;
    if (collapsed) st.collapsed.add(id); else st.collapsed.delete(id);
    row.toggle.textContent = collapsed ? "▸" : "▾";
    row.toggle.setAttribute("aria-label", collapsed ? "Expand" : "Collapse");
    row.el.setAttribute("aria-expanded", String(!collapsed));
    applyCollapsed();
  }

  function hiddenByAncestor(item) {
    let parent = item.kind === "event" ? item.parent_id : null;
    let guard = 0;
    while (parent && guard++ < 50) {
      if (st.collapsed.has(parent)) return true;
      const p = st.byId.get(parent);
      parent = p ? p.parent_id : null;
    }
    return false;
  }

  function applyCollapsed() {
    for (const item of st.items) {
      const row = st.rows.get(item.id);
      row.el.hidden = st.collapsed.size ? hiddenByAncestor(item) : false;
    }
  }

  function rowFor(item) {
    const depth = depthOf(item);
    const kind = kindOf(item);
    const start = tsMs(item.ts);
    const end = item.kind === "event" && item.end_ts ? tsMs(item.end_ts) : null;
    const isError = item.kind === "event" && (item.status === "error" || item.type === "error");
    const spacer = h("span", { class: "toggle-space" });
    const bar = h("span", { class: end !== null ? "bar" : "mark" });
    const el = h("li", {
      role: "treeitem", tabindex: -1, "aria-level": depth + 1, "aria-selected": "false",
      class: `row k-${item.kind}${isError ? " is-error" : ""}`, dataset: { id: item.id, type: kind },
    },
    h("span", { class: "label" },
      h("span", { class: "indent", style: null }), spacer,
      h("span", { class: `type t-${/^[a-z_]+$/.test(kind) ? kind : "custom"}` }, kind),
      h("span", { class: "text" }, itemLabel(item)),
      item.partial ? h("span", { class: "chip warn" }, "partial") : null,
      item.status === "running" ? h("span", { class: "chip" }, "running") : null),
    h("span", { class: "dur" }, item.duration_ms !== null && item.duration_ms !== undefined ? duration(item.duration_ms) : ""),
    h("span", { class: "track" }, bar));
    el.firstChild.firstChild.style.width = `${depth * 14}px`;
    el.title = `${kind} at ${item.ts}`;
    el.addEventListener("click", () => select(item.id, { focus: true }));
    const row = { el, bar, spacer, toggle: null, start, end };
    place(row);
    return row;
  }

  function rescale() {
    const s = st.session;
    let t0 = tsMs(s.started_at);
    let t1 = Math.max(tsMs(s.ended_at) || 0, tsMs(s.last_activity_at) || 0);
    if (s.status === "running") t1 = Math.max(t1, Date.now());
    for (const item of st.items) {
      const a = tsMs(item.ts);
      const b = item.end_ts ? tsMs(item.end_ts) : a;
      if (t0 === null || a < t0) t0 = a;
      if (b > t1) t1 = b;
    }
    if (t0 === null) t0 = Date.now();
    if (t1 <= t0) t1 = t0 + 1;
    const changed = t0 !== st.t0 || t1 !== st.t1;
    st.t0 = t0;
    st.t1 = t1;
    if (changed) for (const row of st.rows.values()) place(row);
    clear(axis).append(h("span", null, "0"), h("span", null, duration((t1 - t0) / 2)), h("span", null, duration(t1 - t0)));
  }

  function appendItems(items) {
    const fragment = document.createDocumentFragment();
    for (const item of items) {
      if (st.byId.has(item.id)) continue;
      st.byId.set(item.id, item);
      st.items.push(item);
    }
    const before = st.rows.size;
    rescale();
    for (const item of st.items.slice(before)) {
      const row = rowFor(item);
      st.rows.set(item.id, row);
      fragment.append(row.el);
      if (item.kind === "event" && item.parent_id && st.byId.has(item.parent_id)) {
        st.kids.set(item.parent_id, (st.kids.get(item.parent_id) || 0) + 1);
      }
    }
    list.append(fragment);
    for (const id of st.kids.keys()) addToggle(id);
    if (st.collapsed.size) applyCollapsed();
    if (!list.querySelector('[tabindex="0"]') && list.firstElementChild) list.firstElementChild.tabIndex = 0;
  }

  function showProgress() {
    const total = st.total ?? st.items.length;
    progress.textContent = `${number(st.items.length)} of ${number(total)} items`;
    more.hidden = !st.hasMore;
    more.textContent = `Load more (${number(Math.max(0, total - st.items.length))} left)`;
  }

  async function loadPage() {
    if (!st.hasMore) return;
    if (st.loading) return st.loading;
    st.loading = (async () => {
      try {
        const page = await api.timeline(sessionId, st.cursor, PAGE, { signal: st.controller.signal });
        appendItems(page.events);
        st.cursor = page.next_cursor;
        st.hasMore = Boolean(page.next_cursor);
      } finally {
        st.loading = null;
      }
      showProgress();
    })();
    return st.loading;
  }

  // -- selection and keyboard ----------------------------------------------------------------
  function select(id, { focus = false, scroll = false } = {}) {
    const row = st.rows.get(id);
    const item = st.byId.get(id);
    if (!row || !item) return;
    if (st.selected) {
      const old = st.rows.get(st.selected);
      if (old) { old.el.setAttribute("aria-selected", "false"); old.el.tabIndex = -1; }
    }
    st.selected = id;
    row.el.setAttribute("aria-selected", "true");
    for (const r of list.querySelectorAll('[tabindex="0"]')) r.tabIndex = -1;
    row.el.tabIndex = 0;
    if (focus) row.el.focus({ preventScroll: !scroll });
    if (scroll) row.el.scrollIntoView({ block: "center" });
    history.replaceState(null, "", `#/session/${encodeURIComponent(sessionId)}?item=${encodeURIComponent(id)}`);
    clear(pane).append(detail(item, { sessionId, onPick: pick }));
  }

  async function pick(id) {
    // From "what happened around this": select it, paging forward until it is loaded.
    for (let i = 0; !st.rows.has(id) && st.hasMore && i < FIND_PAGES; i++) await loadPage();
    if (st.rows.has(id)) select(id, { focus: true, scroll: true });
  }

  function visibleRows() {
    return [...list.children].filter((el) => !el.hidden);
  }

  list.addEventListener("keydown", (event) => {
    const el = event.target.closest("li.row");
    if (!el) return;
    const id = el.dataset.id;
    const rows = visibleRows();
    const at = rows.indexOf(el);
    const move = (to) => {
      const target = rows[Math.max(0, Math.min(rows.length - 1, to))];
      if (target) { el.tabIndex = -1; target.tabIndex = 0; target.focus(); }
    };
    switch (event.key) {
      case "ArrowDown": move(at + 1); break;
      case "ArrowUp": move(at - 1); break;
      case "Home": move(0); break;
      case "End": move(rows.length - 1); break;
      case "ArrowRight": setCollapsed(id, false); break;
      case "ArrowLeft": setCollapsed(id, true); break;
      case "Enter": case " ": select(id, { focus: true }); break;
      default: return;
    }
    event.preventDefault();
  });

  more.addEventListener("click", () => loadPage());
  const observer = new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting)) loadPage();
  }, { rootMargin: "600px" });
  observer.observe(more);

  // -- the header ----------------------------------------------------------------------------
  function renderHeader(s) {
    const r = s.rollup;
    const facts = h("dl", { class: "facts" },
      field("Status", statusBadge(s.status)),
      field("User", s.user || "—"),
      field("Started", timeEl(s.started_at)),
      field("Ended", s.ended_at ? timeEl(s.ended_at) : h("span", { class: "muted" }, s.status === "running" ? "still running" : "—")),
      field("Duration", duration(s.duration_ms)),
      field("Turns", number(r.turns)),
      field("Tokens", `${number(r.tokens_in)} in · ${number(r.tokens_out)} out`),
      field("Tool calls", number(r.tool_calls)),
      field("LLM calls", number(s.llm_calls)),
      field("Errors", r.errors ? h("span", { class: "err-count" }, number(r.errors)) : "0"),
      typeof s.cost_usd === "number" ? field("Cost", `$${s.cost_usd.toFixed(4)}`) : null,
      Array.isArray(s.tags) && s.tags.length ? field("Tags", s.tags.join(", ")) : null,
      field("Id", idWithCopy(s.id)),
      s.parent_session_id ? field("Parent", link(`/session/${encodeURIComponent(s.parent_session_id)}`,
        s.parent_session_id, { class: "parent-link mono" })) : null);
    const children = h("div", { class: "children" });
    clear(header).append(
      h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, link("/sessions", "Sessions"), " / "),
      h("h1", null, s.name || s.id),
      s.summary ? h("p", { class: "summary" }, s.summary) : null,
      facts,
      s.configs ? h("details", { class: "configs" }, h("summary", null, "Configs"), jsonTree(s.configs, "Configs")) : null,
      children);
    if (s.children) {
      api.sessions({ parent: s.id, limit: 50, time_desc: "false" }, { signal: st.controller.signal }).then((page) => {
        children.append(h("h2", null, `Child sessions (${number(s.children)})`),
          h("ul", { class: "child-list" }, page.items.map((c) => h("li", null,
            link(`/session/${encodeURIComponent(c.id)}`, c.name || c.id, { class: "child-link" }), " ",
            statusBadge(c.status), " ", h("span", { class: "muted" }, duration(c.duration_ms))))));
      }).catch(() => {});
    }
  }

  // -- loading and following a running session -----------------------------------------------
  async function start() {
    try {
      st.session = await api.session(sessionId, { signal: st.controller.signal });
    } catch (error) {
      if (error.name !== "AbortError") clear(header).append(h("h1", null, "Session"), errorBox(error));
      return;
    }
    st.total = st.session.items;
    renderHeader(st.session);
    await loadPage();
    if (st.wanted) {
      await pick(st.wanted);
    }
  }

  async function refresh() {
    if (!st.session || (st.session.status !== "running" && st.liveDone)) return;
    const s = await api.session(sessionId, { signal: st.controller.signal });
    const changed = s.items !== st.total || s.status !== st.session.status ||
      s.rollup.updated_at !== st.session.rollup.updated_at;
    if (s.status !== "running") st.liveDone = true;
    if (!changed) return;
    st.session = s;
    st.total = s.items;
    renderHeader(s);
    // New items can land anywhere (a span is recorded when it ends, at its start time): read
    // what is loaded again and add what is new in its place.
    const keep = Math.max(st.items.length, PAGE);
    let cursor = null;
    const fresh = [];
    do {
      const page = await api.timeline(sessionId, cursor, 1000, { signal: st.controller.signal });
      fresh.push(...page.events);
      cursor = page.next_cursor;
    } while (cursor && fresh.length < keep);
    if (fresh.some((item) => !st.byId.has(item.id))) {
      const selected = st.selected;
      const scroll = list.parentElement.scrollTop;
      st.items = []; st.byId.clear(); st.rows.clear(); st.kids.clear();
      clear(list);
      appendItems(fresh);
      if (selected && st.rows.has(selected)) select(selected);
      list.parentElement.scrollTop = scroll;
    }
    st.cursor = cursor;
    st.hasMore = Boolean(cursor);
    showProgress();
  }

  start();
  const stop = poll(refresh, 1500);
  return {
    update(next) {
      const item = next.params.get("item");
      if (item && item !== st.selected) pick(item);
    },
    stop() { stop(); observer.disconnect(); st.controller.abort(); },
  };
}
