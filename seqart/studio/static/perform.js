// Perform: watch a running `seqart perform` (a copy of its OSC events) and steer it with the
// same commands as its OSC control. Pen events are drawn, notes shown as a scrolling roll,
// anything else listed.
"use strict";

const view = document.getElementById("view"), ctx = view.getContext("2d");
let last = null;      // the previous pen position
let noteX = 0;        // where the next note is drawn on the scrolling roll
const recent = [];    // the newest events, for the table

function show(ev) {
  const [, address, args] = ev;
  if (address.endsWith("/pen") && args.length === 3) {
    const [x, y, down] = args, p = [x % view.width, y % view.height];
    if (down && last) { ctx.strokeStyle = "#222"; ctx.beginPath(); ctx.moveTo(...last); ctx.lineTo(...p); ctx.stroke(); }
    last = p;
  } else if (address.endsWith("/pen/end")) {
    ctx.clearRect(0, 0, view.width, view.height); last = null;
  } else if (address.endsWith("/note")) {
    const [pitch] = args;
    noteX = (noteX + 4) % view.width;
    if (noteX < 4) ctx.clearRect(0, 0, view.width, view.height);
    ctx.fillStyle = "#c0392b"; ctx.fillRect(noteX, view.height - (pitch - 20) * 3, 4, 3);
  }
}

function onMessage(msg) {
  if (msg.type === "monitoring") {
    Studio.say(`connected: the show sends a copy of its events to port ${msg.port}`);
    document.body.dataset.monitoring = msg.port;
  } else if (msg.type === "osc") {
    msg.events.forEach(show);
    recent.push(...msg.events);
    recent.splice(0, Math.max(0, recent.length - 12));
    document.getElementById("received").textContent = msg.received;
    document.getElementById("rate").textContent = msg.per_second;
    // As text, never HTML: an address or argument comes from whatever sent a datagram to the monitor port.
    document.getElementById("events").replaceChildren(...recent.slice().reverse().map(([t, a, args]) => {
      const row = document.createElement("tr");
      for (const text of [new Date(t * 1000).toISOString().slice(11, 23), a,
                          args.map((v) => (typeof v === "number" ? Number(v.toFixed(3)) : v)).join(" ")]) {
        row.appendChild(document.createElement("td")).textContent = text;
      }
      return row;
    }));
  } else if (msg.type === "steered") {
    Studio.say(`sent ${msg.address} ${msg.args.join(" ")}`);
    document.body.dataset.steered = msg.address;
  }
}

document.getElementById("connect").addEventListener("click", () =>
  Studio.send({ cmd: "monitor", control: Number(document.getElementById("control").value) }));
document.getElementById("disconnect").addEventListener("click", () => Studio.send({ cmd: "unmonitor" }));
for (const b of document.querySelectorAll("[data-steer]")) {
  b.addEventListener("click", () => Studio.send({ cmd: "steer", address: b.dataset.steer, args: [] }));
}
document.getElementById("temperature").addEventListener("change", (e) =>
  Studio.send({ cmd: "steer", address: "/seqart/temperature", args: [Number(e.target.value)] }));
document.getElementById("tempo").addEventListener("change", (e) =>
  Studio.send({ cmd: "steer", address: "/seqart/tempo", args: [Number(e.target.value)] }));
document.getElementById("switch").addEventListener("click", () =>
  Studio.send({ cmd: "steer", address: "/seqart/piece", args: [document.getElementById("piece").value] }));

(async () => {
  await Studio.temperature(document.getElementById("temperature"), document.getElementById("temperature-value"), 0.7);
  await Studio.connect(onMessage);
  document.body.dataset.ready = "1";
})();
