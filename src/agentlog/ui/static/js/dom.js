// Building DOM nodes. Every string becomes a text node: recorded data is never parsed as HTML.

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [key, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") el.className = value;
      else if (key === "text") el.textContent = String(value);
      else if (key.startsWith("on") && typeof value === "function") {
        el.addEventListener(key.slice(2), value);
      } else if (key === "dataset") Object.assign(el.dataset, value);
      else el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

const SVG = "http://www.w3.org/2000/svg";

export function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value !== undefined && value !== null) el.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

// A link to a place inside the UI (the route lives in the fragment).
export function link(route, text, attrs = {}) {
  return h("a", { href: "#" + route, ...attrs }, text);
}

export function copyButton(value, label = "Copy") {
  const button = h("button", {
    type: "button", class: "copy", title: "Copy to the clipboard",
    "aria-label": `${label}: ${value}`,
  }, "Copy");
  button.addEventListener("click", async (event) => {
    event.stopPropagation();
    try {
      await navigator.clipboard.writeText(value);
      button.textContent = "Copied";
    } catch {
      // Without clipboard access (plain http on another host), select the text instead.
      const range = document.createRange();
      range.selectNodeContents(button.previousElementSibling || button);
      getSelection().removeAllRanges();
      getSelection().addRange(range);
      button.textContent = "Selected";
    }
    setTimeout(() => { button.textContent = "Copy"; }, 1200);
  });
  return button;
}

export function idWithCopy(value, route) {
  return h("span", { class: "idcopy" },
    route ? link(route, value, { class: "mono" }) : h("code", null, value), copyButton(value, "Copy id"));
}

export function statusBadge(status) {
  return h("span", { class: `badge status-${/^[a-z]+$/.test(status) ? status : "other"}` }, status);
}

export function field(label, value) {
  return h("div", { class: "fact" }, h("dt", null, label), h("dd", null, value));
}

// Replaces the children of el (null and false children are skipped, arrays flattened).
export function fill(el, ...children) {
  clear(el);
  return append(el, children);
}
