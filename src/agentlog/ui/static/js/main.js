// The single-page UI: routes in the URL fragment (#/sessions?..., #/session/ID?item=...).

import { clear } from "./dom.js";
import { parseRoute } from "./nav.js";
import { sessionsPage } from "./sessions.js";
import { sessionPage } from "./session.js";
import { eventsPage } from "./events.js";
import { countsPage } from "./counts.js";
import { markersPage } from "./markers.js";
import { livePage } from "./live.js";

const PAGES = {
  sessions: sessionsPage, session: sessionPage, events: eventsPage,
  counts: countsPage, markers: markersPage, live: livePage,
};

const main = document.getElementById("main");
let current = null; // { key, page, stop }

function highlightNav(name) {
  for (const a of document.querySelectorAll("nav.top a[data-page]")) {
    if (a.dataset.page === (name === "session" ? "sessions" : name)) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
}

function render() {
  const route = parseRoute();
  const page = PAGES[route.name] || sessionsPage;
  highlightNav(route.name);
  // The same page with other parameters updates itself (keeps scroll, selection, paging).
  const key = `${route.name}/${route.arg || ""}`;
  if (current && current.key === key && current.page.update) {
    current.page.update(route);
    return;
  }
  if (current && current.page.stop) current.page.stop();
  clear(main);
  const instance = page(main, route);
  current = { key, page: instance || {} };
  main.focus({ preventScroll: true });
}

window.addEventListener("hashchange", render);
window.addEventListener("unhandledrejection", (event) => {
  if (event.reason && event.reason.name === "AbortError") event.preventDefault();
});
render();

