// The API client: bearer token from sessionStorage, JSON errors as ApiError, and the job event
// stream read with fetch() (EventSource cannot send an Authorization header, and the token must
// not travel in a query string).

const TOKEN_KEY = "kenv.token";
const BASE = "/api/v1";

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) || "";
}

export function setToken(value) {
  sessionStorage.setItem(TOKEN_KEY, value);
}

export function clearToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** An API error as the CLI would word it: one line, a hint, the HTTP status. */
export class ApiError extends Error {
  constructor(status, message, hint = null, exitCode = null) {
    super(message);
    this.status = status;
    this.hint = hint;
    this.exitCode = exitCode;
  }
}

function headers(extra = {}) {
  const result = { Accept: "application/json", ...extra };
  const value = token();
  if (value) result.Authorization = `Bearer ${value}`;
  return result;
}

async function errorFrom(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // Not JSON (a proxy's page, a crash): the status line is all there is.
  }
  const error = body && typeof body === "object" ? body.error : null;
  const message = error && error.message ? String(error.message) : `HTTP ${response.status} ${response.statusText}`;
  const failure = new ApiError(response.status, message, error ? error.hint ?? null : null, error ? error.exit_code : null);
  if (response.status === 401) window.dispatchEvent(new CustomEvent("kenv:unauthorized", { detail: failure }));
  return failure;
}

function unreachable(cause) {
  return new ApiError(0, `kenv serve does not answer (${cause.message || cause})`, "is `kenv serve` still running?");
}

/** method + path under /api/v1 (+ JSON body) → the parsed JSON; a non-2xx answer throws ApiError. */
export async function api(method, path, body) {
  const init = { method, headers: headers(), cache: "no-store" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(BASE + path, init);
  } catch (cause) {
    throw unreachable(cause);
  }
  if (!response.ok) throw await errorFrom(response);
  if (response.status === 204) return null;
  return response.json();
}

/** The OpenAPI document (no token needed): the create form reads its choices from it. */
export async function openapi() {
  const response = await fetch(`${BASE}/openapi.json`, { cache: "no-store" });
  if (!response.ok) throw await errorFrom(response);
  return response.json();
}

export async function health() {
  const response = await fetch(`${BASE}/health`, { cache: "no-store" });
  if (!response.ok) throw await errorFrom(response);
  return response.json();
}

/**
 * Read /jobs/{id}/events once: replays stored events after `after` (sent as Last-Event-ID), then
 * follows new ones until the server closes the stream. onEvent({seq, type, data, receivedMs}) is
 * called per event; receivedMs is the wall-clock time (ms, sub-ms precision) the bytes arrived.
 * Resolves when the stream ends; rejects with ApiError (404, 401, unreachable) or AbortError.
 */
export async function readEvents(jobId, { after = 0, signal, onEvent }) {
  const extra = { Accept: "text/event-stream" };
  if (after > 0) extra["Last-Event-ID"] = String(after);
  let response;
  try {
    response = await fetch(`${BASE}/jobs/${encodeURIComponent(jobId)}/events`, {
      headers: headers(extra),
      cache: "no-store",
      signal,
    });
  } catch (cause) {
    if (cause && cause.name === "AbortError") throw cause;
    throw unreachable(cause);
  }
  if (!response.ok) throw await errorFrom(response);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  const parser = new EventParser(onEvent);
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    parser.feed(value, performance.timeOrigin + performance.now());
  }
}

/** The text/event-stream format (html.spec.whatwg.org, "Server-sent events", parsing). */
export class EventParser {
  constructor(onEvent) {
    this.onEvent = onEvent;
    this.buffer = "";
    this.reset();
  }

  reset() {
    this.type = "";
    this.data = [];
    this.id = null;
  }

  feed(text, receivedMs) {
    this.buffer += text;
    for (;;) {
      const end = /\r\n|\r|\n/.exec(this.buffer);
      if (!end) return;
      // A CR that ends the chunk may be the first half of a CRLF: wait for the next chunk.
      if (end[0] === "\r" && end.index === this.buffer.length - 1) return;
      const line = this.buffer.slice(0, end.index);
      this.buffer = this.buffer.slice(end.index + end[0].length);
      this.line(line, receivedMs);
    }
  }

  line(line, receivedMs) {
    if (line === "") {
      this.dispatch(receivedMs);
      return;
    }
    if (line.startsWith(":")) return; // a comment: the keep-alive
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") this.type = value;
    else if (field === "data") this.data.push(value);
    else if (field === "id") this.id = value;
  }

  dispatch(receivedMs) {
    if (this.data.length === 0) {
      this.reset();
      return;
    }
    const raw = this.data.join("\n");
    const type = this.type || "message";
    const seq = this.id !== null ? Number(this.id) : NaN;
    this.reset();
    let data;
    try {
      data = JSON.parse(raw);
    } catch {
      data = { text: raw };
    }
    this.onEvent({ seq: Number.isFinite(seq) ? seq : Number(data.seq), type, data, receivedMs });
  }
}
