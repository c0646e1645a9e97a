// Play: a piano roll. Notes come from the computer keyboard, a WebMIDI keyboard or an uploaded
// MIDI file; the model continues the phrase (/seqart/note pitch velocity seconds events), and the
// browser plays it with a small WebAudio synth. Rows are [pitch, velocity, start s, duration s].
"use strict";

const roll = document.getElementById("roll"), ctx = roll.getContext("2d");
const modelSelect = document.getElementById("model"), tempInput = document.getElementById("temperature");
const KEYS = "awsedftgyhujkolp;";  // from C4 (60), chromatic
const LOW = 36, HIGH = 96, ROW = roll.height / (HIGH - LOW + 1);
let played = [];        // the person's notes (or the uploaded file's)
let answer = [];        // the model's notes
let held = {};          // pitch -> [start s, velocity] while a key is down
let t0 = null;          // when the first note was played (performance.now, ms)
let base = 0;           // the phrase's first onset: the model's times count from it
let requestId = 0;
let audio = null;

function now() { return (performance.now() - t0) / 1000; }

function draw() {
  ctx.clearRect(0, 0, roll.width, roll.height);
  const notes = played.concat(answer), end = Math.max(10, ...notes.map((n) => n[2] + n[3]));
  const x = (s) => s / end * roll.width;
  for (let p = LOW; p <= HIGH; p++) if ([1, 3, 6, 8, 10].includes(p % 12)) {
    ctx.fillStyle = "#f0f0f0"; ctx.fillRect(0, (HIGH - p) * ROW, roll.width, ROW);
  }
  for (const [list, colour] of [[played, "#333"], [answer, "#c0392b"]]) {
    ctx.fillStyle = colour;
    for (const [p, , s, d] of list) ctx.fillRect(x(s), (HIGH - p) * ROW, Math.max(2, x(d)), ROW - 1);
  }
  document.getElementById("played").textContent = played.length;
  document.getElementById("model-notes").textContent = answer.length;
}

function tone(pitch, velocity, start, dur) {
  audio = audio || new AudioContext();
  const osc = audio.createOscillator(), gain = audio.createGain(), at = audio.currentTime + Math.max(0, start);
  osc.type = "triangle"; osc.frequency.value = 440 * 2 ** ((pitch - 69) / 12);
  gain.gain.setValueAtTime(0, at); gain.gain.linearRampToValueAtTime(0.2 * velocity / 127, at + 0.01);
  gain.gain.exponentialRampToValueAtTime(0.001, at + Math.max(0.05, dur));
  osc.connect(gain).connect(audio.destination); osc.start(at); osc.stop(at + Math.max(0.05, dur) + 0.05);
}

function noteOn(pitch, velocity) {
  if (t0 === null) t0 = performance.now();
  if (held[pitch]) return;
  held[pitch] = [now(), velocity];
  tone(pitch, velocity, 0, 0.3);
}

function noteOff(pitch) {
  if (!held[pitch]) return;
  const [start, velocity] = held[pitch];
  delete held[pitch];
  played.push([pitch, velocity, start, Math.max(0.05, now() - start)]);
  keep(); draw();
}

function keep() {
  localStorage.setItem("seqart-phrase", JSON.stringify({ rows: played.concat(answer), model: modelSelect.value }));
}

document.addEventListener("keydown", (e) => {
  const k = KEYS.indexOf(e.key.toLowerCase());
  if (k >= 0 && !e.repeat && e.target.tagName !== "INPUT") noteOn(60 + k, 90);
});
document.addEventListener("keyup", (e) => {
  const k = KEYS.indexOf(e.key.toLowerCase());
  if (k >= 0) noteOff(60 + k);
});

document.getElementById("midi").addEventListener("click", async () => {
  if (!navigator.requestMIDIAccess) { Studio.say("this browser has no WebMIDI", true); return; }
  try {
    const access = await navigator.requestMIDIAccess();
    let n = 0;
    for (const input of access.inputs.values()) {
      n += 1;
      input.onmidimessage = ({ data: [status, pitch, velocity] }) => {
        if ((status & 0xf0) === 0x90 && velocity > 0) noteOn(pitch, velocity);
        else if ((status & 0xf0) === 0x80 || (status & 0xf0) === 0x90) noteOff(pitch);
      };
    }
    Studio.say(n ? `listening to ${n} MIDI input(s)` : "no MIDI input found");
  } catch (err) { Studio.say(`WebMIDI refused: ${err}`, true); }
});

function continuePhrase(extra) {
  requestId += 1;
  answer = [];
  document.getElementById("state").textContent = "the model is playing";
  Studio.send({ cmd: "continue", id: requestId, model: modelSelect.value, temperature: Number(tempInput.value),
                seed: Studio.seed(), seconds: Number(document.getElementById("seconds").value), pace: 1, ...extra });
}

document.getElementById("continue").addEventListener("click", () => {
  if (!played.length) { Studio.say("play something first (or upload a MIDI file)", true); return; }
  base = Math.min(...played.map((n) => n[2]));
  continuePhrase({ phrase: played });
});

document.getElementById("file").addEventListener("change", async (e) => {
  const key = await Studio.upload(e.target.files[0]);
  if (!key) return;
  played = []; base = 0;
  continuePhrase({ upload: key, echo: true });
});

function onMessage(msg) {
  if (msg.id !== requestId) return;
  if (msg.type === "event" && msg.address.endsWith("/note")) {
    const [pitch, velocity, dur] = msg.args, note = [pitch, velocity, base + msg.t, dur];
    if (msg.primer) played.push(note);
    else { answer.push(note); tone(pitch, velocity, 0, dur); }
    if (!msg.primer) document.getElementById("temperature-used").textContent = Number(msg.T).toFixed(2);
    draw();
  } else if (msg.type === "end") {
    document.getElementById("state").textContent = `done (${msg.frames} notes)`;
    keep();
  }
}

document.getElementById("play").addEventListener("click", () => {
  const notes = played.concat(answer), first = Math.min(...notes.map((n) => n[2]));
  for (const [p, v, s, d] of notes) tone(p, v, s - first, d);
});
document.getElementById("clear").addEventListener("click", () => {
  Studio.send({ cmd: "stop" });
  played = []; answer = []; held = {}; t0 = null; requestId += 1; draw();
});
document.getElementById("download").addEventListener("click", () => {
  const notes = played.concat(answer);
  if (!notes.length) { Studio.say("nothing to download yet", true); return; }
  Studio.send({ cmd: "export", model: modelSelect.value, format: "mid", phrase: notes });
});
tempInput.addEventListener("change", () => Studio.send({ cmd: "temperature", value: Number(tempInput.value) }));

(async () => {
  await Studio.models(modelSelect, ["notes"]);
  await Studio.temperature(tempInput, document.getElementById("temperature-value"), 0.8);
  await Studio.connect(onMessage);
  draw();
  document.body.dataset.ready = "1";
})();
