// Draw: pointer strokes on a canvas; on pen-up the chosen model continues the drawing,
// point by point, from the events the studio streams (/seqart/pen x y down, canvas pixels).
"use strict";

const board = document.getElementById("board");
const ctx = board.getContext("2d");
const modelSelect = document.getElementById("model");
const tempInput = document.getElementById("temperature");
let points = [];      // the whole drawing: [x, y, lifted] rows, the person's and the model's
let queue = [];       // pen events received, drawn a few per animation frame
let penDown = false;  // the person's pointer is down
let modelPoints = 0;
let requestId = 0;
let penUpAt = null;   // performance.now() at the last pen-up, for the latency to the first model point

// Canvas pixels to 0.01: each pen-up sends the whole drawing, and a point at full float precision
// (~40 bytes of JSON) would let only ~6,000 points fit a message (seqart.studio.protocol.MAX_MESSAGE).
const px = (v) => Math.round(v * 100) / 100;

function pos(e) {
  const r = board.getBoundingClientRect();
  return [px((e.clientX - r.left) * board.width / r.width), px((e.clientY - r.top) * board.height / r.height)];
}

function segment(a, b, colour) {
  ctx.strokeStyle = colour; ctx.lineWidth = 2.5; ctx.lineCap = "round";
  ctx.beginPath(); ctx.moveTo(a[0], a[1]); ctx.lineTo(b[0], b[1]); ctx.stroke();
}

board.addEventListener("pointerdown", (e) => {
  Studio.send({ cmd: "stop" });
  queue = [];
  penDown = true;
  board.setPointerCapture(e.pointerId);
  points.push([...pos(e), 0]);
});

board.addEventListener("pointermove", (e) => {
  if (!penDown) return;
  const p = pos(e), last = points[points.length - 1];
  if (Math.hypot(p[0] - last[0], p[1] - last[1]) < 2) return;
  segment(last, p, "#222");
  points.push([...p, 0]);
});

// The drawing so far, for the Inside page (the last point lifts the pen).
function keep() {
  const rows = points.map((p, i) => [p[0], p[1], i === points.length - 1 ? 1 : p[2]]);
  localStorage.setItem("seqart-drawing", JSON.stringify({ rows, model: modelSelect.value }));
  return rows;
}

function penUp() {
  if (!penDown) return;
  penDown = false;
  points[points.length - 1][2] = 1;
  keep();
  penUpAt = performance.now();
  requestId += 1;
  document.getElementById("state").textContent = "the model is drawing";
  Studio.send({ cmd: "continue", id: requestId, model: modelSelect.value, temperature: Number(tempInput.value),
                seed: Studio.seed(), pace: 1, drawing: points });
}
board.addEventListener("pointerup", penUp);
board.addEventListener("pointercancel", penUp);

// A pen event: move to (x, y); the segment is drawn when down = 1. The end marker lifts the pen.
function drawEvent(msg) {
  const last = points[points.length - 1];
  if (msg.end) { if (last) last[2] = 1; keep(); return; }
  const [x, y, down] = msg.args;
  if (!down && last) last[2] = 1;
  if (down && last) segment(last, [x, y], "#c0392b");
  points.push([px(x), px(y), 0]);
  modelPoints += 1;
  if (penUpAt !== null) {  // the first point of this continuation is on the page (benchmarks/studio_latency.py)
    document.body.dataset.latencyMs = (performance.now() - penUpAt).toFixed(2);
    penUpAt = null;
  }
  document.getElementById("model-points").textContent = modelPoints;
  document.getElementById("temperature-used").textContent = Number(msg.T).toFixed(2);
}

function animate() {
  for (let k = 0; k < 2 && queue.length; k++) drawEvent(queue.shift());
  requestAnimationFrame(animate);
}

function onMessage(msg) {
  if (msg.id !== undefined && msg.id !== null && msg.id !== requestId) return;  // an older request's
  if (msg.type === "event" && msg.address.endsWith("/pen")) {
    if (!queue.length) drawEvent(msg); else queue.push(msg);  // the first point shows at once
  } else if (msg.type === "end") {
    queue.push({ end: true });
    document.getElementById("state").textContent = `done (${msg.frames} points)`;
  }
}

document.getElementById("new").addEventListener("click", () => {
  Studio.send({ cmd: "stop" });
  points = []; queue = []; modelPoints = 0; requestId += 1;
  ctx.clearRect(0, 0, board.width, board.height);
  document.getElementById("model-points").textContent = "0";
  document.getElementById("state").textContent = "waiting";
});

tempInput.addEventListener("change", () => Studio.send({ cmd: "temperature", value: Number(tempInput.value) }));

for (const format of ["svg", "png"]) {
  document.getElementById(format).addEventListener("click", () => {
    if (!points.length) { Studio.say("draw something first", true); return; }
    Studio.send({ cmd: "export", model: modelSelect.value, format, drawing: keep() });
  });
}

(async () => {
  await Studio.models(modelSelect, ["strokes"]);
  await Studio.temperature(tempInput, document.getElementById("temperature-value"), 0.4);
  await Studio.connect(onMessage);
  document.body.dataset.ready = "1";
  animate();
})();
