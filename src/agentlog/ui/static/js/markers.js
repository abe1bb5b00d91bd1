// events_between_markers: how many items of a type come between markers, as a histogram.

import { api } from "./api.js";
import { fill, field, h, link } from "./dom.js";
import { barChart } from "./chart.js";
import { number } from "./format.js";
import { control, errorBox, go, routeOf } from "./nav.js";

export function histogram(counts) {
  if (!counts.length) return [];
  const max = Math.max(...counts);
  const bins = Math.min(20, max + 1);
  const width = Math.ceil((max + 1) / bins);
  const out = Array.from({ length: bins }, (_, i) => ({
    label: width === 1 ? String(i * width) : `${i * width}–${i * width + width - 1}`, value: 0,
  }));
  for (const c of counts) out[Math.min(bins - 1, Math.floor(c / width))].value += 1;
  return out;
}

export function markersPage(root, route) {
  const inputs = {
    markers: h("input", { name: "markers", type: "search", value: "compaction", placeholder: "compaction, …" }),
    count: h("input", { name: "count", type: "search", value: "user", placeholder: "user" }),
    days: h("input", { name: "days", type: "number", min: "0.01", step: "any", value: "7" }),
  };
  const form = h("form", { class: "filters", "aria-label": "Markers" },
    control("Marker types", inputs.markers), control("Count type", inputs.count), control("Days back", inputs.days),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Measure")));
  const out = h("div");
  root.append(h("h1", null, "Markers"), form, out);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    go(routeOf("markers", null, Object.fromEntries(Object.entries(inputs).map(([k, el]) => [k, el.value.trim()]))));
  });

  async function load(params) {
    for (const [k, el] of Object.entries(inputs)) if (params.get(k)) el.value = params.get(k);
    const markers = inputs.markers.value.split(",").map((m) => m.trim()).filter(Boolean);
    fill(out, h("p", { class: "muted" }, "Measuring…"));
    try {
      const stats = await api.markers({ marker_types: markers.length ? markers : ["compaction"],
        count_type: inputs.count.value.trim() || "user", days: inputs.days.value || 7 });
      const fmt = (v) => (v === null || v === undefined ? "—" : number(Math.round(v * 100) / 100));
      const segs = stats.distribution;
      fill(out, 
        h("dl", { class: "facts" },
          field("Markers", number(stats.marker_count)), field("Counted", number(stats.counted_events)),
          field("Average", fmt(stats.avg_per_marker)), field("Median", fmt(stats.median_per_marker)),
          field("After the last marker", number(stats.trailing_events))),
        segs.length ? h("h2", null, "Distribution") : h("p", { class: "empty" }, "No markers in this time."),
        segs.length ? barChart(histogram(segs.map((s) => s.count)), { label: "Segments by count", height: 180 }) : null,
        segs.length ? h("details", null, h("summary", null, `Segments (${number(segs.length)})`),
          h("table", { class: "grid small" },
            h("thead", null, h("tr", null, ["#", "Session", "Marker", "Count"].map((t) => h("th", { scope: "col" }, t)))),
            h("tbody", null, segs.slice(0, 500).map((s) => h("tr", null,
              h("td", null, String(s.marker_index)),
              h("td", null, link(`/session/${encodeURIComponent(s.session_id)}${s.marker_id ? "?item=" + encodeURIComponent(s.marker_id) : ""}`, s.session_id.slice(-12), { title: s.session_id })),
              h("td", null, s.marker_type || ""), h("td", { class: "num" }, number(s.count))))))) : null);
    } catch (error) {
      fill(out, errorBox(error));
    }
  }
  load(route.params);
  return { update: (next) => load(next.params) };
}
