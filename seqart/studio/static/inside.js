// Inside: the model's prediction at every step of a clip, its states, and LSTMVis select/match.
"use strict";

const modelSelect = document.getElementById("model");
const CW = 3;          // pixels per time step in the state maps
let inside = null;     // the last "inside" message
let brush = null;      // [first, last] frames

function source() {
  const kind = document.getElementById("source").value;
  if (kind === "upload") return null;
  const saved = JSON.parse(localStorage.getItem(`seqart-${kind}`) || "null");
  return saved && saved.rows && saved.rows.length ? { [kind]: saved.rows } : {};
}

document.getElementById("look").addEventListener("click", async () => {
  let clip = source();
  if (clip === null) {
    const file = document.getElementById("file").files[0];
    if (!file) { Studio.say("choose a file first", true); return; }
    const key = await Studio.upload(file);
    if (!key) return;
    clip = { upload: key };
  }
  Studio.say("looking inside...");
  Studio.send({ cmd: "inside", model: modelSelect.value, ...clip });
});

function drawPrediction(msg) {
  const canvas = document.getElementById("prediction"), title = document.getElementById("prediction-title");
  const v = msg.views;
  if (v.draw) {  // DRAW: the canvas after each step side by side, the box it wrote in red
    const { canvases, boxes } = v.draw, T = canvases.length, H = canvases[0].length, W = canvases[0][0].length, k = 4;
    canvas.width = T * W * k; canvas.height = H * k;
    const c2 = canvas.getContext("2d");
    canvases.forEach((img, t) => img.forEach((row, y) => row.forEach((p, x) => {
      const g = Math.round(255 * (1 - p)); c2.fillStyle = `rgb(${g},${g},${g})`;
      c2.fillRect((t * W + x) * k, y * k, k, k);
    })));
    const box = (colour) => ([x, y, size], t) => {
      c2.strokeStyle = colour; c2.strokeRect((t * W + x - size / 2) * k, (y - size / 2) * k, size * k, size * k);
    };
    boxes.forEach(box("#d62728"));
    (v.draw.read || []).forEach(box("#1f77b4"));
    title.textContent = "the canvas after each step, with the box it wrote (red)" + (v.draw.read ? " and read (blue)" : "");
    return;
  }
  // Marks the codec put on a view (seqart Codec.inside_marks), drawn without knowing the modality.
  const roll = Object.values(v).find((x) => x.kind === "classes" && x.spans && x.spans.length);
  if (v.density) {
    const d = v.density, img = d.image;
    Heat.draw(canvas, img[0].map((_, x) => img.map((row) => row[x])), Heat.sequential, 4, 4);
    const ctx = canvas.getContext("2d");
    ctx.strokeStyle = "#1f4e9c"; ctx.lineWidth = 1.5;
    const px = (x, y) => [4 * (x - d.origin[0]) / d.cell, 4 * (y - d.origin[1]) / d.cell];
    for (const [x0, y0, x1, y1] of d.segments || []) {  // in the density's units
      ctx.beginPath(); ctx.moveTo(...px(x0, y0)); ctx.lineTo(...px(x1, y1)); ctx.stroke();
    }
    title.textContent = "next-point density at every step (each scaled to a peak of 1), the clip on top";
  } else if (roll) {  // one span [onset s, class, duration s] per step, over that step's class probabilities
    const K = roll.probs[0].length;
    Heat.draw(canvas, roll.probs.map((row) => row.map(Math.sqrt)), Heat.sequential, 6, 3, true);
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "rgba(214, 39, 40, 0.9)";
    roll.spans.forEach(([, k], i) => ctx.fillRect(i * 6, (K - 1 - k) * 3, 5, 3));
    title.textContent = `${roll.channel} distribution at each step (shade) under the clip (red)`;
  } else {
    const spread = Object.values(v).find((x) => x.kind === "spread");
    if (spread) {
      const top = Math.max(...spread.std.flat());
      Heat.draw(canvas, spread.std.map((row) => row.map((s) => s / top)), Heat.sequential, CW, 12);
      title.textContent = `spread per joint (mixture std; rows: ${spread.names.join(", ")})`;
    }
  }
}

function drawProbabilities(msg) {
  const canvas = document.getElementById("probs"), ctx = canvas.getContext("2d");
  const end = Object.values(msg.views).find((x) => x.kind === "classes" && x.end);
  const series = end ? end.probs[0].slice(1).map((_, k) => end.probs.map((p) => p[k + 1])) : [msg.nll];
  canvas.width = Math.max(1, msg.frames * CW);
  const top = end ? 1 : Math.max(...msg.nll, 1e-9);
  const colours = [["#1f77b4", "blue"], ["#ff7f0e", "orange"], ["#2ca02c", "green"]];  // [stroke, name in the title]
  colours.slice(0, series.length).forEach(([colour], s) => {
    ctx.strokeStyle = colour; ctx.beginPath();
    series[s].forEach((v, t) => ctx.lineTo(t * CW, canvas.height - 2 - (canvas.height - 4) * v / top));
    ctx.stroke();
  });
  // Class names from the codec where it gives them; class 0 is 1 minus the rest, so it is not drawn.
  const name = (k) => (end.labels ? end.labels[k] : `${end.channel} = ${k}`);
  document.getElementById("probs-title").textContent = end
    ? `probability of each ${end.channel} class but ${name(0)} (${series.slice(0, 3).map((_, k) => `${colours[k][1]}: ${name(k + 1)}`).join(", ")}) at each step`
    : "NLL of each frame (nats)";
}

// A handwriting model's soft window: its weight on each character (rows) at each step.
function drawWindow(msg) {
  const w = msg.views.window, panel = document.getElementById("window-panel");
  panel.hidden = !w;
  if (w) Heat.draw(document.getElementById("window"), w.weights, Heat.sequential, CW, 6);
}

function drawStates(msg) {
  const H = msg.hidden, ch = H > 200 ? 1 : 3;
  Heat.draw(document.getElementById("hidden"), msg.h, Heat.diverging, CW, ch);
  Heat.draw(document.getElementById("cell"), msg.c.map((row) => row.map(Math.tanh)), Heat.diverging, CW, ch);
}

function onMessage(msg) {
  if (msg.type === "inside") {
    inside = msg;
    drawPrediction(msg); drawProbabilities(msg); drawWindow(msg); drawStates(msg);
    Studio.say(`${msg.model}: ${msg.frames} frames, ${msg.hidden} units x ${msg.layers} layer(s)`);
    document.body.dataset.inside = msg.frames;
  } else if (msg.type === "select") {
    document.getElementById("cells-count").textContent = msg.cells.length;
    document.getElementById("cells").textContent = msg.cells.join(" ");
    const rows = msg.matches.map(([clip, a, b]) => `<tr><td>${clip ? "clip " + clip : "this clip"}</td><td>frames ${a}-${b}</td></tr>`);
    document.getElementById("matches").innerHTML = rows.join("") || "<tr><td>no other span</td></tr>";
    document.body.dataset.selected = msg.cells.length;
  }
}

// Brush: drag across the hidden-state map to choose [first, last] frames.
const hidden = document.getElementById("hidden");
let from = null;
const frameAt = (e) => {
  const r = hidden.getBoundingClientRect();
  return Math.max(0, Math.floor((e.clientX - r.left) * hidden.width / r.width / CW));
};
hidden.addEventListener("pointerdown", (e) => { from = frameAt(e); });
hidden.addEventListener("pointerup", (e) => {
  if (from === null || !inside) return;
  const to = frameAt(e);
  brush = [Math.min(from, to), Math.min(Math.max(from, to), inside.frames - 1)];
  from = null;
  select();
});
function select() {
  if (!brush) return;
  document.getElementById("span").textContent = `${brush[0]}-${brush[1]}`;
  Studio.send({ cmd: "select", span: brush, threshold: Number(document.getElementById("threshold").value) });
}
document.getElementById("threshold").addEventListener("input", (e) => {
  document.getElementById("threshold-value").textContent = Number(e.target.value).toFixed(2);
});
document.getElementById("threshold").addEventListener("change", select);

// The model that made the chosen clip, when the Draw or Play page says which.
function followSource() {
  const saved = JSON.parse(localStorage.getItem(`seqart-${document.getElementById("source").value}`) || "null");
  if (saved && saved.model && [...modelSelect.options].some((o) => o.value === saved.model)) modelSelect.value = saved.model;
}
document.getElementById("source").addEventListener("change", followSource);

(async () => {
  await Studio.models(modelSelect);
  followSource();
  await Studio.connect(onMessage);
  document.body.dataset.ready = "1";
})();
