// The platform as a picture (HAProxy → each environment, coloured by health) and the history table.

import { fill, h, svg, when } from "./dom.js";
import { webUrl } from "./environments.js";

const HEALTH = {
  running: "healthy",
  stopped: "stopped",
  creating: "busy",
  deleting: "busy",
  failed: "broken",
};

function health(status) {
  return HEALTH[status] || "unknown";
}

export function renderPlatform(container, platform) {
  const components = Object.entries(platform.components || {});
  const urls = Object.entries(platform.urls || {}).filter(([, url]) => webUrl(url));
  const environments = platform.environments || [];
  const rowHeight = 56;
  const height = Math.max(140, environments.length * rowHeight + 40);
  const width = 760;
  const haproxyY = height / 2;
  const haproxy = platform.haproxy || {};
  const haproxyUp = typeof haproxy.running === "boolean" ? haproxy.running : componentUp(platform.components && platform.components.haproxy);
  const picture = svg(
    "svg",
    { viewBox: `0 0 ${width} ${height}`, width: "100%", role: "img", "aria-labelledby": "platform-picture-title", "data-testid": "platform-picture" },
    svg("title", { id: "platform-picture-title" }, `HAProxy routing to ${environments.length} environment(s)`),
    environments.map((env, i) => {
      const y = 20 + i * rowHeight + rowHeight / 2 - 8;
      // A running environment HAProxy has no route to is broken; a stopped one is just stopped.
      // `kept`: the last known route stays while the address cannot be read; only `skipped` has none.
      const routed = env.route !== "skipped";
      const state = !routed && env.status === "running" ? "broken" : health(env.status);
      return svg("g", { class: `platform-env health-${state}`, "data-testid": "platform-environment", "data-name": env.name, "data-health": state },
        svg("line", { x1: 190, y1: haproxyY, x2: 400, y2: y, class: `route health-${state}` }),
        svg("rect", { x: 400, y: y - 20, width: 340, height: 44, rx: 6, class: `box health-${state}` }),
        svg("text", { x: 412, y: y - 2, class: "box-title" }, `${env.name} — ${env.status || "unknown"}`),
        svg("text", { x: 412, y: y + 15, class: "box-detail" },
          routed
            ? [env.route_host || "no route", env.address ? `→ ${env.address}:${env.node_port ?? "?"}` : ""].filter(Boolean).join(" ")
            : `not routed: ${env.reason || env.route}`),
        svg("title", {}, `${env.name}: ${env.status || "unknown"}; route ${env.route || "unknown"}${env.reason ? ` (${env.reason})` : ""}`),
      );
    }),
    svg("g", { class: `platform-haproxy ${haproxyUp === false ? "health-broken" : haproxyUp ? "health-healthy" : "health-unknown"}` },
      svg("rect", { x: 20, y: haproxyY - 28, width: 170, height: 56, rx: 8, class: "box" }),
      svg("text", { x: 36, y: haproxyY - 4, class: "box-title" }, "HAProxy"),
      svg("text", { x: 36, y: haproxyY + 14, class: "box-detail" },
        `${haproxyUp === false ? "down" : haproxyUp ? "running" : "not recorded"}${haproxy.runtime ? ` (${haproxy.runtime})` : ""}`),
      haproxy.config_current === false && haproxyUp
        ? svg("text", { x: 36, y: haproxyY + 44, class: "box-detail" }, "routes changed: kenv routes sync")
        : null),
  );
  fill(
    container,
    h("div", { class: "legend" }, ["healthy", "busy", "stopped", "broken", "unknown"].map((s) => h("span", { class: `legend-item health-${s}` }, s))),
    picture,
    h("h3", {}, "Components"),
    components.length
      ? h("table", { "data-testid": "platform-components" },
          h("thead", {}, h("tr", {}, ["Component", "State", "Detail"].map((t) => h("th", { scope: "col" }, t)))),
          h("tbody", {}, components.map(([name, entry]) => {
            const up = componentUp(entry);
            return h("tr", {}, h("th", { scope: "row" }, name),
              h("td", {}, h("span", { class: `badge ${up === false ? "status-failed" : up ? "status-running" : "status-unknown"}` }, up === false ? "down" : up ? "up" : "recorded")),
              h("td", {}, entry && typeof entry === "object" ? String(entry.detail ?? "") : String(entry ?? "")));
          })))
      : h("p", {}, "No platform yet: kenv bootstrap (or kenv up) makes HAProxy, Portainer, Argo CD and the rest."),
    urls.length ? h("p", {}, "Open: ", urls.flatMap(([name, url], i) => [i ? ", " : "", h("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, name)])) : null,
  );
}

function componentUp(entry) {
  if (!entry || typeof entry !== "object") return null;
  for (const key of ["up", "running", "healthy"]) if (typeof entry[key] === "boolean") return entry[key];
  return null;
}

export function renderHistory(table, rows) {
  fill(
    table,
    h("thead", {}, h("tr", {}, ["Started", "Environment", "Operation", "Status", "By", "Detail"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, rows.map((row) =>
      h("tr", { "data-testid": "history-row" },
        h("td", {}, when(row.started_at)),
        h("td", {}, row.environment),
        h("td", {}, row.operation),
        h("td", {}, h("span", { class: `badge state-${row.status}` }, row.status)),
        h("td", {}, row.actor || ""),
        h("td", {}, row.error ? h("span", { class: "error-line" }, row.error) : row.detail || "")))),
  );
}
