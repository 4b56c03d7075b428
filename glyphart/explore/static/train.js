// glyphart explore: the training panel. Its form is made from the preset specification (the
// server sends every field with its documentation, range, choices and the kinds it acts on);
// the training runs as a child process beside the studio, whose live sheet, numbers and
// loss/bits curve this page polls every second. Closing the tab leaves it running; a page
// opened later finds it again. Shares the page's globals from app.js: $, info, update, check.
"use strict";
const TRAIN_POLL_MS = 1000;
let trainForm = null, trainShown = {sheet: null, state: "", name: ""};

async function post(url, body) {
  return (await check(await fetch(url, {method: "POST", headers: {"content-type": "application/json"},
                                          body: JSON.stringify(body)}))).json();
}
function trainSay(text) { $("train-error").textContent = text || ""; }

// -- the form ------------------------------------------------------------------------------------
async function openTraining(source) {
  $("train").hidden = false; $("grid-pane").hidden = $("panel").hidden = true;
  try {
    trainForm = await (await check(await fetch("/api/train/form?preset=" + encodeURIComponent(source)))).json();
  } catch (e) { return trainSay(e.message); }
  $("train-from").replaceChildren(...trainForm.sources.map((n) => new Option(n, n)));
  $("train-from").value = trainForm.name;
  if (!$("train-name").value || $("train-name").dataset.auto === "1") {
    $("train-name").value = trainForm.origin === "user" ? trainForm.name : `my-${trainForm.name}`;
    $("train-name").dataset.auto = "1";
  }
  $("train-description").value = trainForm.description;
  $("train-form").replaceChildren(...trainForm.groups.map(group));
  showKinds(); trainSay("");
}
function closeTraining() { $("train").hidden = true; $("grid-pane").hidden = $("panel").hidden = false; }

function group(g) {
  const box = document.createElement("fieldset");
  box.dataset.table = g.table;
  box.append(Object.assign(document.createElement("legend"), {textContent: `[${g.table}]`}));
  for (const f of g.fields || g.tables) box.append(f.type === "table" ? subTable(g.table, f) : row(g.table, f));
  return box;
}
function subTable(table, t) {
  const box = document.createElement("fieldset");
  box.className = "sub"; box.dataset.kinds = (t.kinds || []).join(",");
  const on = Object.assign(document.createElement("input"), {type: "checkbox", checked: t.on});
  on.dataset.sub = t.key; on.className = "sub-on";
  const legend = document.createElement("legend");
  legend.append(on, ` [${table}.${t.key}]`); legend.title = t.doc;
  box.append(legend);
  for (const f of t.fields) box.append(row(table, f, t.key));
  const sync = () => box.classList.toggle("off", !on.checked);
  on.onchange = sync; sync();
  return box;
}
function row(table, f, sub = "") {
  const label = document.createElement("label");
  label.className = "field"; label.title = f.doc || ""; label.dataset.kinds = (f.kinds || []).join(",");
  const input = fieldInput(f);
  Object.assign(input.dataset, {table, sub, key: f.key, type: f.type, numeric: f.choices && typeof f.choices[0] === "number" ? "1" : ""});
  const about = [f.doc, range(f)].filter(Boolean).join(" · ");
  label.append(Object.assign(document.createElement("span"), {className: "key", textContent: f.key}), input,
               Object.assign(document.createElement("small"), {textContent: about}));
  if (table === "model" && f.key === "generator") input.addEventListener("change", showKinds);
  return label;
}
function fieldInput(f) {
  if (f.type === "bool") return Object.assign(document.createElement("input"), {type: "checkbox", checked: !!f.value});
  if (f.choices) {
    const s = document.createElement("select");
    for (const c of f.choices) s.add(new Option(String(c), String(c)));
    s.value = String(f.value ?? f.default); return s;
  }
  const input = document.createElement("input");
  if (f.type === "int" || f.type === "float") {
    Object.assign(input, {type: "number", step: f.type === "int" ? "1" : "any"});
    if (f.lo !== null) input.min = f.lo;
    if (f.hi !== null) input.max = f.hi;
  }
  input.value = f.value === null ? "" : Array.isArray(f.value) ? f.value.join(", ") : String(f.value);
  input.placeholder = f.unset || (Array.isArray(f.default) ? f.default.join(", ") : String(f.default));
  return input;
}
function range(f) {
  if (f.lo === null && f.hi === null) return "";
  return `${f.lo} to ${f.hi}` + (f.length ? ` (${Array.isArray(f.length) ? f.length.join("-") : f.length} items)` : "");
}
// Only what acts on the chosen generator is shown (and sent).
function generator() {
  const g = document.querySelector('#train-form [data-table=model][data-key=generator]');
  return g ? g.value : trainForm.kind;
}
function applies(el) { return !el.dataset.kinds || el.dataset.kinds.split(",").includes(generator()); }
function showKinds() {
  for (const el of document.querySelectorAll("#train-form [data-kinds]")) el.hidden = !applies(el);
}

// The form's values as the TOML's tables: an empty box or a hidden field is left out (its
// default), a table switched off is left out; the server checks every value.
function formValues() {
  const out = {description: $("train-description").value, model: {}, channel: {}, train: {}, render: {}};
  const on = [...document.querySelectorAll("#train-form .sub-on")].filter((c) => c.checked && !c.closest("[hidden]"));
  for (const c of on) out[c.closest("fieldset[data-table]").dataset.table][c.dataset.sub] = {};
  for (const el of document.querySelectorAll("#train-form [data-key]")) {
    const {table, sub, key, type} = el.dataset;
    if (el.closest("[hidden]") || (sub && !out[table][sub])) continue;
    const value = readField(el, type);
    if (value !== undefined) (sub ? out[table][sub] : out[table])[key] = value;
  }
  return out;
}
function readField(el, type) {
  if (type === "bool") return el.checked;
  const text = el.value.trim();
  if (el.tagName === "SELECT") return el.dataset.numeric ? Number(text) : text;
  if (text === "") return undefined;
  if (type === "int" || type === "float") return /^-?[0-9.eE+-]+$/.test(text) && isFinite(+text) ? +text : text;
  if (type === "ints" || type === "floats") {
    const items = text.split(",").map((x) => x.trim());
    return items.every((x) => x !== "" && isFinite(+x)) ? items.map(Number) : text;
  }
  return text;
}

// -- actions ----------------------------------------------------------------------------------
async function startTraining() {
  trainSay("");
  try {
    const r = await post("/api/train/start", {from: $("train-from").value, name: $("train-name").value.trim(), values: formValues()});
    if (r.saved) { trainSay(`saved ${r.saved} (only [render] changed: nothing to train)`); await reloadPresets(r.saved); }
    pollTraining();
  } catch (e) { trainSay(e.message); }
}
async function resumeTraining() {
  trainSay("");
  try { await post("/api/train/start", {name: $("train-name").value.trim(), resume: true}); pollTraining(); }
  catch (e) { trainSay(e.message); }
}
async function stopTraining() {
  try { await post("/api/train/stop", {}); pollTraining(); } catch (e) { trainSay(e.message); }
}
// The picker learns of a preset a training made (app.js built it from /api/presets).
async function reloadPresets(select) {
  const fresh = await (await check(await fetch("/api/presets"))).json();
  info.presets = fresh.presets;
  const have = new Set([...$("preset").options].map((o) => o.value));
  for (const p of fresh.presets) if (!have.has(p.name)) $("preset").add(new Option(`${p.name} (${p.origin})`, p.name));
  if (select) { $("train-open-preset").dataset.name = select; $("train-open-preset").hidden = false; }
}

// -- watching -----------------------------------------------------------------------------------
let pollTimer = null;
async function pollTraining() {
  clearTimeout(pollTimer);
  try { showStatus(await (await check(await fetch("/api/train/status"))).json()); }
  catch (e) { trainSay(e.message); }
  pollTimer = setTimeout(pollTraining, TRAIN_POLL_MS);
}
function showStatus(s) {
  const busy = s.state === "training" || s.state === "stopping";
  if (busy && $("train").hidden && trainShown.state === "") openTraining(s.name);   // reattach
  if (s.name) { $("train-name").value = s.name; $("train-name").dataset.auto = "0"; }
  $("train-start").disabled = busy; $("train-stop").disabled = s.state !== "training";
  const stoppedEarlier = s.state === "idle" && trainForm && trainForm.resumable;  // a studio ago
  $("train-resume").hidden = !(s.state === "stopped" || stoppedEarlier);
  const p = s.progress;
  $("train-state").textContent = s.state === "idle" ? "" : `${s.name}: ${s.state}` + (s.error ? ` (${s.error})` : "");
  $("train-numbers").textContent = p ? numbers(p) : "";
  if (s.sheet && s.sheet !== trainShown.sheet) $("train-sheet").src = "/api/train/sheet?v=" + s.sheet;
  if (p) drawCurve(p.curve);
  if ((s.state === "finished" || s.state === "stopped") && trainShown.state !== s.state) reloadPresets(s.name);
  trainShown = {sheet: s.sheet, state: s.state, name: s.name || ""};
  window.glyphart.training = s;   // the browser tests read it
}
function numbers(p) {
  const left = p.seconds_left === null ? "" : ` · ${clockText(p.seconds_left)} left`;
  return `step ${p.step} of ${p.steps} · ${p.steps_per_second.toFixed(1)} steps/s${left}` +
         (p.loss !== null ? ` · loss ${p.loss.toFixed(4)}` : "") + (p.bits !== null ? ` · ${p.bits.toFixed(1)} bits` : "");
}
function clockText(s) { s = Math.round(s); return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`; }
function drawCurve(curve) {
  const c = $("train-curve"), g = c.getContext("2d"), w = c.width, h = c.height, pad = 4;
  g.clearRect(0, 0, w, h);
  if (!curve || curve.length < 2) return;
  const x = (s) => pad + (w - 2 * pad) * (s - curve[0][0]) / Math.max(1, curve[curve.length - 1][0] - curve[0][0]);
  for (const [i, colour] of [[1, "#ffb300"], [2, "#6cf"]]) {
    const ys = curve.map((p) => p[i]).filter((v) => v !== null);
    if (!ys.length) continue;
    const lo = Math.min(...ys), hi = Math.max(...ys), y = (v) => h - pad - (h - 2 * pad) * (v - lo) / Math.max(1e-9, hi - lo);
    g.strokeStyle = colour; g.beginPath();
    curve.filter((p) => p[i] !== null).forEach((p, k) => (k ? g.lineTo : g.moveTo).call(g, x(p[0]), y(p[i])));
    g.stroke(); g.fillStyle = colour;
    g.fillText(`${i === 1 ? "loss" : "bits"} ${ys[ys.length - 1].toFixed(i === 1 ? 3 : 1)}`, i === 1 ? pad : w - 70, 12);
  }
}

function wireTraining() {
  $("train-open").onclick = () => openTraining($("preset").value);
  $("train-close").onclick = closeTraining;
  $("train-from").onchange = (e) => openTraining(e.target.value);
  $("train-name").oninput = () => { $("train-name").dataset.auto = "0"; };
  $("train-start").onclick = startTraining; $("train-stop").onclick = stopTraining; $("train-resume").onclick = resumeTraining;
  $("train-open-preset").onclick = (e) => { closeTraining(); update({preset: e.target.dataset.name, keys: [], t: 0}); };
  pollTraining();
}
wireTraining();
