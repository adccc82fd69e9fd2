// Vouch console: live updates and copy buttons. Our own code, no library.
// The server sends one Server-Sent Event per committed event (kind and subject); when one touches
// what the page shows, the page's main part is fetched again and put in place, unless the
// operator is typing in it.
"use strict";
(function () {
  const main = document.getElementById("main");

  function wants(scope, kind, subject) {
    if (!scope) return false;
    if (scope === "all") return true;
    if (scope.startsWith("device:")) return subject === scope.slice(7);
    return kind.startsWith(scope + ".") || (scope === "group" && kind === "device.pending");
  }

  let timer = null;
  let pending = false;
  async function refresh() {
    timer = null;
    const active = document.activeElement;
    if (active && main.contains(active) && active.matches("input, select, textarea")) {
      // Not while the operator is typing: try again shortly.
      timer = setTimeout(refresh, 2000);
      return;
    }
    try {
      const answer = await fetch(location.href, { headers: { "X-Console-Fragment": "main" }, credentials: "same-origin" });
      if (answer.status === 401) { location.assign("/console/sign-in"); return; }
      if (!answer.ok) return;
      const html = await answer.text();
      main.innerHTML = html;
      main.dataset.refreshed = String(Date.now());
      bindCopy();
      checkProof();
    } catch (error) {
      // The next event tries again.
    }
  }

  // Once soon after the event, and once more after the next checkpoint (the log publishes one
  // about a second after a change), so that the log's size is current too.
  let trailing = null;
  function schedule() {
    if (timer === null) timer = setTimeout(refresh, 250);
    if (trailing !== null) clearTimeout(trailing);
    trailing = setTimeout(function () { trailing = null; if (timer === null) timer = setTimeout(refresh, 0); }, 1600);
  }

  function listen() {
    const scope = main && main.dataset.live;
    if (!scope || typeof EventSource === "undefined") return;
    const source = new EventSource("/console/live");
    source.addEventListener("change", function (message) {
      let event;
      try { event = JSON.parse(message.data); } catch (error) { return; }
      if (wants(scope, event.kind, event.subject)) schedule();
    });
    source.addEventListener("open", function () { document.body.dataset.live = "connected"; });
  }

  function bindCopy() {
    for (const button of document.querySelectorAll("button[data-copy]")) {
      button.addEventListener("click", async function () {
        const field = document.getElementById(button.dataset.copy);
        if (!field) return;
        field.select();
        try { await navigator.clipboard.writeText(field.value); button.textContent = "Copied"; } catch (error) { button.textContent = "Press Ctrl+C"; }
      });
    }
  }

  // SHA-256 (FIPS 180-4), so that a proof is checked even where WebCrypto is not offered (a plain
  // http origin other than localhost).
  const K = new Uint32Array([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
    0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
    0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2]);
  function sha256(bytes) {
    const length = bytes.length;
    const padded = new Uint8Array(((length + 9 + 63) >> 6) << 6);
    padded.set(bytes);
    padded[length] = 0x80;
    const view = new DataView(padded.buffer);
    view.setUint32(padded.length - 8, Math.floor(length / 0x20000000));
    view.setUint32(padded.length - 4, (length << 3) >>> 0);
    const h = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
    const w = new Uint32Array(64);
    const rotr = function (x, n) { return (x >>> n) | (x << (32 - n)); };
    for (let offset = 0; offset < padded.length; offset += 64) {
      for (let i = 0; i < 16; i++) w[i] = view.getUint32(offset + i * 4);
      for (let i = 16; i < 64; i++) {
        const s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >>> 3);
        const s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >>> 10);
        w[i] = (w[i - 16] + s0 + w[i - 7] + s1) >>> 0;
      }
      let [a, b, c, d, e, f, g, hh] = h;
      for (let i = 0; i < 64; i++) {
        const t1 = (hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i]) >>> 0;
        const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) >>> 0;
        hh = g; g = f; f = e; e = (d + t1) >>> 0; d = c; c = b; b = a; a = (t1 + t2) >>> 0;
      }
      h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
    }
    const out = new Uint8Array(32);
    const outView = new DataView(out.buffer);
    for (let i = 0; i < 8; i++) outView.setUint32(i * 4, h[i]);
    return out;
  }
  function concat(prefix, parts) {
    const total = parts.reduce(function (n, p) { return n + p.length; }, 1);
    const out = new Uint8Array(total);
    out[0] = prefix;
    let at = 1;
    for (const part of parts) { out.set(part, at); at += part.length; }
    return out;
  }
  function fromBase64(text) {
    const raw = atob(text);
    const out = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }
  function hex(bytes) { return Array.from(bytes, function (b) { return b.toString(16).padStart(2, "0"); }).join(""); }

  // RFC 9162 §2.1.3.2: the root an inclusion proof leads to, or null when it cannot lead anywhere.
  function rootFromInclusion(index, size, leaf, proof) {
    if (index >= size) return null;
    let fn = index, sn = size - 1;
    let r = sha256(concat(0x00, [leaf]));
    for (const p of proof) {
      if (sn === 0) return null;
      if (fn % 2 === 1 || fn === sn) {
        r = sha256(concat(0x01, [p, r]));
        if (fn % 2 === 0) { while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); } }
      } else {
        r = sha256(concat(0x01, [r, p]));
      }
      fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
    }
    return sn === 0 ? r : null;
  }

  function checkProof() {
    const box = document.getElementById("proof");
    const result = document.getElementById("proof-result");
    if (!box || !result) return;
    try {
      const index = Number(box.dataset.index), size = Number(box.dataset.size);
      const leaf = fromBase64(box.dataset.entry);
      const proof = box.dataset.proof ? box.dataset.proof.split(" ").map(fromBase64) : [];
      const root = fromBase64(box.dataset.root);
      const computed = rootFromInclusion(index, size, leaf, proof);
      if (computed && hex(computed) === hex(root)) {
        result.textContent = "Verified in this browser: entry " + index + " is in the log of " + size + " entries whose root is " + hex(root) + ".";
        result.className = "proof-result proof-ok";
        result.dataset.verified = "yes";
      } else {
        result.textContent = "The proof does NOT lead to the checkpoint's root" + (computed ? " (it leads to " + hex(computed) + ")" : "") + ": do not trust this answer.";
        result.className = "proof-result proof-bad";
        result.dataset.verified = "no";
      }
    } catch (error) {
      result.textContent = "The proof could not be read: " + error;
      result.className = "proof-result proof-bad";
      result.dataset.verified = "no";
    }
  }
  window.vouchRootFromInclusion = function (index, size, leafBase64, proofBase64) {
    const root = rootFromInclusion(index, size, fromBase64(leafBase64), proofBase64.map(fromBase64));
    return root ? hex(root) : null;
  };

  bindCopy();
  checkProof();
  listen();
})();
