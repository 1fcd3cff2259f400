// lucidnet playground: the page draws; lucidnet (the server) trains.
// Every request is a POST of JSON to /api/<action>?session=<this tab's id>; the answers
// are the set-up (points, input heatmaps, sizes) and snapshots (every neuron's heatmap as
// base64 int8, the weights, the losses). No library, no build step.
"use strict";

const FEATURES = ["x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)"];
const DATASETS = { classification: ["circle", "xor", "gauss", "spiral"], regression: ["plane", "reg-gauss"] };
const ACTIVATIONS = ["tanh", "relu", "sigmoid", "linear", "leaky_relu"];
const TEXT_SETTINGS = ["mode", "problem", "dataset", "optimizer", "regularization"];
const LIST_SETTINGS = { features: String, layers: Number, activations: String };
const PALETTE = [[245, 147, 34], [8, 119, 189], [44, 160, 44], [214, 39, 40],
                 [148, 103, 189], [140, 86, 75], [227, 119, 194], [127, 127, 127]];
const WHITE = [232, 234, 235];
const NODE = 40, COLUMN = 120, ROW = 54, TOP = 56, LEFT = 30;

const $ = (id) => document.getElementById(id);
// A new session for every page load: a reload or a duplicated tab never shares one. The
// URL keeps the settings, so a reload rebuilds the same set-up (with new weights).
const SID = Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, "0")).join("");
const SETUPS = ["settings", "upload"];  // the actions that (re)build the server's set-up

const state = {
  setup: null, settings: null, snapshot: null, history: [], playing: false,
  sample: null, neuron: null, stages: null, stage: 0, links: [], maps: [], seq: 0, looping: false,
  settingUp: false,
};
const stats = { frames: 0, fps: 0, times: [] };
window.playground = { state, stats, session: SID };

// --- talking to the server ---------------------------------------------------------------

function url(path) {  // every request but a set-up names the set-up the page shows
  const build = state.setup && !SETUPS.includes(path) ? `&build=${state.setup.snapshot.build}` : "";
  return `/api/${path}?session=${SID}${build}`;
}

async function api(action, body) {
  const sent = state.setup && state.setup.snapshot.build;
  const res = await fetch(url(action), {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body || {}),
  });
  return answer(res, await res.json(), sent);
}

// An error the page need not show: the answer to a request made for a set-up the page has
// already left behind.
class Stale extends Error {}

function report(err) {
  if (!(err instanceof Stale)) showMessage(err.message);
}

// The server has another set-up than the page's, or none (a restart, or too many pages
// open): set up again with the page's settings, once at a time. An uploaded file is gone
// with the session: the page then falls back to the problem's first data set and says so.
async function setUpAgain(why) {
  if (state.settingUp) return;
  state.settingUp = true;
  try {
    if (await change({})) showMessage(`${why}: set up again, with new weights`);
    else if (state.settings.dataset === "upload" && await change({ dataset: DATASETS[state.settings.problem][0] })) {
      showMessage(`${why}: the uploaded file went with it; upload it again`);
    }
  } finally {
    state.settingUp = false;
  }
}

function answer(res, data, sent) {
  if (res.status === 409) {
    if (state.setup && sent !== state.setup.snapshot.build) throw new Stale(data.error);
    setUpAgain(data.error);
    throw new Stale(data.error);
  }
  if (!res.ok) throw new Error(data.error || res.statusText);
  return data;
}

function showMessage(text) {
  $("message").hidden = !text;
  $("message").textContent = text || "";
}

// Every change sends all the settings (so that a server that lost this page's session
// rebuilds the same set-up), except the one that must follow the change: the data set
// follows a new problem, the problem a new data set.
async function change(partial) {
  pause();
  const all = { ...(state.settings || {}), ...partial };
  if ("problem" in partial && !("dataset" in partial)) delete all.dataset;
  if ("dataset" in partial && !("problem" in partial)) delete all.problem;
  try {
    setup(await api("settings", all));
    showMessage("");
    return true;
  } catch (err) {
    report(err);
    syncControls();
    return false;
  }
}

// --- the URL holds the settings -------------------------------------------------------------

function readHash() {
  const out = {};
  for (const [key, value] of new URLSearchParams(location.hash.slice(1))) {
    if (key in LIST_SETTINGS) out[key] = value === "" ? [] : value.split(",").map(LIST_SETTINGS[key]);
    else out[key] = TEXT_SETTINGS.includes(key) ? value : Number(value);
  }
  return out;
}

function writeHash(settings) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(settings)) params.set(key, Array.isArray(value) ? value.join(",") : value);
  history.replaceState(null, "", "#" + params.toString().replace(/%2C/g, ","));
}

// --- colours and heatmaps -----------------------------------------------------------------

function mix(a, b, t) { return a.map((v, i) => Math.round(v + (b[i] - v) * t)); }

// int8 -127..127 -> orange (negative), white (0), blue (positive), as TensorFlow Playground
const SCALE = Array.from({ length: 256 }, (_, i) => {
  const v = Math.max(-127, (i << 24 >> 24)) / 127;
  return v < 0 ? mix(WHITE, PALETTE[0], -v) : mix(WHITE, PALETTE[1], v);
});

function decode(text) {
  const raw = atob(text);
  const out = new Int8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i) << 24 >> 24;
  return out;
}

function paint(canvas, values, classes) {
  const n = Math.round(Math.sqrt(values.length));
  canvas.width = canvas.height = n;
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(n, n);
  const k = state.setup.classes ? state.setup.classes.length : 2;
  for (let i = 0; i < values.length; i++) {
    let rgb;
    if (classes) {  // the winning class, paler the less sure: (v + 1) / 2 is its probability
      const p = (values[i] / 127 + 1) / 2;
      rgb = mix(WHITE, PALETTE[classes[i] % PALETTE.length], Math.max(0, (p - 1 / k) / (1 - 1 / k)) * 0.8);
    } else {
      rgb = SCALE[values[i] & 255];
    }
    img.data.set(rgb, 4 * i);
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

// --- the network diagram ------------------------------------------------------------------

function position(column, row) { return { x: LEFT + column * COLUMN, y: TOP + row * ROW }; }

function node(column, row, data) {
  const el = document.createElement("div");
  el.className = "node";
  const p = position(column, row);
  el.style.left = p.x + "px";
  el.style.top = p.y + "px";
  Object.assign(el.dataset, data);
  el.appendChild(document.createElement("canvas"));
  $("network").appendChild(el);
  return el;
}

function svg(tag, attrs) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  $("links").appendChild(el);
  return el;
}

function buildNetwork() {
  const { settings, setup } = state;
  const net = $("network");
  net.querySelectorAll(".node, .node-label, .layer-head").forEach((el) => el.remove());
  $("links").innerHTML = "";
  const perceptron = settings.mode === "perceptron";
  const hidden = perceptron ? [] : settings.layers;
  const sizes = [settings.features.length, ...hidden, setup.sizes[setup.sizes.length - 1]];
  // inputs: every feature, the chosen ones on; a click switches one on or off
  FEATURES.forEach((name, row) => {
    const on = settings.features.includes(name);
    const el = node(0, row, { feature: name });
    el.classList.toggle("off", !on);
    el.title = on ? `${name} (click to leave out)` : `${name} (click to use)`;
    paint(el.firstChild, decode(setup.inputs[name]));
    el.addEventListener("click", () => toggleFeature(name));
    label(0, row, name);
  });
  state.maps = hidden.map((units, l) => Array.from({ length: units }, (_, j) =>
    node(l + 1, j, { layer: l, neuron: j })));
  hidden.forEach((units, l) => layerHead(l));
  const out = sizes.length - 1;
  const outputs = Array.from({ length: sizes[out] }, (_, j) => {
    const el = node(out, j, { layer: out - 1, neuron: j });
    label(out, j, setup.classes && setup.classes.length > 2 ? `class ${setup.classes[j]}` : "output");
    return el;
  });
  net.querySelectorAll(".node[data-layer]").forEach((el) => el.addEventListener("click", () => pickNeuron(el)));
  // links: one path per weight, drawn from the used inputs' rows
  const rows = [settings.features.map((f) => FEATURES.indexOf(f)), ...sizes.slice(1).map((n) => [...Array(n).keys()])];
  state.links = [];
  for (let d = 0; d < sizes.length - 1; d++) {
    state.links.push(rows[d].map((from, i) => rows[d + 1].map((to, j) => {
      const a = position(d, from), b = position(d + 1, to);
      const x1 = a.x + NODE, y1 = a.y + NODE / 2, x2 = b.x, y2 = b.y + NODE / 2;
      const path = svg("path", { d: `M${x1},${y1} C${(x1 + x2) / 2},${y1} ${(x1 + x2) / 2},${y2} ${x2},${y2}`,
                                class: "editable link", "data-layer": d, "data-source": i, "data-neuron": j });
      return path;
    })));
  }
  state.biases = sizes.slice(1).map((n, d) => [...Array(n).keys()].map((j) => {
    const p = position(d + 1, j);
    return svg("circle", { cx: p.x, cy: p.y + NODE, r: 5, class: "editable bias", "data-layer": d, "data-neuron": j });
  }));
  const height = TOP + Math.max(FEATURES.length, ...sizes) * ROW;
  $("links").setAttribute("width", LEFT + sizes.length * COLUMN);
  $("links").setAttribute("height", height);
  net.style.height = height + "px";
  net.style.width = LEFT + sizes.length * COLUMN + "px";
  state.outputs = outputs;
}

function label(column, row, text) {
  const el = document.createElement("div");
  el.className = "node-label";
  const p = position(column, row);
  el.style.left = p.x + "px";
  el.style.top = p.y + NODE + 2 + "px";
  el.textContent = text;
  $("network").appendChild(el);
}

function layerHead(l) {
  const head = document.createElement("div");
  head.className = "layer-head";
  const p = position(l + 1, 0);
  head.style.left = p.x + "px";
  head.style.top = "0px";
  const units = state.settings.layers[l];
  head.innerHTML = `<button class="neuron-add" title="add a neuron">+</button>` +
    `<button class="neuron-remove" title="remove a neuron">&minus;</button><br>` +
    `${units} neuron${units > 1 ? "s" : ""}<br><select class="layer-activation"></select>`;
  const select = head.querySelector("select");
  ACTIVATIONS.forEach((a) => select.add(new Option(a, a)));
  select.value = state.settings.activations[l];
  head.dataset.layer = l;
  head.querySelector(".neuron-add").addEventListener("click", () => resize(l, +1));
  head.querySelector(".neuron-remove").addEventListener("click", () => resize(l, -1));
  select.addEventListener("change", () => {
    const activations = state.settings.activations.slice();
    activations[l] = select.value;
    change({ activations });
  });
  $("network").appendChild(head);
}

function resize(l, by) {
  const layers = state.settings.layers.slice();
  layers[l] = Math.min(8, Math.max(1, layers[l] + by));
  change({ layers });
}

function toggleFeature(name) {
  if (state.settings.mode === "perceptron") return showMessage("perceptron mode uses x1 and x2");
  const on = state.settings.features.includes(name);
  const features = on ? state.settings.features.filter((f) => f !== name) : [...state.settings.features, name];
  if (features.length) change({ features });
}

// --- drawing a snapshot -------------------------------------------------------------------

// A snapshot of another set-up is either late (asked before the page changed its set-up:
// dropped) or says the server forgot this page's session (asked since: set up again).
// A snapshot's curve points start at entry history_length - history.length; one older
// than what the page shows is dropped.
function drawSnapshot(snap, seq = state.seq) {
  if (snap.build !== state.setup.snapshot.build) {
    if (seq === state.seq) change({});
    return;
  }
  if (snap.history_length < state.history.length) return;
  state.history = state.history.slice(0, snap.history_length - snap.history.length).concat(snap.history);
  state.snapshot = snap;
  $("epoch").textContent = snap.epoch;
  snap.neurons.forEach((maps, l) => maps.forEach((m, j) => paint(state.maps[l][j].firstChild, decode(m))));
  const maps = snap.outputs || [snap.output];  // k classes: each one's probability
  state.outputs.forEach((el, k) => paint(el.firstChild, decode(maps[k])));
  snap.weights.forEach((layer, d) => {
    layer.w.forEach((row, i) => row.forEach((w, j) => {
      const path = state.links[d] && state.links[d][i] && state.links[d][i][j];
      if (!path) return;
      path.setAttribute("stroke", `rgb(${(w < 0 ? PALETTE[0] : PALETTE[1]).join(",")})`);
      path.setAttribute("stroke-width", (0.5 + Math.min(Math.abs(w), 4) * 1.5).toFixed(2));
      path.setAttribute("stroke-opacity", 0.75);
    }));
    layer.b.forEach((b, j) => state.biases[d][j].setAttribute("fill", `rgb(${(b < 0 ? PALETTE[0] : PALETTE[1]).join(",")})`));
  });
  drawOutput();
  drawScores();
  drawCurve();
  drawRule(snap.rule);
  if (snap.message) { showMessage(snap.message); pause(); } else if (snap.stopped) { showMessage(snap.stopped); pause(); }
}

function toPixel(x, y) {
  const [x0, x1, y0, y1] = state.setup.domain;
  const c = $("output");
  return [(x - x0) / (x1 - x0) * c.width, (y1 - y) / (y1 - y0) * c.height];
}

function pointColour(target) {
  if (state.setup.regression) return SCALE[Math.round(Math.max(-1, Math.min(1, target / state.setup.output_scale)) * 127) & 255];
  return PALETTE[target % PALETTE.length];
}

function drawOutput() {
  const c = $("output"), ctx = c.getContext("2d"), snap = state.snapshot;
  const off = document.createElement("canvas");
  const classes = snap.output_class ? Uint8Array.from(atob(snap.output_class), (ch) => ch.charCodeAt(0)) : null;
  paint(off, decode(snap.output), classes);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(off, 0, 0, c.width, c.height);
  const sets = $("show-test").checked ? ["train", "test"] : ["train"];
  for (const set of sets) {
    const { points, targets } = state.setup[set];
    ctx.strokeStyle = set === "train" ? "#fff" : "#000";
    points.forEach(([x, y], i) => {
      const [px, py] = toPixel(x, y);
      ctx.beginPath();
      ctx.arc(px, py, 3.5, 0, 2 * Math.PI);
      ctx.fillStyle = `rgb(${pointColour(Array.isArray(targets[i]) ? targets[i][0] : targets[i]).join(",")})`;
      ctx.fill();
      ctx.stroke();
    });
  }
  if (state.sample) {
    const [x, y] = state.setup[state.sample.set].points[state.sample.index];
    const [px, py] = toPixel(x, y);
    ctx.beginPath();
    ctx.arc(px, py, 8, 0, 2 * Math.PI);
    ctx.lineWidth = 3;
    ctx.strokeStyle = "#e6007e";
    ctx.stroke();
    ctx.lineWidth = 1;
  }
  if (state.settings.mode === "perceptron") drawLine(ctx);
}

function drawLine(ctx) {  // w1 x1 + w2 x2 + b = 0, the perceptron's boundary
  const { w, b } = state.snapshot.weights[0];
  const [w1, w2] = [w[0][0], w[1][0]];
  const [x0, x1, y0, y1] = state.setup.domain;
  const ends = Math.abs(w2) > 1e-12
    ? [[x0, -(w1 * x0 + b[0]) / w2], [x1, -(w1 * x1 + b[0]) / w2]]
    : [[-b[0] / w1, y0], [-b[0] / w1, y1]];
  ctx.beginPath();
  ctx.moveTo(...toPixel(...ends[0]));
  ctx.lineTo(...toPixel(...ends[1]));
  ctx.lineWidth = 2;
  ctx.strokeStyle = "#000";
  ctx.stroke();
  ctx.lineWidth = 1;
}

function fmt(v, digits = 4) { return v === null || v === undefined ? "" : Number(v).toFixed(digits); }

function drawScores() {
  const last = state.snapshot.latest;
  $("train-loss").textContent = fmt(last.train_loss);
  $("test-loss").textContent = fmt(last.test_loss);
  $("train-accuracy").textContent = last.train_accuracy === null ? "" : fmt(last.train_accuracy, 3);
  $("test-accuracy").textContent = last.test_accuracy === null ? "" : fmt(last.test_accuracy, 3);
}

function drawCurve() {
  const c = $("curve"), ctx = c.getContext("2d"), h = state.history;
  ctx.clearRect(0, 0, c.width, c.height);
  if (h.length < 2) return;
  let top = 1e-9;
  for (const p of h) top = Math.max(top, p.train_loss || 0, p.test_loss || 0);
  const end = h[h.length - 1].epoch || 1;
  for (const [key, colour] of [["train_loss", "#999"], ["test_loss", "#000"]]) {
    ctx.beginPath();
    h.forEach((p, i) => {
      const x = (p.epoch / end) * (c.width - 2) + 1, y = c.height - 1 - ((p[key] || 0) / top) * (c.height - 2);
      i ? ctx.lineTo(x, y) : ctx.moveTo(x, y);
    });
    ctx.strokeStyle = colour;
    ctx.stroke();
  }
}

function drawRule(rule) {
  $("rule").hidden = !rule;
  if (!rule) return;
  const terms = rule.x.map((x, i) => `(${fmt(x, 3)})(${fmt(rule.w[i], 3)})`).join(" + ");
  const wrong = rule.step !== 0;
  $("rule").textContent = [
    `Rosenblatt's rule, sample ${rule.index}: x = (${rule.x.map((v) => fmt(v, 3)).join(", ")}), y = ${rule.target}`,
    `z = x·w + b = ${terms} + (${fmt(rule.b, 3)}) = ${fmt(rule.z, 3)}`,
    `y_hat = step(z) = ${rule.y_hat}: ${wrong ? "wrong" : "right, no change"}`,
    ...(wrong ? [
      `w <- w + lr (y - y_hat) x = (${rule.new_w.map((v) => fmt(v, 3)).join(", ")})`,
      `b <- b + lr (y - y_hat) = ${fmt(rule.new_b, 3)}`] : []),
  ].join("\n");
}

// --- picking a sample and a neuron --------------------------------------------------------

function pickSample(event) {
  const c = $("output"), r = c.getBoundingClientRect();
  const px = (event.clientX - r.left) * (c.width / r.width), py = (event.clientY - r.top) * (c.height / r.height);
  let best = null;
  for (const set of $("show-test").checked ? ["train", "test"] : ["train"]) {
    state.setup[set].points.forEach(([x, y], index) => {
      const [qx, qy] = toPixel(x, y), d = Math.hypot(qx - px, qy - py);
      if (d < 12 && (!best || d < best.d)) best = { set, index, d };
    });
  }
  if (!best) return;
  state.sample = { set: best.set, index: best.index };
  showSample();
  drawOutput();
  if (state.neuron) showNeuron();
}

function showSample() {
  const s = state.sample;
  if (!s) { $("sample-info").textContent = ""; return; }
  const [x, y] = state.setup[s.set].points[s.index];
  const t = state.setup[s.set].targets[s.index];
  const target = state.setup.regression ? fmt(Array.isArray(t) ? t[0] : t) : state.setup.classes[t];
  $("sample-info").textContent = `Sample ${s.index} of the ${s.set} set: (${fmt(x, 3)}, ${fmt(y, 3)}), target ${target}`;
}

function pickNeuron(el) {
  if (state.settings.mode === "perceptron") return showMessage("perceptron mode: the rule's numbers appear under the output after each step");
  document.querySelectorAll(".node.selected").forEach((n) => n.classList.remove("selected"));
  el.classList.add("selected");
  state.neuron = { layer: Number(el.dataset.layer), neuron: Number(el.dataset.neuron) };
  if (!state.sample) { state.sample = { set: "train", index: 0 }; showSample(); drawOutput(); }
  showNeuron();
}

async function showNeuron() {
  try {
    const n = await api("neuron", { ...state.sample, ...state.neuron });
    renderNeuron(n);
  } catch (err) { report(err); }
}

function vec(a, digits = 4) { return "[" + a.map((v) => fmt(v, digits)).join(", ") + "]"; }

function target(y) {  // a class index is named; values are shown as numbers
  const classes = state.setup.classes;
  return classes && classes.length > 2 ? `class ${classes[y[0]]}` : vec(y, 3);
}

function renderNeuron(n) {
  const last = n.layer === state.settings.layers.length || state.settings.mode === "perceptron";
  $("neuron-title").textContent = `Neuron ${n.neuron + 1} of ${last ? "the output layer" : `hidden layer ${n.layer + 1}`} (${n.activation})`;
  const terms = n.inputs.map((name, i) => `${name}: ${fmt(n.x[i])} × ${fmt(n.w[i])} +`).join("\n");
  const penalty = (n.l2 ? ` + 2·${n.l2}·w` : "") + (n.l1 ? ` + ${n.l1}·sign(w)` : "");
  const rows = [
    ["z", "z = x·w + b", `${terms}\nbias: ${fmt(n.b)}\n= ${fmt(n.z)}`],
    ["a", `a = ${n.activation.toLowerCase()}(z)`, fmt(n.a)],
    ["loss", "L (this sample)", `${fmt(n.loss)}   (y = ${target(n.y)}, y_hat = ${vec(n.y_hat)})`],
    ["grad_a", "dL/da", fmt(n.grad_a)],
    ["local", `f'(z) = ${n.derivative}`, n.local === null ? "(softmax: a Jacobian, see the trace)" : fmt(n.local)],
    ["delta", n.fused ? "δ = dL/dz (y_hat − y, fused)" : "δ = dL/dz = dL/da · f'(z)", fmt(n.delta)],
    ["grad_w", `dL/dw = x δ${penalty}`, vec(n.grad_w)],
    ["grad_b", "dL/db = δ", fmt(n.grad_b)],
    ["new_w", `w ← w − ${n.learning_rate} dL/dw`, vec(n.new_w)],
    ["new_b", `b ← b − ${n.learning_rate} dL/db`, fmt(n.new_b)],
  ];
  $("neuron-numbers").innerHTML = "";
  for (const [key, what, value] of rows) {
    const tr = $("neuron-numbers").insertRow();
    tr.id = "n-" + key;
    tr.insertCell().outerHTML = `<th></th>`;
    tr.cells[0].textContent = what;
    tr.insertCell().textContent = value;
  }
  $("trace-text").textContent = n.text;
  $("neuron-panel").hidden = false;
}

// --- one step, slowly ---------------------------------------------------------------------

async function oneStep() {
  pause();
  if (state.settings.mode === "perceptron") return showMessage("perceptron mode: press step to apply the rule to one sample");
  if (!state.sample) { state.sample = { set: "train", index: 0 }; showSample(); drawOutput(); }
  try {
    state.stages = (await api("onestep", state.sample)).stages;
    state.stage = 0;
    showStage();
  } catch (err) { report(err); }
}

function showStage() {
  const stage = state.stages[state.stage], last = state.stage === state.stages.length - 1;
  $("stage").hidden = false;
  $("stage-title").textContent = `${stage.phase}: ${stage.title || "result"}`;
  $("stage-text").textContent = stage.text;
  $("stage-count").textContent = `${state.stage + 1} / ${state.stages.length}`;
  $("stage-prev").disabled = state.stage === 0;
  $("stage-next").disabled = last;
  $("stage-apply").hidden = !last;
  document.querySelectorAll(".node.highlight").forEach((n) => n.classList.remove("highlight"));
  if (stage.layer !== null) document.querySelectorAll(`.node[data-layer="${stage.layer}"]`).forEach((n) => n.classList.add("highlight"));
}

function closeStages() {
  state.stages = null;
  $("stage").hidden = true;
  document.querySelectorAll(".node.highlight").forEach((n) => n.classList.remove("highlight"));
}

async function applyStep() {
  try {
    const seq = state.seq;
    drawSnapshot(await api("apply", { ...state.sample, history_length: state.history.length }), seq);
    if (state.neuron) showNeuron();
  } catch (err) { report(err); }
  closeStages();
}

// --- editing a weight ---------------------------------------------------------------------

function weightOf(el) {
  const d = Number(el.dataset.layer), j = Number(el.dataset.neuron), layer = state.snapshot.weights[d];
  if (el.classList.contains("bias")) return { d, source: null, j, value: layer.b[j], name: `bias of neuron ${j + 1}, layer ${d + 1}` };
  const i = Number(el.dataset.source);
  return { d, source: i, j, value: layer.w[i][j], name: `weight ${i + 1} → ${j + 1}, layer ${d + 1}` };
}

function hover(event) {
  const el = event.target;
  if (!el.classList || !el.classList.contains("editable")) { $("tooltip").hidden = true; return; }
  const w = weightOf(el), box = $("network-area").getBoundingClientRect();
  $("tooltip").textContent = `${w.name} = ${fmt(w.value)}`;
  $("tooltip").style.left = event.clientX - box.left + 12 + "px";
  $("tooltip").style.top = event.clientY - box.top + 12 + "px";
  $("tooltip").hidden = false;
}

function editWeight(event) {
  const el = event.target;
  if (!el.classList || !el.classList.contains("editable")) return;
  if (state.settings.mode === "perceptron") return showMessage("perceptron mode: Rosenblatt's rule sets the weights; edit them in network mode");
  pause();
  const w = weightOf(el), box = $("network-area").getBoundingClientRect(), form = $("weight-editor");
  state.editing = w;
  $("weight-name").textContent = w.name;
  $("weight-value").value = fmt(w.value);
  form.style.left = event.clientX - box.left + "px";
  form.style.top = event.clientY - box.top + "px";
  form.hidden = false;
  $("weight-value").focus();
}

async function submitWeight(event) {
  event.preventDefault();
  const w = state.editing;
  try {
    const value = Number($("weight-value").value), seq = state.seq;
    drawSnapshot(await api("weight", { layer: w.d, source: w.source, neuron: w.j, value, history_length: state.history.length }), seq);
    closeStages();
    $("weight-editor").hidden = true;
    if (state.neuron) showNeuron();
  } catch (err) { report(err); }
}

// --- playing ------------------------------------------------------------------------------

function countFrame() {
  const now = performance.now();
  stats.frames += 1;
  stats.times.push(now);
  while (stats.times[0] < now - 1000) stats.times.shift();
  stats.fps = stats.times.length;
  $("fps").textContent = stats.fps;
}

function trainFrame() {
  return api("train", { epochs: state.settings.epochs_per_frame, history_length: state.history.length });
}

// The next epoch is asked for as soon as a frame is drawn, so that the server trains while
// the browser paints. A frame answered after a pause is still drawn: the server took it.
async function loop() {
  state.looping = true;
  closeStages();  // a step shown before training would no longer be the step taken
  try {
    let seq = state.seq, pending = trainFrame();
    while (true) {
      let snap;
      try { snap = await pending; } catch (err) { report(err); pause(); break; }
      drawSnapshot(snap, seq);
      if (!state.playing) break;
      countFrame();
      seq = state.seq;
      pending = trainFrame();
      await new Promise((resolve) => requestAnimationFrame(resolve));
    }
  } catch (err) {  // a drawing failed: say so; play can start again
    showMessage(`the page failed to draw: ${err.message}`);
    pause();
  } finally {
    state.looping = false;
  }
}

function play() {
  if (state.playing) return pause();
  showMessage("");
  state.playing = true;
  $("play").textContent = "❚❚ pause";
  if (!state.looping) loop();
}

function pause() {
  state.playing = false;
  $("play").textContent = "▶ play";
}

async function step() {
  pause();
  const body = state.settings.mode === "perceptron" ? { epochs: 0, samples: 1 } : { epochs: 1 };
  const seq = state.seq;
  closeStages();
  try { drawSnapshot(await api("train", { ...body, history_length: state.history.length }), seq); }
  catch (err) { report(err); }
}

// --- set-up and controls ------------------------------------------------------------------

function setup(data) {
  const restarted = !state.setup || data.snapshot.build !== state.setup.snapshot.build;
  state.seq += 1;
  state.setup = data;
  state.settings = data.settings;
  if (restarted) {
    state.sample = null;
    closeStages();
    $("neuron-panel").hidden = true;
  }
  state.history = [];
  writeHash(data.settings);
  syncControls();
  buildNetwork();
  if (state.neuron) {
    const el = document.querySelector(`.node[data-layer="${state.neuron.layer}"][data-neuron="${state.neuron.neuron}"]`);
    if (el && !restarted) el.classList.add("selected"); else state.neuron = null;
  }
  if (state.neuron && state.sample) showNeuron();  // a live change: the numbers change too
  drawSnapshot(data.snapshot);
  showSample();
}

function syncControls() {
  const s = state.settings;
  if (!s) return;
  const datasets = $("dataset");
  datasets.innerHTML = "";
  [...DATASETS[s.problem], ...(s.dataset === "upload" ? ["upload"] : [])].forEach((d) => datasets.add(new Option(d, d)));
  for (const el of document.querySelectorAll("[data-setting]")) {
    const value = s[el.dataset.setting];
    if (el.tagName === "SELECT" && ![...el.options].some((o) => o.value === String(value))) el.add(new Option(value, value));
    el.value = value;
    const out = document.querySelector(`output[for="${el.id}"]`);
    if (out) out.textContent = value;
  }
  $("layer-count").textContent = s.layers.length;
  const perceptron = s.mode === "perceptron";
  $("layer-controls").hidden = perceptron;
  $("classes").disabled = !["gauss", "spiral"].includes(s.dataset);
}

function controlValue(el) {
  return TEXT_SETTINGS.includes(el.dataset.setting) ? el.value : Number(el.value);
}

async function upload() {
  const file = $("upload").files[0];
  if (!file) return;
  if (file.size > 1 << 20) return showMessage(`${file.name}: ${file.size} bytes; the playground takes at most 1 MiB`);
  pause();
  try {
    setup(await api("upload", { name: file.name, text: await file.text(), settings: state.settings }));
    showMessage("");
  } catch (err) { report(err); }
  $("upload").value = "";
}

async function exportAs(format) {
  if (state.settings.mode === "perceptron") return showMessage("perceptron mode has no network to export; switch to network mode");
  try {
    const res = await fetch(`${url("export")}&format=${format}`);
    if (!res.ok) return answer(res, await res.json());
    const a = document.createElement("a");
    a.href = URL.createObjectURL(await res.blob());
    a.download = format === "lucid" ? "playground.lucid" : "playground.py";
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  } catch (err) { report(err); }
}

function wire() {
  for (const el of document.querySelectorAll("[data-setting]")) {
    el.addEventListener("change", () => change({ [el.dataset.setting]: controlValue(el) }));
    el.addEventListener("input", () => {
      const out = document.querySelector(`output[for="${el.id}"]`);
      if (out) out.textContent = el.value;
    });
  }
  $("play").addEventListener("click", play);
  $("step").addEventListener("click", step);
  $("reset").addEventListener("click", async () => {
    pause();
    try { setup(await api("reset")); } catch (err) { report(err); }
  });
  $("add-layer").addEventListener("click", () => {
    if (state.settings.layers.length < 6) change({ layers: [...state.settings.layers, 2] });
  });
  $("remove-layer").addEventListener("click", () => {
    if (state.settings.layers.length) change({ layers: state.settings.layers.slice(0, -1) });
  });
  $("output").addEventListener("click", pickSample);
  $("show-test").addEventListener("change", drawOutput);
  $("onestep").addEventListener("click", oneStep);
  $("stage-next").addEventListener("click", () => { state.stage += 1; showStage(); });
  $("stage-prev").addEventListener("click", () => { state.stage -= 1; showStage(); });
  $("stage-apply").addEventListener("click", applyStep);
  $("links").addEventListener("mousemove", hover);
  $("links").addEventListener("mouseleave", () => { $("tooltip").hidden = true; });
  $("links").addEventListener("click", editWeight);
  $("weight-editor").addEventListener("submit", submitWeight);
  $("weight-cancel").addEventListener("click", () => { $("weight-editor").hidden = true; });
  $("upload").addEventListener("change", upload);
  $("export-lucid").addEventListener("click", () => exportAs("lucid"));
  $("export-python").addEventListener("click", () => exportAs("python"));
}

async function start() {
  wire();
  try {
    setup(await api("settings", readHash()));
  } catch (err) {  // a shared URL with a setting the server refuses: say so, use the defaults
    showMessage(`${err.message} (the address's settings were not used)`);
    setup(await api("settings", {}));
  }
  document.body.dataset.ready = "true";
}

start();
