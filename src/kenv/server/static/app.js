// The dashboard: log in with the API token, then environments, jobs, platform and history,
// all read from /api/v1 (the same workflows the CLI runs).

import { ApiError, api, clearToken, health, openapi, setToken, token } from "./api.js";
import { buildCreateChoices, choicesFrom, confirmDelete, createBody, renderEnvironments, startDelete } from "./environments.js";
import { loadDoctor, loadImages, renderDoctor, renderImages, startSync } from "./detail.js";
import { Jobs, renderJobsTable } from "./jobs.js";
import { renderHistory, renderPlatform } from "./platform.js";
import { byId, fill, h } from "./dom.js";

const REFRESH_MS = 5000;

const state = {
  environments: [],
  loaded: false,
  platform: null,
  selected: null,
  refreshing: false,
  again: false,
  linking: false,
  timer: null,
  drawn: null, // what the table shows now (drawTable)
};

const jobs = new Jobs({
  onFinished: (job) => {
    refreshEnvironments();
    refreshJobsTable();
    if (job.kind === "images-sync" && state.selected === job.environment) showImages();
  },
});

// ---- errors -------------------------------------------------------------------------------

function showError(error) {
  byId("banner-message").textContent = error.message || String(error);
  byId("banner-hint").textContent = error.hint ? ` ${error.hint}` : "";
  byId("banner").hidden = false;
}

function hideError() {
  byId("banner").hidden = true;
}

/** Run `work`, showing its failure as the one-line message and hint; never throws. */
async function guarded(work, where = null) {
  try {
    return await work();
  } catch (error) {
    if (where) {
      fill(where, h("p", { class: "error-line", role: "alert" }, error.message || String(error)), error.hint ? h("p", { class: "hint" }, error.hint) : null);
      where.hidden = false;
    } else {
      showError(error);
    }
    return undefined;
  }
}

// ---- login --------------------------------------------------------------------------------

function showLogin(message = "") {
  stopRefresh();
  state.drawn = null;
  byId("app").hidden = true;
  byId("tabs").hidden = true;
  byId("logout").hidden = true;
  byId("login").hidden = false;
  const error = byId("login-error");
  error.textContent = message;
  error.hidden = !message;
  byId("token").focus();
}

async function login(event) {
  event.preventDefault();
  const value = byId("token").value.trim();
  if (!value) return;
  setToken(value);
  try {
    // Any authenticated read tells a good token from a bad one.
    await api("GET", "/jobs?limit=1");
  } catch (error) {
    clearToken();
    showLogin(error.status === 401 ? "That token was refused. Copy it again from `kenv serve token`." : error.message);
    return;
  }
  byId("token").value = "";
  enterApp();
}

function logout() {
  clearToken();
  jobs.clear();
  showLogin();
}

window.addEventListener("kenv:unauthorized", () => {
  if (!token()) return;
  clearToken();
  showLogin("The server refused the token (rotated with `kenv serve token --rotate`?). Log in again.");
});

// ---- the app ------------------------------------------------------------------------------

async function enterApp() {
  byId("login").hidden = true;
  byId("app").hidden = false;
  byId("tabs").hidden = false;
  byId("logout").hidden = false;
  hideError();
  await Promise.all([refreshEnvironments(), resumeJobs()]);
  startRefresh();
}

function startRefresh() {
  stopRefresh();
  state.timer = setInterval(() => {
    if (!document.hidden && !byId("environments-view").hidden) refreshEnvironments({ links: false });
  }, REFRESH_MS);
}

function stopRefresh() {
  if (state.timer) clearInterval(state.timer);
  state.timer = null;
}

const tableActions = () => ({ open: openDetail, run: runAction, remove: removeEnvironment });

/** The table from the inventory; with `links`, the platform is read again for the links. */
async function refreshEnvironments({ links = true } = {}) {
  // The platform asks Docker and probes URLs (seconds when one is down): it is read on its own,
  // never holding up the table, and the periodic refresh leaves it out.
  if (links) refreshLinks();
  if (state.refreshing) {
    // A job ended while a read was under way: read again after it, or the table lags behind.
    state.again = true;
    return;
  }
  state.refreshing = true;
  try {
    const list = await api("GET", "/environments");
    state.environments = list.environments || [];
    state.loaded = true;
    drawTable();
  } catch (error) {
    showError(error);
  } finally {
    state.refreshing = false;
  }
  if (state.again) {
    state.again = false;
    await refreshEnvironments({ links: false });
  }
}

/** Redraw the table only when what it shows changed: the periodic refresh then leaves the rows
 * (and a button under the pointer, a selection, the focus) alone while nothing happens. */
function drawTable() {
  const shown = JSON.stringify([state.environments, state.platform]);
  if (shown === state.drawn) return;
  state.drawn = shown;
  renderEnvironments(state.environments, state.platform, tableActions());
}

async function refreshLinks() {
  if (state.linking) return;
  state.linking = true;
  try {
    state.platform = await api("GET", "/platform");
    if (state.loaded) drawTable();
  } catch {
    // Without the platform the table keeps the links it had; the Platform tab shows the error.
  } finally {
    state.linking = false;
  }
}

/** Jobs still running (after a reload, or started by another tab) are followed again. */
async function resumeJobs() {
  const listing = await guarded(() => api("GET", "/jobs?limit=50"));
  if (!listing) return;
  const all = listing.jobs || [];
  renderJobsTable(byId("jobs-table"), all, (job) => jobs.watch(job));
  const remembered = new Set(jobs.rememberedIds());
  // Oldest first, so the newest card ends on top.
  for (const job of [...all].reverse()) {
    if (job.state === "queued" || job.state === "running" || remembered.has(job.id)) jobs.watch(job);
  }
}

async function refreshJobsTable() {
  const listing = await guarded(() => api("GET", "/jobs?limit=50"));
  if (listing) renderJobsTable(byId("jobs-table"), listing.jobs || [], (job) => jobs.watch(job));
}

function started(job) {
  if (!job || !job.id) return;
  jobs.watch(job);
  refreshJobsTable();
  refreshEnvironments();
}

async function runAction(env, action) {
  const job = await guarded(() => api("POST", `/environments/${encodeURIComponent(env.name)}/${action}`));
  started(job);
}

async function removeEnvironment(env) {
  const choice = await confirmDelete(env);
  if (!choice) return;
  const job = await guarded(() => startDelete(env, choice));
  started(job);
}

// ---- create -------------------------------------------------------------------------------

function toggleCreate(show) {
  const form = byId("create-form");
  form.hidden = !show;
  byId("show-create").setAttribute("aria-expanded", String(show));
  if (show) form.elements.name.focus();
}

async function submitCreate(event) {
  event.preventDefault();
  const form = byId("create-form");
  const error = byId("create-error");
  error.hidden = true;
  let body;
  try {
    body = createBody(form);
  } catch (failure) {
    fill(error, h("p", { class: "error-line" }, failure.message));
    error.hidden = false;
    return;
  }
  const job = await guarded(() => api("POST", "/environments", body), error);
  if (!job) return;
  form.reset();
  toggleCreate(false);
  started(job);
}

// ---- one environment ----------------------------------------------------------------------

function openDetail(env) {
  state.selected = env.name;
  byId("detail-name").textContent = env.name;
  byId("images").replaceChildren();
  byId("doctor").replaceChildren();
  byId("detail").hidden = false;
  byId("detail").scrollIntoView({ block: "start" });
}

async function showImages() {
  const name = state.selected;
  const target = byId("images");
  fill(target, h("p", { class: "muted" }, `Listing the images of ${name}…`));
  const listing = await guarded(() => loadImages(name), target);
  if (listing && state.selected === name) {
    renderImages(target, listing, async (refs) => started(await guarded(() => startSync(name, refs))));
  }
}

async function showDoctor() {
  const name = state.selected;
  const target = byId("doctor");
  fill(target, h("p", { class: "muted" }, `Diagnosing ${name}…`));
  const report = await guarded(() => loadDoctor(name), target);
  if (report && state.selected === name) renderDoctor(target, report);
}

// ---- platform and history -----------------------------------------------------------------

async function showPlatform() {
  const target = byId("platform");
  const platform = await guarded(() => api("GET", "/platform"), target);
  if (platform) renderPlatform(target, platform);
}

async function showHistory(event) {
  if (event) event.preventDefault();
  const form = byId("history-form");
  const query = new URLSearchParams();
  const environment = form.elements.environment.value.trim();
  if (environment) query.set("environment", environment);
  const limit = form.elements.limit.value.trim();
  if (limit) query.set("limit", limit);
  const rows = await guarded(() => api("GET", `/history?${query}`));
  if (rows) renderHistory(byId("history"), Array.isArray(rows) ? rows : rows.history || []);
}

function switchView(id) {
  for (const view of document.querySelectorAll(".view")) view.hidden = view.id !== id;
  for (const tab of document.querySelectorAll(".tab")) {
    if (tab.dataset.view === id) tab.setAttribute("aria-current", "page");
    else tab.removeAttribute("aria-current");
  }
  if (id === "platform-view") showPlatform();
  if (id === "history-view") showHistory();
  if (id === "environments-view") refreshEnvironments();
}

// ---- start --------------------------------------------------------------------------------

function wire() {
  byId("login-form").addEventListener("submit", login);
  byId("logout").addEventListener("click", logout);
  byId("banner-close").addEventListener("click", hideError);
  byId("refresh").addEventListener("click", () => refreshEnvironments());
  byId("show-create").addEventListener("click", () => toggleCreate(byId("create-form").hidden));
  byId("create-cancel").addEventListener("click", () => toggleCreate(false));
  byId("create-form").addEventListener("submit", submitCreate);
  byId("detail-close").addEventListener("click", () => {
    byId("detail").hidden = true;
    state.selected = null;
  });
  byId("load-images").addEventListener("click", showImages);
  byId("load-doctor").addEventListener("click", showDoctor);
  byId("platform-refresh").addEventListener("click", showPlatform);
  byId("history-form").addEventListener("submit", showHistory);
  for (const tab of document.querySelectorAll(".tab")) tab.addEventListener("click", () => switchView(tab.dataset.view));
}

async function main() {
  wire();
  buildCreateChoices(choicesFrom(await openapi().catch(() => ({}))));
  health()
    .then((info) => {
      byId("version").textContent = info && info.version ? `v${info.version}` : "";
    })
    .catch((error) => showError(error instanceof ApiError ? error : new ApiError(0, String(error))));
  if (token()) enterApp();
  else showLogin();
}

main();
