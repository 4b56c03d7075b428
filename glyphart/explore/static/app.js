// glyphart explore: one page, no build step. The view is one JSON state; the URL's hash carries
// it (reload or share the link: the same view), undo/redo walk it.
"use strict";
const $ = (id) => document.getElementById(id);
const PAGE = 48;                       // tiles added per scroll step
const DEFAULTS = {preset: "", palette: "", inks: "", paper: "", blend: "", tile: 128,
                  start: 0, seed: 0, keys: [], t: 0, interp: "slerp", native: false};
const PAINT_KEYS = ["palette", "inks", "paper", "blend"];
let info = null, state = null, undo = [], redo = [], shown = 0, playing = null;
const client = Math.random().toString(36).slice(2);
window.glyphart = {frames: 0, full: 0, requested: 0};   // counters the browser tests and bench read

// -- state <-> URL --------------------------------------------------------------------------
function fromHash() {
  const p = new URLSearchParams(location.hash.slice(1)), s = {...DEFAULTS};
  for (const k of ["preset", "palette", "inks", "paper", "blend", "interp"]) if (p.has(k)) s[k] = p.get(k);
  for (const k of ["tile", "start", "seed"]) if (p.has(k) && /^\d+$/.test(p.get(k))) s[k] = +p.get(k);
  if (p.has("t")) s.t = Math.min(1, Math.max(0, +p.get("t") || 0));
  if (p.get("keys")) s.keys = p.get("keys").split(",").filter((x) => /^\d+$/.test(x)).map(Number);
  s.native = p.get("native") === "1";
  return s;
}
function toHash(s) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(s)) {
    if (k === "keys") { if (v.length) p.set(k, v.join(",")); }
    else if (k === "native") { if (v) p.set(k, "1"); }
    else if (v !== "" && v !== DEFAULTS[k]) p.set(k, String(v));
  }
  if (s.preset) p.set("preset", s.preset);
  return "#" + p.toString();
}
// Change the view. `record`: an undo step (a slider drag records once, when it is let go).
function update(change, record = true) {
  const before = JSON.stringify(state);
  const next = {...state, ...change};
  if (JSON.stringify(next) === before) return;
  if (record) { undo.push(before); redo = []; }
  apply(next, state);
}
// A move of the slider costs the page little: no layout is read (bigSize's width comes from the
// ResizeObserver), the tiles are marked only when the picks change, and the URL is written
// when the view comes to rest (Chromium also throttles a flood of replaceState).
function apply(next, prev) {
  state = next;
  if (moving) urlBehind = true; else writeUrl();
  const paintChanged = !prev || PAINT_KEYS.some((k) => prev[k] !== state[k]) || prev.preset !== state.preset;
  if (paintChanged || prev.start !== state.start || prev.tile !== state.tile) rebuildGrid();
  else if (prev.seed !== state.seed || prev.keys !== state.keys) markTiles();
  syncControls();
  drawBig();
  if (!prev || prev.seed !== state.seed || prev.preset !== state.preset) remember(state.seed);
}

let urlBehind = false;
function writeUrl() { urlBehind = false; history.replaceState(null, "", toHash(state)); }

// -- requests -------------------------------------------------------------------------------
function paintQuery(s = state) {
  const p = new URLSearchParams({preset: s.preset});
  for (const k of PAINT_KEYS) if (s[k]) p.set(k, s[k]);
  return p;
}
function tileUrl(seed) {
  const p = paintQuery(); p.set("seed", seed); p.set("size", state.tile);
  return "/api/tile?" + p;
}
function showError(text) { $("error").textContent = text || ""; }
async function check(response) {
  if (!response.ok) throw new Error((await response.text()).trim());
  return response;
}

// -- the grid: tiles by seed, endless ----------------------------------------------------------
function rebuildGrid() {
  $("grid").innerHTML = ""; shown = 0;
  document.documentElement.style.setProperty("--tile", state.tile + "px");
  addTiles();
}
function addTiles() {
  const grid = $("grid");
  for (let i = 0; i < PAGE; i++, shown++) {
    const seed = state.start + shown, div = document.createElement("div"), img = new Image();
    div.className = "tile"; div.dataset.seed = seed;
    img.alt = "glyph " + seed; img.decoding = "async"; img.src = tileUrl(seed);
    img.width = img.height = state.tile;
    const label = document.createElement("span"); label.textContent = seed;
    div.append(img, label);
    div.addEventListener("click", (e) => pick(seed, e.shiftKey || e.ctrlKey || e.metaKey));
    grid.append(div);
  }
  markTiles();
}
function markTiles() {
  for (const div of $("grid").children) {
    const seed = +div.dataset.seed, at = state.keys.indexOf(seed);
    div.classList.toggle("focus", seed === state.seed);
    div.classList.toggle("picked", at >= 0);
    if (at >= 0) div.dataset.order = at + 1;
  }
}
function pick(seed, toWalk) {
  if (!toWalk) return update({seed, t: 0});
  const keys = state.keys.includes(seed) ? state.keys.filter((k) => k !== seed) : [...state.keys, seed].slice(0, 16);
  update({keys, seed, t: 0});
}
new IntersectionObserver((entries) => {
  if (entries.some((e) => e.isIntersecting) && state) addTiles();
}, {root: $("grid-pane"), rootMargin: "400px"}).observe($("more"));

// -- the large view: live frames over a websocket, newest request wins -------------------------
// While the view moves (a slider drag, play, a held arrow key) it asks for PREVIEW px frames,
// which the canvas enlarges; SETTLE_MS after the last move it asks for the full size, which is
// put on the canvas pixel for pixel: the view at rest is always the exact full render.
const PREVIEW = 256, SETTLE_MS = 120;
let socket = null, sent = 0, drawnId = 0, pending = null, moving = false, settle = null;
const asked = new Map();               // id -> a request not yet answered
function connect() {
  socket = new WebSocket(`ws://${location.host}/ws`);
  socket.binaryType = "arraybuffer";
  socket.onopen = () => { if (pending) socket.send(pending); };
  socket.onclose = () => setTimeout(connect, 500);
  socket.onmessage = async (e) => {
    if (typeof e.data === "string") { const m = JSON.parse(e.data); return showError(m.error); }
    const id = new DataView(e.data).getUint32(0), request = asked.get(id);
    for (const k of asked.keys()) if (k <= id) asked.delete(k);
    if (id < drawnId || !request) return;
    const pixels = await decodeFrame(e.data);
    if (id < drawnId) return;          // a newer frame was drawn while this one inflated
    drawnId = id;
    showFrame(pixels, $("big"), request.preview ? bigSize() : 0);
    window.glyphart.frames++;
    if (!request.preview) window.glyphart.full++;
    window.glyphart.shown = request;
    showError("");
  };
}
const LITTLE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const INFLATES = typeof DecompressionStream === "function";
async function inflate(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
// A frame (glyphart/explore/wire.py) -> ImageData.
async function decodeFrame(data) {
  const head = new DataView(data), w = head.getUint16(4), h = head.getUint16(6);
  const kind = head.getUint8(8), pixels = new ImageData(w, h), out = pixels.data;
  if (kind === 0) {                     // RGB rows
    const rgb = new Uint8Array(data, 9);
    for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
      out[j] = rgb[i]; out[j + 1] = rgb[i + 1]; out[j + 2] = rgb[i + 2]; out[j + 3] = 255; }
    return pixels;
  }
  // a colour table, then a coverage byte a pixel (kind 2: deflated)
  const t = new Uint8Array(data, 9, 768), body = new Uint8Array(data, 9 + 768);
  const levels = kind === 2 ? await inflate(body) : body;
  if (LITTLE) {
    const lut = new Uint32Array(256), px = new Uint32Array(out.buffer);
    for (let i = 0; i < 256; i++) lut[i] = 0xff000000 | t[3 * i + 2] << 16 | t[3 * i + 1] << 8 | t[3 * i];
    for (let i = 0; i < levels.length; i++) px[i] = lut[levels[i]];
  } else {
    for (let i = 0, j = 0; i < levels.length; i++, j += 4) {
      const k = 3 * levels[i]; out[j] = t[k]; out[j + 1] = t[k + 1]; out[j + 2] = t[k + 2]; out[j + 3] = 255; }
  }
  return pixels;
}
// Pixels onto the canvas: at their own size, or enlarged to `enlarge` px (a preview).
function showFrame(pixels, canvas, enlarge = 0) {
  const w = pixels.width, h = pixels.height, g = canvas.getContext("2d");
  const size = enlarge > w ? enlarge : 0;
  if (!size) {
    if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
    return g.putImageData(pixels, 0, 0);
  }
  if (canvas.width !== size) { canvas.width = canvas.height = size; }
  const small = showFrame.small || (showFrame.small = document.createElement("canvas"));
  small.width = w; small.height = h; small.getContext("2d").putImageData(pixels, 0, 0);
  g.imageSmoothingEnabled = true; g.drawImage(small, 0, 0, size, size);
}
async function drawFrame(data, canvas) { showFrame(await decodeFrame(data), canvas); }
function walkKeys() { return state.keys.length >= 2 ? state.keys : [state.seed]; }
function phase(s = state) {            // slider 0..1 -> the loop's phase: first key to last
  const n = walkKeys().length;
  return n < 2 ? 0 : s.t * (n - 1) / n;
}
function bigSize() {
  const preset = info && info.presets.find((p) => p.name === state.preset);
  if (state.native && preset) return preset.size;
  const px = Math.round((wrapWidth || $("big-wrap").clientWidth) * (window.devicePixelRatio || 1));
  return Math.max(16, Math.min(2048, px || 512));
}
// The view is moving: frames are previews until it rests for SETTLE_MS. `t`: the phase shown
// when it is not the state's (playing).
let motionT, wrapWidth = 0;
function moved(t) {
  moving = true; motionT = t;
  clearTimeout(settle);
  settle = setTimeout(rest, SETTLE_MS);
}
function rest() {
  clearTimeout(settle);
  if (!moving) return;
  moving = false;
  if (urlBehind) writeUrl();
  drawBig(motionT);
}
function drawBig(t) {
  if (!state.preset) return;
  const full = bigSize(), preview = moving && full > PREVIEW;
  const message = {id: ++sent, preset: state.preset, keys: walkKeys().join(","),
                   t: t === undefined ? phase() : t, interp: state.interp,
                   size: preview ? PREVIEW : full, deflate: INFLATES};
  for (const k of PAINT_KEYS) if (state[k]) message[k] = state[k];
  asked.set(message.id, {...message, preview});
  window.glyphart.requested++;
  pending = JSON.stringify(message);
  if (socket && socket.readyState === 1) socket.send(pending);
  $("big").classList.toggle("native", state.native);
  const keys = walkKeys();
  $("caption").textContent = keys.length > 1 ? `walk ${keys.join(" → ")} (${state.interp}), at ${state.t.toFixed(3)}` : `seed ${state.seed}`;
}

// -- playing: the loop through the walk's glyphs, or a random walk -----------------------------
function play() {
  if (playing) {
    cancelAnimationFrame(playing); playing = null; $("play").textContent = "▶ play";
    return rest();                     // the frame it stopped at, at full size
  }
  $("play").textContent = "❚❚ pause";
  const t0 = performance.now(), seconds = 2 * Math.max(2, walkKeys().length);
  const step = (now) => {
    const u = ((now - t0) / 1000 / seconds) % 1;
    moved(u); drawBig(u);
    playing = requestAnimationFrame(step);
  };
  playing = requestAnimationFrame(step);
}
function randomWalk() {
  const keys = [state.seed];
  while (keys.length < 5) keys.push(Math.floor(Math.random() * 1e6));
  update({keys, t: 0});
  if (!playing) play();
}

// -- history and favourites (kept in the browser) ---------------------------------------------
function stored(key) { try { return JSON.parse(localStorage.getItem(key)) || []; } catch { return []; } }
function remember(seed) {
  const h = [seed, ...stored("glyphart.history").filter((s) => s !== seed)].slice(0, 30);
  localStorage.setItem("glyphart.history", JSON.stringify(h)); lists();
}
function toggleFavourite() {
  const f = stored("glyphart.favourites"), at = f.indexOf(state.seed);
  if (at >= 0) f.splice(at, 1); else f.unshift(state.seed);
  localStorage.setItem("glyphart.favourites", JSON.stringify(f)); lists();
}
function lists() {
  for (const [id, key] of [["history", "glyphart.history"], ["favs", "glyphart.favourites"]]) {
    const el = $(id); el.innerHTML = "";
    for (const seed of stored(key)) {
      const a = document.createElement("a"); a.textContent = seed;
      a.onclick = () => update({seed, t: 0}); el.append(a);
    }
  }
  $("fav").textContent = stored("glyphart.favourites").includes(state && state.seed) ? "★" : "☆";
}

// -- the channel's view ----------------------------------------------------------------------
async function channel() {
  const p = paintQuery(); p.set("seed", state.seed); p.set("trials", 6);
  $("channel-out").textContent = "sending…";
  try {
    const r = await (await check(await fetch("/api/channel?" + p))).json();
    const out = $("channel-out"); out.innerHTML = "";
    for (const src of r.images) { const i = new Image(); i.src = src; out.append(i); }
    const line = document.createElement("div");
    line.textContent = `the decoder picked this glyph out of ${r.candidates} in ${r.identified} of ${r.trials} sendings (ranks ${r.ranks.join(", ")})`;
    out.append(line);
  } catch (e) { $("channel-out").textContent = ""; showError(e.message); }
}

// -- export ------------------------------------------------------------------------------------
function exportSeeds() {
  if (state.keys.length) return state.keys;
  return Array.from({length: 16}, (_, i) => state.start + i);
}
async function exportNow() {
  const body = {preset: state.preset, kind: $("kind").value, seeds: exportSeeds().join(","), interp: state.interp};
  for (const k of PAINT_KEYS) if (state[k]) body[k] = state[k];
  $("export-out").textContent = "writing…"; $("command").textContent = "";
  try {
    const r = await (await check(await fetch("/api/export", {method: "POST",
      headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)}))).json();
    $("command").textContent = r.command;
    $("export-out").innerHTML = "";
    const a = document.createElement("a"); a.href = r.url; a.textContent = r.file; a.target = "_blank";
    $("export-out").append("wrote ", a);
    for (const name of r.separations || []) {  // a master per ink, beside the composite
      const m = document.createElement("a"); m.href = `/exports/${name}`; m.textContent = name; m.target = "_blank";
      $("export-out").append(" ", m);
    }
  } catch (e) { $("export-out").textContent = ""; showError(e.message); }
}

// -- controls ----------------------------------------------------------------------------------
function syncControls() {
  $("preset").value = state.preset; $("palette").value = state.palette; $("inks").value = state.inks;
  $("blend").value = state.blend; $("tile").value = String(state.tile); $("start").value = state.start;
  $("paper-own").checked = !state.paper; if (state.paper) $("paper").value = state.paper;
  $("interp").value = state.interp; $("native").checked = state.native;
  $("slider").value = Math.round(state.t * 1000); $("slider").disabled = state.keys.length < 2;
  $("walk-keys").textContent = state.keys.length ? "walk: " + state.keys.join(" → ") : "walk: pick glyphs with shift-click";
  lists();
}
function wire() {
  $("preset").onchange = (e) => update({preset: e.target.value, keys: [], t: 0});
  $("palette").onchange = (e) => update({palette: e.target.value, inks: "", paper: ""});
  $("inks").onchange = (e) => update({inks: e.target.value.trim()});
  $("paper").oninput = (e) => update({paper: e.target.value}, false);
  $("paper").onchange = (e) => update({paper: e.target.value});
  $("paper-own").onchange = (e) => update({paper: e.target.checked ? "" : $("paper").value});
  $("blend").onchange = (e) => update({blend: e.target.value});
  $("tile").onchange = (e) => update({tile: +e.target.value});
  $("start").onchange = (e) => update({start: Math.max(0, +e.target.value || 0)});
  $("interp").onchange = (e) => update({interp: e.target.value});
  $("native").onchange = (e) => update({native: e.target.checked});
  $("slider").oninput = (e) => { moved(); update({t: e.target.value / 1000}, false); };
  $("slider").onchange = (e) => { undo.push(JSON.stringify({...state, t: sliderFrom})); redo = []; rest(); };
  $("slider").onpointerdown = () => { sliderFrom = state.t; };
  $("clear").onclick = () => update({keys: [], t: 0});
  $("prev").onclick = () => step(-1); $("next").onclick = () => step(1);
  $("play").onclick = play; $("random").onclick = randomWalk; $("fav").onclick = toggleFavourite;
  $("channel").onclick = channel; $("export").onclick = exportNow;
  $("undo").onclick = () => back(undo, redo); $("redo").onclick = () => back(redo, undo);
  document.addEventListener("keydown", keys);
  new ResizeObserver((entries) => {   // read here, where the layout is fresh anyway
    wrapWidth = entries[0].target.clientWidth; drawBig(); }).observe($("big-wrap"));
}
let sliderFrom = 0;
function back(from, to) {
  if (!from.length) return;
  to.push(JSON.stringify(state));
  apply(JSON.parse(from.pop()), state);
}
function step(d) {
  if (state.keys.length >= 2) return update({t: Math.min(1, Math.max(0, state.t + d * 0.02))});
  update({seed: Math.max(0, state.seed + d), t: 0});
}
function keys(e) {
  if (e.target.matches("input:not([type=range]), select")) return;
  if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "z") { e.preventDefault(); return e.shiftKey ? back(redo, undo) : back(undo, redo); }
  const arrow = {ArrowLeft: -1, ArrowUp: -1, ArrowRight: 1, ArrowDown: 1}[e.key];
  if (arrow) { e.preventDefault(); if (e.repeat) moved(); step(arrow); }
  else if (e.key === " ") { e.preventDefault(); play(); }
}

async function start() {
  try {
    info = await (await check(await fetch("/api/presets"))).json();
  } catch (e) { return showError(e.message); }
  for (const p of info.presets) $("preset").add(new Option(`${p.name} (${p.origin})`, p.name));
  for (const [name, p] of Object.entries(info.palettes)) {
    const o = new Option(name, name); o.title = p.about; $("palette").add(o); }
  for (const k of info.kinds) $("kind").add(new Option(k, k));
  const s = fromHash();
  if (!info.presets.some((p) => p.name === s.preset))
    s.preset = info.presets.some((p) => p.name === info.default) ? info.default : (info.presets[0] || {}).name || "";
  wire(); connect();
  apply(s, null);
}
start();
