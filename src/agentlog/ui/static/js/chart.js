// Bar charts as SVG built node by node (values and labels are text, never markup).

import { h, svg } from "./dom.js";
import { number } from "./format.js";

export function barChart(bars, { label, height = 220 } = {}) {
  const width = 960;
  const pad = { top: 12, right: 8, bottom: 28, left: 48 };
  const max = Math.max(1, ...bars.map((b) => b.value));
  const inner = width - pad.left - pad.right;
  const step = bars.length ? inner / bars.length : inner;
  const barWidth = Math.max(1, step * 0.8);
  const scale = (v) => ((height - pad.top - pad.bottom) * v) / max;
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img", "aria-label": label || "Bar chart", preserveAspectRatio: "none" });
  chart.append(
    svg("line", { x1: pad.left, x2: width - pad.right, y1: height - pad.bottom, y2: height - pad.bottom, class: "axis-line" }),
    svg("text", { x: pad.left - 6, y: pad.top + 10, "text-anchor": "end", class: "tick" }, number(max)),
    svg("text", { x: pad.left - 6, y: height - pad.bottom, "text-anchor": "end", class: "tick" }, "0"));
  bars.forEach((b, i) => {
    const hgt = scale(b.value);
    const rect = svg("rect", {
      x: pad.left + i * step + (step - barWidth) / 2, y: height - pad.bottom - hgt,
      width: barWidth, height: Math.max(hgt, b.value ? 1 : 0), class: "bar-rect",
    }, svg("title", null, `${b.label}: ${number(b.value)}`));
    chart.append(rect);
  });
  const ticks = Math.min(6, bars.length);
  for (let t = 0; t < ticks; t++) {
    const i = Math.round((t * (bars.length - 1)) / Math.max(1, ticks - 1));
    chart.append(svg("text", { x: pad.left + i * step + step / 2, y: height - 8, "text-anchor": "middle", class: "tick" }, bars[i].short || bars[i].label));
  }
  const table = h("details", { class: "chart-data" }, h("summary", null, "Data as a table"),
    h("table", { class: "grid small" }, h("tbody", null, bars.map((b) => h("tr", null, h("td", null, b.label), h("td", { class: "num" }, number(b.value)))))));
  return h("figure", { class: "chart-wrap" }, chart, table);
}
