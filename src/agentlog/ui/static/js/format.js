// Times (browser zone, UTC on hover) and humanized durations.

import { h } from "./dom.js";

// RFC 3339 with microseconds -> milliseconds since the epoch, keeping the fraction.
export function tsMs(text) {
  if (!text) return null;
  const m = /^(.*?)(\.\d+)?(Z|[+-]\d\d:\d\d)$/.exec(text);
  if (!m) {
    const v = Date.parse(text);
    return Number.isNaN(v) ? null : v;
  }
  const base = Date.parse(m[1] + m[3]);
  if (Number.isNaN(base)) return null;
  return base + (m[2] ? Number(m[2]) * 1000 : 0);
}

const local = new Intl.DateTimeFormat(undefined, {
  month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit",
});
const localYear = new Intl.DateTimeFormat(undefined, {
  year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
});
const localTime = new Intl.DateTimeFormat(undefined, {
  hour: "2-digit", minute: "2-digit", second: "2-digit",
});

export function utc(ms) {
  return new Date(ms).toISOString().replace("T", " ").replace("Z", " UTC");
}

export function timeEl(text, { short = false } = {}) {
  const ms = tsMs(text);
  if (ms === null) return h("span", { class: "muted" }, "—");
  const date = new Date(ms);
  const thisYear = date.getFullYear() === new Date().getFullYear();
  const shown = (short ? localTime : thisYear ? local : localYear).format(date);
  return h("time", { datetime: text, title: utc(ms) }, shown);
}

export function duration(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return "—";
  if (ms < 0) ms = 0;
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(2) : s.toFixed(1)} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min ${Math.round(s - min * 60)} s`;
  const hours = Math.floor(min / 60);
  if (hours < 48) return `${hours} h ${min - hours * 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

export function number(n) {
  if (n === null || n === undefined) return "—";
  return new Intl.NumberFormat().format(n);
}

export function money(usd) {
  if (usd === null || usd === undefined) return "—";
  return usd < 0.01 ? `$${usd.toFixed(4)}` : `$${usd.toFixed(2)}`;
}

// One line of a value, for a label or a table cell.
export function oneLine(value, max = 120) {
  let text;
  if (typeof value === "string") text = value;
  else if (value === undefined) text = "";
  else {
    try { text = JSON.stringify(value); } catch { text = String(value); }
  }
  text = (text || "").replace(/\s+/g, " ").trim();
  return text.length > max ? text.slice(0, max - 1) + "…" : text;
}

// The text of a chat message in any of the recorded formats.
export function messageText(blob) {
  if (blob === null || blob === undefined) return "";
  if (typeof blob === "string") return blob;
  const content = blob.content ?? blob.text ?? blob.parts;
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content.map((part) => {
      if (typeof part === "string") return part;
      if (part && typeof part.text === "string") return part.text;
      if (part && part.type === "tool_use") return `[tool call ${part.name ?? ""}]`;
      if (part && part.type === "tool_result") return `[tool result] ${oneLine(part.content, 400)}`;
      return oneLine(part, 400);
    }).join("\n");
  }
  return oneLine(blob, 400);
}
