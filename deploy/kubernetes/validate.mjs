#!/usr/bin/env node
// Validates Kubernetes manifests offline, with no cluster: every YAML
// document of every file given is checked against the Kubernetes schemas of
// the npm package kubernetes-models (`new Deployment(obj).validate()`), and
// the documents are checked against each other the way the cluster would
// wire them up:
//   - a Service, PodDisruptionBudget or Deployment selector selects the
//     pod template's labels of a Deployment among the files;
//   - a Service's named targetPort is a port name of the selected pods;
//   - a HorizontalPodAutoscaler's scaleTargetRef names a Deployment here;
//   - a configMap volume names a ConfigMap here, and each of its `items`
//     keys is in that ConfigMap's data.
// A document whose apiVersion or kind kubernetes-models does not know is an
// error, never skipped.
//
//   node validate.mjs deploy/kubernetes/*.yaml
//   node validate.mjs --extract-models DIR deploy/kubernetes/*.yaml
//
// --extract-models writes the files of each Deployment's configMap volumes
// under DIR as the pods would see them (DIR/<volume>/<item path>), so that
// `healthscore validate` and `healthscore test` can check the models a
// ConfigMap carries.
//
// Prints one line per problem (FILE: document N (Kind name): what) and
// exits 1 if there is any; prints a summary and exits 0 otherwise; exits 2
// for a usage error. Run by the CTest test kubernetes_manifests
// (tests/kubernetes_manifests.sh), which installs the npm packages of
// package.json beside this file.

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { parseAllDocuments } from "yaml";

function usage(message) {
  console.error(`validate.mjs: ${message}`);
  console.error("usage: node validate.mjs [--extract-models DIR] FILE.yaml...");
  process.exit(2);
}

const files = [];
let extractDir = null;
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; ++i) {
  if (argv[i] === "--extract-models") {
    if (i + 1 >= argv.length) usage("--extract-models needs a directory");
    extractDir = argv[++i];
  } else if (argv[i].startsWith("-")) {
    usage(`unknown flag ${argv[i]}`);
  } else {
    files.push(argv[i]);
  }
}
if (files.length === 0) usage("no manifest files given");

const problems = [];
// Every document that parsed and validated: {file, index, obj}.
const documents = [];

function where(file, index, obj) {
  const kind = obj && typeof obj === "object" ? obj.kind : undefined;
  const name = obj?.metadata?.name;
  const what = kind ? ` (${kind}${name ? ` ${name}` : ""})` : "";
  return `${file}: document ${index + 1}${what}`;
}

// The kubernetes-models class for apiVersion/kind, or an error text.
async function modelClass(apiVersion, kind) {
  if (typeof apiVersion !== "string" || apiVersion === "") {
    return { error: "no apiVersion" };
  }
  if (typeof kind !== "string" || kind === "") return { error: "no kind" };
  // "v1" is the core group; "apps/v1" is group apps, version v1.
  if (!/^([a-z0-9.-]+\/)?v[0-9]+((alpha|beta)[0-9]+)?$/.test(apiVersion)) {
    return { error: `malformed apiVersion "${apiVersion}"` };
  }
  let module;
  try {
    module = await import(`kubernetes-models/${apiVersion}`);
  } catch {
    return {
      error: `unknown apiVersion "${apiVersion}" (not in kubernetes-models)`,
    };
  }
  const cls = module[kind];
  if (typeof cls !== "function" || cls.kind !== kind) {
    return { error: `unknown kind "${kind}" in ${apiVersion}` };
  }
  return { cls };
}

// A validation error of kubernetes-models as one line per failed rule.
function describe(error) {
  if (Array.isArray(error?.errors) && error.errors.length > 0) {
    return error.errors.map((e) => {
      const path = e.instancePath || "/";
      return `${path} ${e.message}${
        e.params && Object.keys(e.params).length > 0
          ? ` (${JSON.stringify(e.params)})`
          : ""
      }`;
    });
  }
  return [String(error?.message ?? error)];
}

for (const file of files) {
  let text;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    problems.push(`${file}: cannot read: ${e.message}`);
    continue;
  }
  const docs = parseAllDocuments(text, { prettyErrors: true });
  if (!Array.isArray(docs)) {
    problems.push(`${file}: not a YAML stream`);
    continue;
  }
  let count = 0;
  for (let index = 0; index < docs.length; ++index) {
    const doc = docs[index];
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        problems.push(`${where(file, index)}: YAML: ${e.message.split("\n")[0]}`);
      }
      continue;
    }
    const obj = doc.toJS({ maxAliasCount: 100 });
    if (obj === null || obj === undefined) continue; // an empty document
    ++count;
    if (typeof obj !== "object" || Array.isArray(obj)) {
      problems.push(`${where(file, index)}: not a mapping`);
      continue;
    }
    const { cls, error } = await modelClass(obj.apiVersion, obj.kind);
    if (error) {
      problems.push(`${where(file, index, obj)}: ${error}`);
      continue;
    }
    try {
      new cls(obj).validate();
    } catch (e) {
      for (const line of describe(e)) {
        problems.push(`${where(file, index, obj)}: ${line}`);
      }
      continue;
    }
    documents.push({ file, index, obj });
  }
  if (count === 0) problems.push(`${file}: no Kubernetes object in the file`);
}

// --- How the documents fit together ----------------------------------------

const of = (kind) => documents.filter((d) => d.obj.kind === kind);
const deployments = of("Deployment");
const configMaps = of("ConfigMap");

function selects(selector, labels) {
  if (!selector) return false;
  const match = selector.matchLabels ?? {};
  for (const [k, v] of Object.entries(match)) {
    if (labels?.[k] !== v) return false;
  }
  for (const e of selector.matchExpressions ?? []) {
    const has = labels && Object.hasOwn(labels, e.key);
    const value = has ? labels[e.key] : undefined;
    if (e.operator === "In" && !(has && e.values.includes(value))) return false;
    if (e.operator === "NotIn" && has && e.values.includes(value)) return false;
    if (e.operator === "Exists" && !has) return false;
    if (e.operator === "DoesNotExist" && has) return false;
  }
  return Object.keys(match).length > 0 || (selector.matchExpressions ?? []).length > 0;
}

const podLabels = (d) => d.obj.spec.template.metadata?.labels ?? {};
const containers = (d) => d.obj.spec.template.spec.containers ?? [];

for (const d of deployments) {
  if (!selects(d.obj.spec.selector, podLabels(d))) {
    problems.push(
      `${where(d.file, d.index, d.obj)}: spec.selector does not select the pod template's labels`,
    );
  }
}

for (const s of of("Service")) {
  const selector = s.obj.spec?.selector;
  if (!selector) continue; // a Service without selector has its own endpoints
  const targets = deployments.filter((d) => selects({ matchLabels: selector }, podLabels(d)));
  if (targets.length === 0) {
    problems.push(`${where(s.file, s.index, s.obj)}: spec.selector selects no Deployment's pods`);
    continue;
  }
  for (const port of s.obj.spec.ports ?? []) {
    if (typeof port.targetPort !== "string") continue;
    const named = targets.some((d) =>
      containers(d).some((c) => (c.ports ?? []).some((p) => p.name === port.targetPort)),
    );
    if (!named) {
      problems.push(
        `${where(s.file, s.index, s.obj)}: port ${port.name ?? port.port}: targetPort "${port.targetPort}" is no container port name`,
      );
    }
  }
}

for (const p of of("PodDisruptionBudget")) {
  if (!deployments.some((d) => selects(p.obj.spec?.selector, podLabels(d)))) {
    problems.push(`${where(p.file, p.index, p.obj)}: spec.selector selects no Deployment's pods`);
  }
}

for (const h of of("HorizontalPodAutoscaler")) {
  const ref = h.obj.spec.scaleTargetRef;
  const found = documents.some(
    (d) => d.obj.kind === ref.kind && d.obj.metadata?.name === ref.name &&
      d.obj.apiVersion === (ref.apiVersion ?? d.obj.apiVersion),
  );
  if (!found) {
    problems.push(
      `${where(h.file, h.index, h.obj)}: scaleTargetRef ${ref.kind} ${ref.name} is not among the manifests`,
    );
  }
}

for (const d of deployments) {
  for (const volume of d.obj.spec.template.spec.volumes ?? []) {
    if (!volume.configMap) continue;
    const map = configMaps.find((m) => m.obj.metadata?.name === volume.configMap.name);
    if (!map) {
      if (!volume.configMap.optional) {
        problems.push(
          `${where(d.file, d.index, d.obj)}: volume ${volume.name}: ConfigMap ${volume.configMap.name} is not among the manifests`,
        );
      }
      continue;
    }
    const data = map.obj.data ?? {};
    const items = volume.configMap.items ??
      Object.keys(data).map((key) => ({ key, path: key }));
    for (const item of items) {
      if (!Object.hasOwn(data, item.key)) {
        problems.push(
          `${where(d.file, d.index, d.obj)}: volume ${volume.name}: key "${item.key}" is not in ConfigMap ${volume.configMap.name}`,
        );
        continue;
      }
      const path = normalize(item.path);
      if (path.startsWith("..") || path.startsWith("/")) {
        problems.push(
          `${where(d.file, d.index, d.obj)}: volume ${volume.name}: path "${item.path}" leaves the volume`,
        );
        continue;
      }
      if (extractDir !== null) {
        const target = join(extractDir, volume.name, path);
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, data[item.key]);
      }
    }
  }
}

if (problems.length > 0) {
  for (const p of problems) console.error(p);
  console.error(`${problems.length} problem${problems.length === 1 ? "" : "s"} found`);
  process.exit(1);
}
console.log(
  `ok: ${documents.length} Kubernetes object${documents.length === 1 ? "" : "s"} in ${files.length} file${files.length === 1 ? "" : "s"}`,
);
