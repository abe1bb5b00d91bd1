// The detail pane: everything recorded about one timeline item, as text.

import { api } from "./api.js";
import { fill, field, h, idWithCopy, link, statusBadge } from "./dom.js";
import { duration, messageText, money, number, oneLine, timeEl } from "./format.js";
import { jsonTree } from "./json.js";

function section(title, ...body) {
  return h("section", { class: "d-section" }, h("h3", null, title), ...body);
}

function jsonSection(title, value) {
  if (value === undefined) return null;
  return section(title, jsonTree(value, title));
}

function bubble(role, content, extra) {
  const text = typeof content === "string" ? content : messageText(content);
  return h("div", { class: `bubble role-${/^[a-z]+$/.test(role) ? role : "other"}` },
    h("div", { class: "who" }, role || "message"),
    h("div", { class: "said" }, text || (content ? oneLine(content, 2000) : "")),
    extra || null);
}

function toolCallList(calls) {
  if (!Array.isArray(calls) || !calls.length) return null;
  return section("Tool calls requested", h("ul", { class: "tool-calls" }, calls.map((c) => h("li", null,
    h("code", null, String(c.name ?? c.function?.name ?? "tool")),
    c.id ? h("span", { class: "muted" }, ` ${c.id}`) : null,
    jsonTree(c.arguments ?? c.function?.arguments ?? c.input ?? c, "Arguments")))));
}

function transcript(messages, response) {
  const out = [];
  if (Array.isArray(messages)) {
    for (const m of messages) {
      if (m && typeof m === "object") out.push(bubble(String(m.role || "message"), m));
      else out.push(bubble("user", String(m)));
    }
  } else if (messages !== undefined && messages !== null) {
    out.push(bubble("user", typeof messages === "string" ? messages : oneLine(messages, 4000)));
  }
  if (response !== undefined && response !== null) {
    const text = typeof response === "string" ? response : messageText(response) || oneLine(response, 4000);
    out.push(bubble("assistant", text));
  }
  return out.length ? section("Conversation", h("div", { class: "transcript" }, out)) : null;
}

function usageTable(usage, d) {
  const rows = [];
  if (usage && typeof usage === "object") {
    for (const [k, v] of Object.entries(usage)) {
      if (v !== null && v !== undefined) rows.push(field(k.replace(/_/g, " "), typeof v === "number" ? number(v) : oneLine(v)));
    }
  }
  if (typeof d.time_to_first_token_ms === "number") rows.push(field("time to first token", duration(d.time_to_first_token_ms)));
  if (typeof d.cost_usd === "number") rows.push(field("cost", money(d.cost_usd)));
  return rows.length ? section("Usage", h("dl", { class: "facts small" }, rows)) : null;
}

function llmCall(d) {
  const model = d.model && d.request_model && d.model !== d.request_model
    ? `${d.request_model} → ${d.model}` : d.model || d.request_model;
  return [
    section("Model", h("dl", { class: "facts small" },
      field("provider", d.provider || "—"), field("model", model || "—"),
      d.stream !== undefined ? field("stream", String(Boolean(d.stream))) : null)),
    usageTable(d.usage, d),
    transcript(d.messages, d.response),
    toolCallList(d.tool_calls),
    d.params ? jsonSection("Parameters", d.params) : null,
  ];
}

function decision(d) {
  return [
    section("Decision", h("dl", { class: "facts small" },
      field("choice", oneLine(d.choice, 400)),
      d.confidence !== undefined && d.confidence !== null ? field("confidence", String(d.confidence)) : null)),
    Array.isArray(d.options) ? section("Options", h("ul", { class: "options" }, d.options.map((o) =>
      h("li", { class: JSON.stringify(o) === JSON.stringify(d.choice) ? "chosen" : null }, oneLine(o, 400))))) : null,
    d.reasoning ? section("Reasoning", h("p", { class: "prose" }, String(d.reasoning))) : null,
  ];
}

function errorPart(error) {
  if (!error) return null;
  return h("section", { class: "d-section error-box" },
    h("h3", null, "Error"),
    h("p", { class: "error-line" }, h("strong", null, String(error.type)), ": ", String(error.message)),
    error.stacktrace ? h("details", { class: "stack" }, h("summary", null, "Stack trace"),
      h("pre", null, String(error.stacktrace))) : null);
}

function dataParts(item) {
  const d = item.data || {};
  switch (item.type) {
    case "tool_call": return [jsonSection("Input", d.input), jsonSection("Output", d.output)];
    case "llm_call": return llmCall(d);
    case "decision": return decision(d);
    case "text": return [section("Text", h("p", { class: "prose" }, String(d.text ?? "")))];
    default: return [Object.keys(d).length ? jsonSection("Data", d) : null];
  }
}

function contextPart(item, onPick) {
  const box = h("div", { class: "context" });
  const button = h("button", { type: "button", class: "secondary" }, "What happened around this");
  button.addEventListener("click", async () => {
    button.disabled = true;
    fill(box, h("p", { class: "muted" }, "Loading…"));
    try {
      const ctx = await api.context(item.id);
      const entry = (it, here) => h("li", { class: here ? "here" : null },
        h("button", { type: "button", class: "link", onclick: () => onPick(it.id) },
          h("span", { class: "type" }, it.kind === "message" ? it.role : it.type), " ",
          oneLine(it.kind === "message" ? messageText(it.blob) : it.name || (it.error && it.error.message) || "", 80)),
        " ", timeEl(it.ts, { short: true }));
      fill(box, h("ol", { class: "context-list" },
        ctx.before.map((it) => entry(it, false)), entry(ctx.target, true), ctx.after.map((it) => entry(it, false))));
    } catch (error) {
      fill(box, h("p", { class: "error" }, error.message));
    }
    button.disabled = false;
  });
  return section("Context", button, box);
}

export function detail(item, { sessionId, onPick }) {
  const isEvent = item.kind === "event";
  const title = isEvent ? `${item.type}${item.name ? ": " + item.name : ""}` : `${item.role} message`;
  const ids = h("dl", { class: "facts small" },
    field("id", idWithCopy(item.id)),
    isEvent && item.parent_id ? field("parent", idWithCopy(item.parent_id)) : null,
    field("session", idWithCopy(sessionId || item.session_id)),
    isEvent && item.trace_id ? field("trace", idWithCopy(item.trace_id)) : null,
    isEvent && item.span_id ? field("span", idWithCopy(item.span_id)) : null);
  const when = h("dl", { class: "facts small" },
    field("at", timeEl(item.ts)),
    isEvent && item.end_ts ? field("ended", timeEl(item.end_ts)) : null,
    isEvent && item.duration_ms !== null && item.duration_ms !== undefined ? field("duration", duration(item.duration_ms)) : null,
    isEvent ? field("status", statusBadge(item.status)) : null,
    isEvent && item.partial ? field("partial", "yes: the stream or generator was not read to its end") : null);
  const body = isEvent
    ? [errorPart(item.error), ...dataParts(item)]
    : [section("Message", h("div", { class: "transcript" }, bubble(item.role, item.blob))),
      jsonSection(`Raw (${item.format})`, item.blob)];
  return h("div", { class: "detail-body" },
    h("h2", null, title), when, ...body, contextPart(item, onPick), section("Ids", ids),
    item.session_id && sessionId && item.session_id !== sessionId
      ? link(`/session/${encodeURIComponent(item.session_id)}`, "Open its session") : null);
}
