// The collector's HTTP API, as the Client uses it. Same origin only.

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function query(params) {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params || {})) {
    if (value === undefined || value === null || value === "") continue;
    if (Array.isArray(value)) value.forEach((v) => q.append(key, v));
    else q.append(key, String(value));
  }
  const text = q.toString();
  return text ? "?" + text : "";
}

export async function get(path, params, { signal } = {}) {
  let response;
  try {
    response = await fetch("/v1" + path + query(params), {
      credentials: "same-origin", headers: { Accept: "application/json" }, signal,
    });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, "the server did not answer");
  }
  if (response.status === 401) {
    location.assign("/ui/login");
    throw new ApiError(401, "sign in first");
  }
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    const message = body && body.error ? body.error.message || body.error : response.statusText;
    throw new ApiError(response.status, typeof message === "string" ? message : "request failed");
  }
  return body;
}

export const api = {
  sessions: (p, o) => get("/explore/sessions", p, o),
  session: (id, o) => get(`/explore/sessions/${encodeURIComponent(id)}`, null, o),
  timeline: (id, cursor, limit, o) =>
    get("/query/iterate_events", { session_id: id, cursor, limit }, o),
  events: (p, o) => get("/explore/events", p, o),
  context: (id, o) => get(`/events/${encodeURIComponent(id)}/context`, { before: 5, after: 5 }, o),
  counts: (p, o) => get("/query/event_counts", p, o),
  markers: (p, o) => get("/query/events_between_markers", p, o),
};
