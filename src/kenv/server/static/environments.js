// The environments table, the create form and the delete confirmation.

import { api } from "./api.js";
import { byId, fill, h } from "./dom.js";

const MANAGEMENT_ROLE = "management";
// Used only when the OpenAPI document declares no enums (the server validates either way).
const FALLBACK_CHOICES = {
  provider: ["k3d", "kind", "minikube"],
  role: ["business", "management"],
  components: ["system", "ingress", "verify", "all"],
};

/** Links of one environment: ingress through HAProxy, Portainer, Argo CD (from /platform). */
export function environmentLinks(env, platform) {
  const links = [];
  const urls = (platform && platform.urls) || {};
  const route = ((platform && platform.environments) || []).find((e) => e.name === env.name);
  const baseDomain = urls.base_domain || (platform && platform.base_domain);
  const host = (route && route.route_host) || (baseDomain ? `${env.name}.${baseDomain}` : null);
  if (host && env.haproxy_route !== false) {
    links.push({ label: "Ingress", href: `http://${host}/`, title: `http://<anything>.${host}/ through HAProxy` });
  } else if (env.http_port) {
    links.push({ label: "Ingress", href: `http://localhost:${env.http_port}/`, title: "the environment's own HTTP port" });
  }
  if (webUrl(urls.portainer)) links.push({ label: "Portainer", href: urls.portainer, title: "Portainer" });
  if (webUrl(urls.argocd)) links.push({ label: "Argo CD", href: urls.argocd, title: "Argo CD" });
  return links;
}

/** Only http(s) becomes a link: a recorded `javascript:` URL must never run in the page. */
export function webUrl(value) {
  return typeof value === "string" && /^https?:\/\//i.test(value);
}

function ports(env) {
  const parts = [];
  for (const [label, key] of [["http", "http_port"], ["https", "https_port"], ["api", "api_port"], ["pf", "pf_port"], ["nodeport", "node_port"]]) {
    if (env[key] !== null && env[key] !== undefined) parts.push(`${label} ${env[key]}`);
  }
  return parts.join(", ");
}

export function renderEnvironments(environments, platform, actions) {
  const table = byId("environments");
  byId("environments-empty").hidden = environments.length > 0;
  const rows = environments.map((env) => {
    const management = env.role === MANAGEMENT_ROLE;
    const links = environmentLinks(env, platform).map((link) =>
      h("a", { href: link.href, title: link.title, target: "_blank", rel: "noopener noreferrer" }, link.label),
    );
    return h(
      "tr",
      { "data-testid": "environment-row", "data-name": env.name, "data-status": env.status },
      h("th", { scope: "row" }, h("button", { type: "button", class: "link", "data-testid": "open-environment", onclick: () => actions.open(env) }, env.name)),
      h("td", {}, h("span", { class: `badge status-${env.status}`, "data-testid": "environment-status" }, env.status)),
      h("td", {}, env.provider),
      h("td", {}, env.role),
      h("td", { class: "ports" }, ports(env)),
      h("td", { class: "links" }, links.length ? links.flatMap((a, i) => (i ? [" ", a] : [a])) : "—"),
      h(
        "td",
        { class: "actions" },
        h("button", { type: "button", onclick: () => actions.run(env, "start") }, "Start"),
        h("button", { type: "button", onclick: () => actions.run(env, "stop") }, "Stop"),
        h("button", { type: "button", onclick: () => actions.run(env, "verify") }, "Verify"),
        h(
          "button",
          {
            type: "button",
            class: "danger",
            "data-testid": "delete-environment",
            disabled: management,
            title: management ? "The management environment is deleted only from the command line (kenv teardown --all)" : null,
            onclick: () => actions.remove(env),
          },
          "Delete",
        ),
      ),
    );
  });
  fill(
    table,
    h("thead", {}, h("tr", {}, ["Name", "Status", "Provider", "Role", "Ports", "Links", "Actions"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, rows),
  );
}

/** Choices for the create form from the OpenAPI document's request schema, else the fallback. */
export function choicesFrom(document) {
  const choices = { ...FALLBACK_CHOICES };
  try {
    const post = document.paths["/api/v1/environments"].post;
    let schema = post.requestBody.content["application/json"].schema;
    const resolve = (s) => {
      if (s && s.$ref) return s.$ref.split("/").slice(1).reduce((node, part) => node[part], document);
      return s;
    };
    schema = resolve(schema);
    const enumOf = (property) => {
      if (!property) return null;
      property = resolve(property);
      if (Array.isArray(property.enum)) return property.enum;
      for (const option of property.anyOf || property.oneOf || []) {
        const found = enumOf(option);
        if (found) return found;
      }
      if (property.items) return enumOf(property.items);
      return null;
    };
    for (const key of Object.keys(FALLBACK_CHOICES)) {
      const found = enumOf(schema.properties[key]);
      if (found && found.length) choices[key] = found.filter((value) => value !== null);
    }
  } catch {
    // An older server without enums: the fallback lists.
  }
  return choices;
}

export function buildCreateChoices(choices) {
  fill(byId("create-provider"), h("option", { value: "" }, "default (from config)"), choices.provider.map((p) => h("option", { value: p }, p)));
  fill(byId("create-role"), choices.role.map((r) => h("option", { value: r, selected: r === "business" }, r)));
  fill(
    byId("create-components"),
    h("legend", {}, "Sync images of components once ready"),
    choices.components.map((c) =>
      h("label", { class: "inline" }, h("input", { type: "checkbox", name: "components", value: c, "data-testid": `component-${c}` }), ` ${c}`),
    ),
  );
}

/** N|auto|none as the CLI takes it: a number as a number, a word as given, blank left out. */
function portValue(text) {
  const value = text.trim();
  if (value === "") return undefined;
  return /^\d+$/.test(value) ? Number(value) : value;
}

function intValue(text) {
  const value = text.trim();
  return value === "" ? undefined : /^-?\d+$/.test(value) ? Number(value) : value;
}

/** The create form → the POST body; a label that is not KEY=VALUE is refused here, as the CLI would. */
export function createBody(form) {
  const data = new FormData(form);
  const text = (key) => String(data.get(key) || "");
  const body = { name: text("name").trim() };
  const provider = text("provider");
  if (provider) body.provider = provider;
  body.role = text("role") || "business";
  for (const key of ["subnet", "http_port", "https_port", "pf_port", "api_port"]) {
    const value = portValue(text(key));
    if (value !== undefined) body[key] = value;
  }
  for (const key of ["node_port", "servers", "agents"]) {
    const value = intValue(text(key));
    if (value !== undefined) body[key] = value;
  }
  const version = text("k8s_version").trim();
  if (version) body.k8s_version = version;
  const labels = {};
  for (const item of text("labels").split(/[\n,]/).map((s) => s.trim()).filter(Boolean)) {
    const equals = item.indexOf("=");
    // The CLI's words for the same mistake (the API takes labels as an object, so it is caught here).
    if (equals < 0) throw new Error(`label '${item}' has no '='; write labels as key=value`);
    labels[item.slice(0, equals).trim()] = item.slice(equals + 1).trim();
  }
  if (Object.keys(labels).length) body.labels = labels;
  const components = data.getAll("components").map(String);
  if (components.length) body.components = components;
  const images = text("images").split(/\s+/).filter(Boolean);
  if (images.length) body.images = images;
  if (data.get("dry_run")) body.dry_run = true;
  return body;
}

/** Ask before deleting; resolves {keepRecord, dryRun} or null when cancelled. */
export function confirmDelete(env) {
  const dialog = byId("delete-dialog");
  byId("delete-name").textContent = env.name;
  byId("delete-keep-record").checked = false;
  byId("delete-dry-run").checked = false;
  return new Promise((resolve) => {
    const done = () => {
      dialog.removeEventListener("close", done);
      resolve(dialog.returnValue === "delete" ? { keepRecord: byId("delete-keep-record").checked, dryRun: byId("delete-dry-run").checked } : null);
    };
    dialog.returnValue = "";
    dialog.addEventListener("close", done);
    dialog.showModal();
  });
}

export async function startDelete(env, { keepRecord, dryRun }) {
  const query = new URLSearchParams({ keep_record: String(keepRecord), dry_run: String(dryRun) });
  return api("DELETE", `/environments/${encodeURIComponent(env.name)}?${query}`);
}
