// event_counts as a bar chart over minute, hour or day buckets.

import { api } from "./api.js";
import { fill, h } from "./dom.js";
import { barChart } from "./chart.js";
import { number } from "./format.js";
import { control, errorBox, go, routeOf } from "./nav.js";

const short = {
  minute: new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" }),
  hour: new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", hour: "2-digit" }),
  day: new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" }),
};

export function countsPage(root, route) {
  const inputs = {
    days: h("input", { name: "days", type: "number", min: "0.01", step: "any", value: "7" }),
    bucket: h("select", { name: "bucket" }, ["hour", "minute", "day"].map((b) => h("option", { value: b }, b))),
    type: h("input", { name: "type", type: "search", placeholder: "any type or role" }),
    name: h("input", { name: "name", type: "search", placeholder: "any name" }),
  };
  const form = h("form", { class: "filters", "aria-label": "Counts" },
    control("Days back", inputs.days), control("Bucket", inputs.bucket), control("Type", inputs.type),
    control("Name", inputs.name), h("div", { class: "actions" }, h("button", { type: "submit" }, "Count")));
  const out = h("div", { class: "counts-out" });
  root.append(h("h1", null, "Counts"), form, out);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    go(routeOf("counts", null, Object.fromEntries(Object.entries(inputs).map(([k, el]) => [k, el.value.trim()]))));
  });

  async function load(params) {
    for (const [k, el] of Object.entries(inputs)) if (params.get(k)) el.value = params.get(k);
    const bucket = inputs.bucket.value;
    fill(out, h("p", { class: "muted" }, "Counting…"));
    try {
      const rows = await api.counts({ days: inputs.days.value || 7, bucket, type: inputs.type.value.trim(), name: inputs.name.value.trim() });
      const total = rows.reduce((a, r) => a + r.count, 0);
      const bars = rows.map((r) => {
        const d = new Date(r.bucket);
        return { label: d.toLocaleString(), short: short[bucket].format(d), value: r.count };
      });
      fill(out, h("p", { class: "status-line" }, `${number(total)} items in ${number(rows.length)} ${bucket}s with any`),
        bars.length ? barChart(bars, { label: `Items per ${bucket}` }) : h("p", { class: "empty" }, "Nothing recorded in this time."));
    } catch (error) {
      fill(out, errorBox(error));
    }
  }
  load(route.params);
  return { update: (next) => load(next.params) };
}
