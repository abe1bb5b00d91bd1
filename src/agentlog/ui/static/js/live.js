// Live: the newest sessions and events, polled every second and a half.

import { api } from "./api.js";
import { fill, h, link, statusBadge } from "./dom.js";
import { duration, timeEl } from "./format.js";
import { eventsTable } from "./events.js";
import { poll } from "./nav.js";

export function livePage(root) {
  const sessions = h("ul", { class: "live-sessions" });
  const events = h("div", { class: "table-wrap" });
  const note = h("p", { class: "status-line", role: "status" }, "Following new sessions and events…");
  root.append(h("h1", null, "Live"), note, h("div", { class: "live" },
    h("section", { "aria-label": "New sessions" }, h("h2", null, "Sessions"), sessions),
    h("section", { "aria-label": "New events" }, h("h2", null, "Events"), events)));
  let seen = null;
  let seenEvents = null;
  let lastJson = "";

  async function tick() {
    const [s, e] = await Promise.all([api.sessions({ limit: 20 }), api.events({ limit: 40 })]);
    const json = JSON.stringify([s, e]);
    if (json === lastJson) return;
    lastJson = json;
    fill(sessions, ...s.items.map((x) => h("li", { class: seen && !seen.has(x.id) ? "new" : null, dataset: { id: x.id } },
      link(`/session/${encodeURIComponent(x.id)}`, x.name || x.id, { class: "session-link" }), " ",
      statusBadge(x.status), " ", h("span", { class: "muted" }, x.user || ""), " ", timeEl(x.started_at, { short: true }),
      " ", h("span", { class: "muted" }, duration(x.duration_ms)))));
    const table = eventsTable(e.items);
    if (seenEvents) for (const row of table.querySelectorAll("tbody tr")) if (!seenEvents.has(row.dataset.id)) row.classList.add("new");
    fill(events, table);
    seen = new Set(s.items.map((x) => x.id));
    seenEvents = new Set(e.items.map((x) => x.id));
    note.textContent = `Following new sessions and events · updated ${new Date().toLocaleTimeString()}`;
  }
  tick().catch(() => {});
  return { stop: poll(tick, 1500) };
}
