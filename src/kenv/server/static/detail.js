// One environment in detail: the images its nodes lack (with a sync button) and the doctor's
// findings drawn as their cause tree.

import { api } from "./api.js";
import { fill, h } from "./dom.js";

/** Images some listed node does not hold: [{ref, familiar, components, missingOn: [node]}]. */
export function missingImages(listing) {
  const missing = [];
  for (const image of listing.images || []) {
    if (!image.nodes || typeof image.nodes !== "object") continue;
    const missingOn = Object.entries(image.nodes).filter(([, held]) => !held).map(([node]) => node);
    if (missingOn.length) missing.push({ ref: image.ref, familiar: image.familiar || image.ref, components: image.components || [], missingOn });
  }
  return missing;
}

export function renderImages(container, listing, sync) {
  const missing = missingImages(listing);
  const cluster = listing.cluster || {};
  const parts = [
    h("p", { "data-testid": "images-summary" },
      `${(listing.images || []).length} image(s) needed by ${listing.environment} (${listing.provider}); `,
      cluster.reachable === false
        ? `the cluster was not read${cluster.error ? `: ${cluster.error}` : ""}, so which nodes hold them is not known.`
        : `${missing.length} missing from a node.`),
  ];
  for (const warning of listing.warnings || []) parts.push(h("p", { class: "hint" }, `warning: ${warning}`));
  if (missing.length) {
    parts.push(
      h("table", { "data-testid": "missing-images" },
        h("thead", {}, h("tr", {}, ["Image", "Components", "Missing on", ""].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, missing.map((image) =>
          h("tr", { "data-testid": "missing-image", "data-ref": image.ref },
            h("td", {}, h("code", {}, image.familiar)),
            h("td", {}, image.components.join(", ") || "running, on no list"),
            h("td", {}, image.missingOn.join(", ")),
            h("td", {}, h("button", { type: "button", "data-testid": "sync-image", "aria-label": `Sync ${image.familiar}`, onclick: () => sync([image.ref]) }, "Sync"))),
        )),
      ),
      h("button", { type: "button", "data-testid": "sync-images", onclick: () => sync(missing.map((m) => m.ref)) },
        `Sync all ${missing.length} missing image(s) into every node`),
    );
  }
  fill(container, parts);
}

const SEVERITY_ORDER = ["critical", "error", "warning", "info"];

/** kenv.doctor/v1 → nested <details>: a finding's symptoms (the findings it causes) inside it. */
export function renderDoctor(container, report) {
  const findings = report.findings || [];
  const byId = new Map(findings.map((f) => [f.id, f]));
  const children = new Map();
  const roots = [];
  for (const finding of findings) {
    if (finding.caused_by && byId.has(finding.caused_by)) {
      if (!children.has(finding.caused_by)) children.set(finding.caused_by, []);
      children.get(finding.caused_by).push(finding);
    } else {
      roots.push(finding);
    }
  }
  const drawn = new Set();
  const draw = (finding) => {
    if (drawn.has(finding.id)) return null; // a broken document must not loop
    drawn.add(finding.id);
    const fix = finding.fix || {};
    const below = (children.get(finding.id) || []).map(draw).filter(Boolean);
    return h("li", {},
      h("details", { class: `finding finding-${finding.severity}`, "data-testid": "finding", "data-rule": finding.rule, "data-finding-id": finding.id },
        h("summary", {},
          h("span", { class: `badge severity-${finding.severity}` }, finding.severity),
          " ", h("code", {}, finding.object), " ", h("span", { class: "rule" }, `[${finding.rule}]`),
          " ", h("span", { class: "finding-summary" }, finding.summary),
          below.length ? h("span", { class: "hint" }, ` (causes ${below.length})`) : null),
        h("div", { class: "finding-body" },
          (finding.evidence || []).length ? h("ul", { class: "evidence" }, finding.evidence.map((line) => h("li", {}, line))) : null,
          h("p", {}, `Fix (${fix.risk || "?"} risk, ${fix.automatic ? "kenv can apply it: kenv doctor --fix" : "by hand"}): ${fix.summary || ""}`),
          (fix.commands || []).length ? h("pre", { "data-testid": "fix-commands" }, fix.commands.map((c) => `$ ${c}`).join("\n")) : null,
          below.length ? h("div", { class: "symptoms" }, h("p", {}, "Symptoms of this cause:"), h("ul", { class: "tree", "data-testid": "symptoms" }, below)) : null)),
    );
  };
  const counts = SEVERITY_ORDER.map((s) => [s, findings.filter((f) => f.severity === s).length]).filter(([, n]) => n);
  const parts = [
    h("p", { "data-testid": "doctor-summary" },
      findings.length
        ? `${findings.length} finding(s) (${counts.map(([s, n]) => `${n} ${s}`).join(", ")}), ${roots.length} root cause(s). Open one for its evidence, fix and symptoms.`
        : "No problems found."),
  ];
  if (roots.length) parts.push(h("ul", { class: "tree", "data-testid": "doctor-tree" }, roots.map(draw)));
  for (const skip of report.skipped || []) {
    parts.push(h("p", { class: "hint" }, `skipped: ${skip.rule}${skip.needs ? ` needs ${[].concat(skip.needs).join(", ")}` : ""}`));
  }
  fill(container, parts);
}

export async function loadImages(name) {
  return api("GET", `/environments/${encodeURIComponent(name)}/images`);
}

export async function loadDoctor(name) {
  return api("GET", `/environments/${encodeURIComponent(name)}/doctor`);
}

export async function startSync(name, images) {
  return api("POST", `/environments/${encodeURIComponent(name)}/images/sync`, { images, components: [] });
}
