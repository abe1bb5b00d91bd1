// One session: its header and its timeline as a waterfall, a detail pane for the selected item.

import { api } from "./api.js";
import { fill, field, h, idWithCopy, link, statusBadge } from "./dom.js";
import { detail } from "./detail.js";
import { duration, messageText, number, oneLine, timeEl, tsMs } from "./format.js";
import { jsonTree } from "./json.js";
import { errorBox, poll } from "./nav.js";

const FIRST_PAGE = 200; // the first screenful fast; later pages larger
const PAGE = 500;
const ROW = 26; // px: every row of the waterfall has this height (app.css)
const OVERSCAN = 20; // rows drawn beyond each edge of the view
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
  const scroller = h("div", { class: "scroller" }, list); // rows are drawn as it scrolls
  const more = h("button", { type: "button", class: "secondary load-more", hidden: true }, "Load more");
  const progress = h("p", { class: "status-line", role: "status", "aria-live": "polite" });
  const axis = h("div", { class: "axis", "aria-hidden": "true" });
  const pane = h("aside", { class: "detail", "aria-label": "Selected item" },
    h("p", { class: "muted" }, "Select an item of the timeline to see its details."));
  root.append(header, h("div", { class: "split" },
    h("section", { class: "timeline", "aria-label": "Timeline" }, axis, scroller, more, progress), pane));

  const st = {
    session: null, items: [], rows: new Map(), byId: new Map(), kids: new Map(),
    depth: new Map(), collapsed: new Set(), visible: [], order: 0, cursor: null, hasMore: true,
    drawn: { first: 0, last: 0, order: -1, scale: -1, redraw: false },
    total: null, selected: null, focusId: null, t0: 0, t1: 1, scale: 0, loading: null,
    controller: new AbortController(), wanted: route.params.get("item"), frame: 0,
  };

  // -- the waterfall: only the rows in view are in the document (fixed row height) -----------
  function place(row) {
    const span = st.t1 - st.t0 || 1;
    const left = Math.min(100, Math.max(0, ((row.start - st.t0) / span) * 100));
    row.bar.style.left = `${left}%`;
    if (row.end !== null) row.bar.style.width = `${Math.max(0.25, Math.min(100 - left, ((row.end - row.start) / span) * 100))}%`;
    row.scale = st.scale;
  }

  function setToggle(row, id) {
    const collapsed = st.collapsed.has(id);
    row.toggle.textContent = collapsed ? "▸" : "▾";
    row.toggle.setAttribute("aria-label", collapsed ? "Expand" : "Collapse");
    row.el.setAttribute("aria-expanded", String(!collapsed));
  }

  function addToggle(id) {
    const row = st.rows.get(id);
    if (!row || row.toggle) return;
    const toggle = h("button", { type: "button", class: "toggle", tabindex: -1 });
    toggle.addEventListener("click", (event) => { event.stopPropagation(); setCollapsed(id, !st.collapsed.has(id)); });
    row.spacer.replaceWith(toggle);
    row.toggle = toggle;
    setToggle(row, id);
  }

  function setCollapsed(id, collapsed) {
    if (!st.kids.has(id) || st.collapsed.has(id) === collapsed) return;
    if (collapsed) st.collapsed.add(id); else st.collapsed.delete(id);
    const row = st.rows.get(id);
    if (row && row.toggle) setToggle(row, id);
    computeVisible();
    render();
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

  function computeVisible() {
    // Appending items keeps the order of what is drawn; a filter by collapsed spans does not.
    const filtered = st.collapsed.size > 0;
    if (filtered || st.wasFiltered) st.order += 1;
    st.wasFiltered = filtered;
    st.visible = filtered ? st.items.filter((item) => !hiddenByAncestor(item)) : st.items;
  }

  function rowFor(item) {
    const depth = st.depth.get(item.id) || 0;
    const kind = kindOf(item);
    const start = tsMs(item.ts);
    const end = item.kind === "event" && item.end_ts ? tsMs(item.end_ts) : null;
    const isError = item.kind === "event" && (item.status === "error" || item.type === "error");
    const spacer = h("span", { class: "toggle-space" });
    const bar = h("span", { class: end !== null ? "bar" : "mark" });
    const indent = h("span", { class: "indent" });
    indent.style.width = `${depth * 14}px`;
    const el = h("li", {
      role: "treeitem", tabindex: -1, "aria-level": depth + 1, "aria-selected": "false",
      class: `row k-${item.kind}${isError ? " is-error" : ""}`, dataset: { id: item.id, type: kind },
      title: `${kind} at ${item.ts}`,
    },
    h("span", { class: "label" }, indent, spacer,
      h("span", { class: `type t-${/^[a-z_]+$/.test(kind) ? kind : "custom"}` }, kind),
      h("span", { class: "text" }, itemLabel(item)),
      item.partial ? h("span", { class: "chip warn" }, "partial") : null,
      item.status === "running" ? h("span", { class: "chip" }, "running") : null),
    h("span", { class: "dur" }, item.duration_ms !== null && item.duration_ms !== undefined ? duration(item.duration_ms) : ""),
    h("span", { class: "track" }, bar));
    const row = { el, bar, spacer, toggle: null, start, end, scale: -1 };
    st.rows.set(item.id, row);
    if (st.kids.has(item.id)) addToggle(item.id);
    return row;
  }

  function decorate(row, id) {
    if (row.scale !== st.scale) place(row);
    row.el.setAttribute("aria-selected", String(id === st.selected));
    row.el.tabIndex = id === (st.focusId || st.selected || st.visible[0].id) ? 0 : -1;
    return row.el;
  }

  function draw(from, to) {
    const out = [];
    for (let i = from; i < to; i++) {
      const item = st.visible[i];
      out.push(decorate(st.rows.get(item.id) || rowFor(item), item.id));
    }
    return out;
  }

  // Only rows entering or leaving the window change in the document: scrolling a few rows
  // restyles a few rows. A new order of rows (collapse, expand, a reload) redraws the window.
  function render() {
    st.frame = 0;
    const n = st.visible.length;
    const height = scroller.clientHeight || 600;
    const first = Math.max(0, Math.floor(scroller.scrollTop / ROW) - OVERSCAN);
    const last = Math.min(n, Math.ceil((scroller.scrollTop + height) / ROW) + OVERSCAN);
    const d = st.drawn;
    const focused = list.contains(document.activeElement) ? document.activeElement : null;
    if (d.order !== st.order || last <= d.first || first >= d.last || d.redraw) {
      list.replaceChildren(...draw(first, last));
    } else {
      for (let i = d.first; i < first; i++) list.firstElementChild.remove();
      for (let i = last; i < d.last; i++) list.lastElementChild.remove();
      if (first < d.first) list.prepend(...draw(first, d.first));
      if (last > d.last) list.append(...draw(d.last, last));
      if (d.scale !== st.scale) for (const el of list.children) place(st.rows.get(el.dataset.id));
    }
    st.drawn = { first, last, order: st.order, scale: st.scale, redraw: false };
    list.style.paddingTop = `${first * ROW}px`;
    list.style.paddingBottom = `${(n - last) * ROW}px`;
    if (focused && focused.isConnected) focused.focus({ preventScroll: true });
  }

  // Selection and the roving tab stop changed: redecorate the rows in the window.
  function restyle() {
    st.drawn.redraw = true;
    render();
  }

  function scheduleRender() {
    if (!st.frame) st.frame = requestAnimationFrame(render);
  }

  function rescale(added) {
    // The scale spans the session and every item seen; only new items are looked at.
    const s = st.session;
    let t0 = st.seen0 ?? tsMs(s.started_at);
    let t1 = Math.max(st.seen1 ?? 0, tsMs(s.ended_at) || 0, tsMs(s.last_activity_at) || 0);
    for (const item of added) {
      const a = tsMs(item.ts);
      const b = item.end_ts ? tsMs(item.end_ts) : a;
      if (t0 === null || a < t0) t0 = a;
      if (b > t1) t1 = b;
    }
    st.seen0 = t0;
    st.seen1 = t1;
    if (s.status === "running") t1 = Math.max(t1, Date.now());
    if (t0 === null) t0 = Date.now();
    if (t1 <= t0) t1 = t0 + 1;
    if (t0 !== st.t0 || t1 !== st.t1) st.scale += 1; // rows are placed again as they show
    st.t0 = t0;
    st.t1 = t1;
    fill(axis, h("span", null, "0"), h("span", null, duration((t1 - t0) / 2)), h("span", null, duration(t1 - t0)));
  }

  function appendItems(items) {
    const added = [];
    for (const item of items) {
      if (st.byId.has(item.id)) continue;
      added.push(item);
      st.byId.set(item.id, item);
      st.items.push(item);
      const parent = item.kind === "event" ? item.parent_id : null;
      if (parent && st.byId.has(parent)) {
        st.depth.set(item.id, (st.depth.get(parent) || 0) + 1);
        if (!st.kids.has(parent)) {
          st.kids.set(parent, 0);
          addToggle(parent);
        }
        st.kids.set(parent, st.kids.get(parent) + 1);
      }
    }
    rescale(added);
    computeVisible();
    render();
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
        const size = st.items.length ? PAGE : FIRST_PAGE;
        const page = await api.timeline(sessionId, st.cursor, size, { signal: st.controller.signal });
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
  function reveal(id) {
    // Expand collapsed ancestors, then scroll the row into the window and draw it.
    let parent = st.byId.get(id)?.parent_id;
    let changed = false;
    for (let guard = 0; parent && guard < 50; guard++) {
      if (st.collapsed.delete(parent)) changed = true;
      parent = st.byId.get(parent)?.parent_id;
    }
    if (changed) computeVisible();
    const at = st.visible.findIndex((item) => item.id === id);
    if (at < 0) return;
    const top = at * ROW;
    if (top < scroller.scrollTop || top + ROW > scroller.scrollTop + scroller.clientHeight) {
      scroller.scrollTop = Math.max(0, top - scroller.clientHeight / 2);
    }
    render();
  }

  function select(id, { focus = false, scroll = false } = {}) {
    const item = st.byId.get(id);
    if (!item) return;
    st.selected = id;
    st.focusId = id;
    if (scroll) reveal(id);
    restyle();
    const row = st.rows.get(id);
    if (focus && row && row.el.isConnected) row.el.focus({ preventScroll: true });
    history.replaceState(null, "", `#/session/${encodeURIComponent(sessionId)}?item=${encodeURIComponent(id)}`);
    fill(pane, detail(item, { sessionId, onPick: pick }));
  }

  async function pick(id) {
    // From "what happened around this" or a link: select it, paging until it is loaded.
    for (let i = 0; !st.byId.has(id) && st.hasMore && i < FIND_PAGES; i++) await loadPage();
    if (st.byId.has(id)) select(id, { focus: true, scroll: true });
  }

  list.addEventListener("click", (event) => {
    const el = event.target.closest("li.row");
    if (el) select(el.dataset.id, { focus: true });
  });

  list.addEventListener("keydown", (event) => {
    const el = event.target.closest("li.row");
    if (!el) return;
    const id = el.dataset.id;
    const at = st.visible.findIndex((item) => item.id === id);
    const move = (to) => {
      const target = st.visible[Math.max(0, Math.min(st.visible.length - 1, to))];
      if (!target) return;
      st.focusId = target.id;
      reveal(target.id);
      restyle();
      const row = st.rows.get(target.id);
      if (row) row.el.focus({ preventScroll: true });
    };
    const pageRows = Math.max(1, Math.floor(scroller.clientHeight / ROW) - 1);
    switch (event.key) {
      case "ArrowDown": move(at + 1); break;
      case "ArrowUp": move(at - 1); break;
      case "PageDown": move(at + pageRows); break;
      case "PageUp": move(at - pageRows); break;
      case "Home": move(0); break;
      case "End": move(st.visible.length - 1); break;
      case "ArrowRight": setCollapsed(id, false); break;
      case "ArrowLeft": setCollapsed(id, true); break;
      case "Enter": case " ": select(id, { focus: true }); break;
      default: return;
    }
    event.preventDefault();
  });

  more.addEventListener("click", () => loadPage());
  // The next page loads as the end of the list comes near.
  const nearEnd = () => scroller.scrollTop + scroller.clientHeight >= st.visible.length * ROW - 800;
  scroller.addEventListener("scroll", () => {
    scheduleRender();
    if (nearEnd() && st.hasMore && !st.loading) loadPage().then(() => { if (nearEnd()) loadPage(); });
  }, { passive: true });

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
    fill(header, 
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
    // The header and the first page of the timeline are asked for at once.
    const first = api.timeline(sessionId, null, FIRST_PAGE, { signal: st.controller.signal });
    first.catch(() => {});
    try {
      st.session = await api.session(sessionId, { signal: st.controller.signal });
    } catch (error) {
      if (error.name !== "AbortError") fill(header, h("h1", null, "Session"), errorBox(error));
      return;
    }
    st.total = st.session.items;
    renderHeader(st.session);
    st.loading = first.then((page) => {
      appendItems(page.events);
      st.cursor = page.next_cursor;
      st.hasMore = Boolean(page.next_cursor);
    }).finally(() => { st.loading = null; showProgress(); });
    await st.loading;
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
      st.items = []; st.byId.clear(); st.rows.clear(); st.kids.clear(); st.depth.clear();
      st.seen0 = st.seen1 = null;
      st.order += 1;
      appendItems(fresh);
      if (selected && st.byId.has(selected)) select(selected);
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
    stop() { stop(); st.controller.abort(); },
  };
}
