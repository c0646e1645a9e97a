// Dance: the pose model's dancer drawn as it is generated, from /seqart/pose events that hold
// every joint's world position (x y z, file units; the root kept above the origin), bones
// between each joint and its parent (the skeleton comes in the start message).
"use strict";

const stage = document.getElementById("stage"), ctx = stage.getContext("2d");
const modelSelect = document.getElementById("model"), tempInput = document.getElementById("temperature");
let parents = [];     // parent index per joint (-1: the root)
let scale = null;     // pixels per file unit, fixed by the first pose
let frames = 0, requestId = 0;

function drawPose(xyz, primer) {
  const J = xyz.length / 3, pts = [];
  for (let j = 0; j < J; j++) pts.push([xyz[3 * j], xyz[3 * j + 1], xyz[3 * j + 2]]);
  if (scale === null) {
    const ys = pts.map((p) => p[1]), h = Math.max(...ys) - Math.min(...ys);
    scale = 0.6 * stage.height / Math.max(h, 1e-6);
  }
  // A three-quarter view: x and z turned 30 degrees about the vertical.
  const view = ([x, y, z]) => [stage.width / 2 + scale * (0.87 * x + 0.5 * z), stage.height * 0.9 - scale * y];
  ctx.clearRect(0, 0, stage.width, stage.height);
  ctx.strokeStyle = primer ? "#555" : "#c0392b"; ctx.lineWidth = 4; ctx.lineCap = "round";
  pts.forEach((p, j) => {
    if (parents[j] < 0) return;
    const a = view(pts[parents[j]]), b = view(p);
    ctx.beginPath(); ctx.moveTo(...a); ctx.lineTo(...b); ctx.stroke();
  });
}

function onMessage(msg) {
  if (msg.id !== requestId) return;
  if (msg.type === "start") {
    parents = msg.parents || [];
    document.getElementById("state").textContent = "dancing";
  } else if (msg.type === "event" && msg.address.endsWith("/pose")) {
    drawPose(msg.args, msg.primer);
    frames += 1;
    document.getElementById("frames").textContent = frames;
    if (!msg.primer) document.getElementById("temperature-used").textContent = Number(msg.T).toFixed(2);
  } else if (msg.type === "end") {
    document.getElementById("state").textContent = `done (${msg.frames} frames)`;
  }
}

function dance(extra) {
  requestId += 1; frames = 0; scale = null;
  Studio.send({ cmd: "continue", id: requestId, model: modelSelect.value, temperature: Number(tempInput.value),
                seed: Studio.seed(), seconds: Number(document.getElementById("seconds").value), pace: 1, ...extra });
}

document.getElementById("dance").addEventListener("click", () => dance({}));
document.getElementById("file").addEventListener("change", async (e) => {
  const key = await Studio.upload(e.target.files[0]);
  if (key) dance({ upload: key, echo: true });
});
document.getElementById("stop").addEventListener("click", () => Studio.send({ cmd: "stop" }));
document.getElementById("download").addEventListener("click", () =>
  Studio.send({ cmd: "export", model: modelSelect.value, format: "bvh" }));
tempInput.addEventListener("change", () => Studio.send({ cmd: "temperature", value: Number(tempInput.value) }));

(async () => {
  await Studio.models(modelSelect, ["poses"]);
  await Studio.temperature(tempInput, document.getElementById("temperature-value"), 0.8);
  await Studio.connect(onMessage);
  document.body.dataset.ready = "1";
})();
