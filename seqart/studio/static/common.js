// seqart studio: what every page shares: the socket, the model picker, the temperature slider
// (its range from seqart.spec, served at /api/spec), messages and downloads.
"use strict";

const Studio = {
  ws: null,
  handlers: {},

  // Open the page's socket; onMessage(msg) gets every message that is not an error.
  connect(onMessage) {
    return new Promise((resolve) => {
      const scheme = location.protocol === "https:" ? "wss" : "ws";
      this.ws = new WebSocket(`${scheme}://${location.host}/ws`);
      this.ws.onopen = () => resolve(this.ws);
      this.ws.onmessage = (e) => {
        const msg = JSON.parse(e.data);
        if (msg.type === "error") this.say(msg.message, true);
        else if (msg.type === "file") this.download(msg);
        else onMessage(msg);
      };
      this.ws.onclose = () => this.say("the studio closed the connection: reload the page", true);
    });
  },

  send(obj) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(obj));
  },

  say(text, isError = false) {
    const el = document.getElementById("message");
    if (!el) return;
    el.textContent = text;
    el.className = isError ? "error" : "";
  },

  // Fill a <select> with the models of the given modalities ("strokes", "notes"...).
  async models(select, modalities) {
    const listing = (await (await fetch("/api/models")).json()).models;
    select.innerHTML = "";
    for (const m of listing) {
      if (modalities && !modalities.includes(m.modality)) continue;
      const opt = document.createElement("option");
      opt.value = m.name;
      opt.textContent = m.error ? `${m.name} (unusable)` : `${m.name} (${m.source})`;
      opt.disabled = !!m.error;
      select.appendChild(opt);
    }
    return listing;
  },

  // A range input for the temperature, with seqart.spec's range and the default given.
  async temperature(input, label, value) {
    const spec = (await (await fetch("/api/spec")).json()).temperature;
    input.min = spec.low; input.max = Math.min(spec.high, 2); input.step = 0.01;
    input.value = value;
    const show = () => { label.textContent = Number(input.value).toFixed(2); };
    input.addEventListener("input", show);
    show();
  },

  // A file message from the server ({name, data: base64}) as a download.
  download(msg) {
    const bytes = Uint8Array.from(atob(msg.data), (c) => c.charCodeAt(0));
    const a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([bytes]));
    a.download = msg.name;
    document.body.appendChild(a);
    a.click();
    a.remove();
    this.say(`downloaded ${msg.name}`);
  },

  // POST a file the person chose; resolves to its upload id, or null (and a message) if refused.
  async upload(file) {
    const r = await fetch(`/upload?name=${encodeURIComponent(file.name)}`, { method: "POST", body: file });
    const text = await r.text();  // JSON from the app; plain text from the guard (a refused host or token)
    let body;
    try { body = JSON.parse(text); } catch { body = { error: text || `upload refused (${r.status})` }; }
    if (!r.ok) { this.say(body.error, true); return null; }
    return body.upload;
  },

  // A new seed per request; a page opened with ?seed=N uses N every time (tests, repeatable demos).
  seed() {
    const fixed = new URLSearchParams(location.search).get("seed");
    return fixed !== null && /^\d+$/.test(fixed) ? Number(fixed) : Math.floor(Math.random() * 2 ** 31);
  },
};
