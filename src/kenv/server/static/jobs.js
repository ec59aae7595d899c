// Jobs as they run: one card per job with its steps in order, fed by the job's event stream.
// What a card has shown is kept in sessionStorage, so after a reload the card is drawn again and
// the stream resumes after the last event seen (Last-Event-ID) instead of starting over.

import { ApiError, api, readEvents } from "./api.js";
import { byId, fill, h, seconds, when } from "./dom.js";

const STORE_KEY = "kenv.jobs";
const KEPT_JOBS = 12;
const KEPT_EVENTS = 400;
const TERMINAL = new Set(["succeeded", "failed", "interrupted"]);

function loadStore() {
  try {
    const value = JSON.parse(sessionStorage.getItem(STORE_KEY) || "{}");
    return value && typeof value === "object" ? value : {};
  } catch {
    return {};
  }
}

function saveStore(store) {
  const ids = Object.keys(store);
  // The newest jobs are kept; an old finished job can always be fetched again from the API.
  ids.sort((a, b) => (store[a].touched || 0) - (store[b].touched || 0));
  for (const id of ids.slice(0, Math.max(0, ids.length - KEPT_JOBS))) delete store[id];
  try {
    sessionStorage.setItem(STORE_KEY, JSON.stringify(store));
  } catch {
    // Storage full or disabled: the page still works, a reload just replays from the start.
  }
}

export function describeJob(job) {
  return `${job.kind} ${job.environment}`;
}

export class Jobs {
  /** onFinished(job) runs once per job reaching a terminal state while watched. */
  constructor({ onFinished }) {
    this.onFinished = onFinished;
    this.cards = new Map(); // id → {element, steps: Map, list, state, seq, abort}
    this.store = loadStore();
  }

  /** Show `job` and follow it until it ends (or just draw it when it has ended). */
  watch(job) {
    let card = this.cards.get(job.id);
    if (card) {
      if (!card.finished) this.setState(card, job);
      // A stream that ended on a refused token (logged out, then in again) is taken up again.
      if (!card.finished && !card.following) this.follow(card);
      card.element.scrollIntoView({ block: "nearest" });
      return card;
    }
    card = this.createCard(job);
    const stored = this.store[job.id];
    if (stored && Array.isArray(stored.events)) {
      for (const event of stored.events) this.apply(card, event, false);
    }
    this.setState(card, job);
    this.follow(card);
    return card;
  }

  /** The jobs this tab showed before a reload (finished ones too: their cards come back). */
  rememberedIds() {
    return Object.keys(this.store);
  }

  createCard(job) {
    const list = h("ol", { class: "steps", "data-testid": "job-steps" });
    const title = h("span", { class: "job-title" }, describeJob(job));
    const state = h("span", { class: "badge", "data-testid": "job-state" });
    const close = h("button", { type: "button", class: "link", "aria-label": `Close ${describeJob(job)}` }, "Close");
    const outcome = h("div", { class: "job-outcome", "data-testid": "job-outcome" });
    const element = h(
      "article",
      { class: "job", "data-testid": "job", "data-job-id": job.id, "data-kind": job.kind, "data-environment": job.environment },
      h("header", {}, title, " ", state, h("span", { class: "job-time" }, when(job.created_at)), close),
      list,
      outcome,
    );
    const card = {
      id: job.id, job, element, list, stateBadge: state, outcome, steps: new Map(), seq: 0, abort: null, finished: false, following: false,
    };
    close.addEventListener("click", () => this.close(card));
    byId("job-cards").prepend(element);
    this.cards.set(job.id, card);
    return card;
  }

  /** Logging out: stop every stream, drop every card and what this tab remembered. */
  clear() {
    for (const card of [...this.cards.values()]) this.close(card);
    this.store = {};
    sessionStorage.removeItem(STORE_KEY);
  }

  close(card) {
    if (card.abort) card.abort.abort();
    card.element.remove();
    this.cards.delete(card.id);
    delete this.store[card.id];
    saveStore(this.store);
  }

  /** Follow the stream; a dropped connection is resumed after the last event seen. */
  async follow(card) {
    card.following = true;
    try {
      await this.followLoop(card);
    } finally {
      card.following = false;
    }
  }

  async followLoop(card) {
    let failures = 0;
    while (!card.finished && this.cards.has(card.id)) {
      card.abort = new AbortController();
      try {
        await readEvents(card.id, {
          after: card.seq,
          signal: card.abort.signal,
          onEvent: (event) => this.apply(card, event, true),
        });
        failures = 0;
      } catch (error) {
        if (error && error.name === "AbortError") return;
        if (error instanceof ApiError && (error.status === 404 || error.status === 401)) {
          this.showError(card, error);
          return;
        }
        failures += 1;
      }
      if (card.finished) return;
      // The stream ended without a terminal state: the server restarted or the network dropped.
      await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 250 * 2 ** failures)));
      if (failures >= 3) await this.refresh(card);
    }
  }

  async refresh(card) {
    try {
      const job = await api("GET", `/jobs/${encodeURIComponent(card.id)}`);
      this.setState(card, job);
      if (TERMINAL.has(job.state)) this.finish(card, job);
    } catch (error) {
      this.showError(card, error);
    }
  }

  apply(card, event, live) {
    if (Number.isFinite(event.seq) && event.seq <= card.seq) return; // replayed twice
    if (Number.isFinite(event.seq)) card.seq = event.seq;
    // Events flow again: a "does not answer" from an earlier attempt is over.
    if (live && !card.finished) card.outcome.replaceChildren();
    const data = event.data || {};
    if (event.type === "step-started" || event.type === "step-finished") {
      this.step(card, event, data);
    } else if (event.type === "note") {
      card.list.append(h("li", { class: "note", "data-testid": "job-note", "data-seq": event.seq }, String(data.text ?? "")));
    } else if (event.type === "state" && data.job) {
      this.setState(card, data.job);
      if (TERMINAL.has(data.job.state)) this.finish(card, data.job);
    }
    if (live) this.remember(card, event);
  }

  step(card, event, data) {
    const key = `${data.index}:${data.step}`;
    let row = card.steps.get(key);
    if (!row) {
      row = {
        element: h("li", { class: "step", "data-testid": "job-step", "data-step": data.step, "data-index": data.index }),
      };
      card.steps.set(key, row);
      card.list.append(row.element);
    }
    const finished = event.type === "step-finished";
    const result = finished ? String(data.result ?? "") : "running";
    row.element.dataset.state = finished ? "finished" : "started";
    row.element.dataset.result = result;
    row.element.dataset.seq = String(event.seq);
    // When the page received the event, next to when the server says the step got there: the
    // delay a user sees (the events bench reads both).
    row.element.dataset.receivedMs = String(event.receivedMs ?? "");
    row.element.dataset.serverTime = String(data.time ?? "");
    const counter = data.total ? `[${data.index}/${data.total}] ` : "";
    fill(
      row.element,
      h("span", { class: `result result-${result}`, title: result }, finished ? resultLabel(result) : "…"),
      " ",
      h("span", { class: "step-name" }, `${counter}${data.step}`),
      h("span", { class: "step-seconds" }, finished ? ` ${result === "done" ? "" : `${result}, `}${seconds(data.seconds)}` : " running"),
      finished && data.detail ? h("span", { class: "step-detail" }, ` — ${data.detail}`) : null,
    );
  }

  setState(card, job) {
    card.job = job;
    card.element.dataset.state = job.state;
    card.stateBadge.className = `badge state-${job.state}`;
    card.stateBadge.textContent = job.state;
  }

  finish(card, job) {
    if (card.finished) return;
    card.finished = true;
    // A step still shown running when the job ended never finished (the server stopped under it).
    for (const row of card.steps.values()) {
      if (row.element.dataset.state !== "started") continue;
      row.element.dataset.state = "unfinished";
      const sign = row.element.querySelector(".result");
      sign.textContent = "✗";
      sign.className = "result result-failed";
      row.element.querySelector(".step-seconds").textContent = ` did not finish (job ${job.state})`;
    }
    const parts = [];
    if (job.error) {
      parts.push(h("p", { class: "error-line", "data-testid": "job-error" }, String(job.error.message ?? "")));
      if (job.error.hint) parts.push(h("p", { class: "hint" }, String(job.error.hint)));
    }
    const commands = planned(job.result);
    if (commands.length) {
      parts.push(h("p", {}, "Plan (dry run, nothing changed):"), h("pre", { "data-testid": "job-plan" }, commands.join("\n")));
    }
    parts.push(...checks(job), ...synced(job));
    fill(card.outcome, parts);
    if (this.store[card.id]) {
      this.store[card.id].finished = true;
      saveStore(this.store);
    }
    this.onFinished(job);
  }

  remember(card, event) {
    const entry = this.store[card.id] || { events: [] };
    entry.seq = card.seq;
    entry.touched = Date.now();
    entry.events.push({ seq: event.seq, type: event.type, data: event.data, receivedMs: event.receivedMs });
    if (entry.events.length > KEPT_EVENTS) entry.events.splice(0, entry.events.length - KEPT_EVENTS);
    this.store[card.id] = entry;
    saveStore(this.store);
  }

  showError(card, error) {
    fill(
      card.outcome,
      h("p", { class: "error-line", "data-testid": "job-error" }, error.message),
      error.hint ? h("p", { class: "hint" }, error.hint) : null,
    );
  }
}

// The engine's step results (workflows/engine.py): a sign for the common ones, the word otherwise.
function resultLabel(result) {
  return { done: "✓", skipped: "–", failed: "✗", planned: "○" }[result] || result;
}

/** The commands a dry run would have run, step by step, from the workflow's JSON document. */
function planned(result) {
  if (!result || !result.dry_run || !Array.isArray(result.steps)) return [];
  const lines = [];
  for (const step of result.steps) {
    lines.push(`# ${step.name}${step.detail ? `: ${step.detail}` : ""}`);
    for (const command of step.commands || []) lines.push(`$ ${Array.isArray(command) ? command.join(" ") : command}`);
  }
  return lines;
}

/** A verify job has no steps: its result is the list `kenv verify -o json` prints. */
function checks(job) {
  if (job.kind !== "verify" || !Array.isArray(job.result)) return [];
  return job.result.map((report) =>
    h("ul", { class: "checks", "data-testid": "verify-checks" },
      (report.checks || []).map((check) =>
        h("li", { "data-check": check.check, "data-ok": String(Boolean(check.ok)) },
          h("span", { class: `result ${check.ok ? "result-done" : "result-failed"}` }, check.ok ? "✓" : "✗"),
          ` ${check.check}`, check.detail ? h("span", { class: "step-detail" }, ` — ${check.detail}`) : null)),
    ),
  );
}

/** An images sync: per image, what each node ended with (the sync's JSON document). */
function synced(job) {
  const result = job.result;
  if (job.kind !== "images-sync" || !result || !Array.isArray(result.images)) return [];
  return [
    h("ul", { class: "checks", "data-testid": "sync-result" },
      result.images.map((image) =>
        h("li", {}, h("code", {}, image.familiar || image.ref || ""), ": ",
          (image.nodes || []).map((cell) => `${cell.node} ${cell.state}${cell.pinned ? " (pinned)" : ""}`).join(", ")))),
  ];
}

/** The recent jobs table: every job the server knows, newest first, each one openable. */
export function renderJobsTable(table, jobs, open) {
  const body = jobs.map((job) =>
    h(
      "tr",
      { "data-testid": "jobs-row", "data-job-id": job.id },
      h("td", {}, when(job.created_at)),
      h("td", {}, job.kind),
      h("td", {}, job.environment),
      h("td", {}, h("span", { class: `badge state-${job.state}` }, job.state)),
      h("td", {}, h("button", { type: "button", class: "link", onclick: () => open(job) }, "Show steps")),
    ),
  );
  fill(
    table,
    h("thead", {}, h("tr", {}, ["Started", "Kind", "Environment", "State", ""].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, body),
  );
}
