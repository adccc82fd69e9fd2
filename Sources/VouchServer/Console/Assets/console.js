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
    } catch (error) {
      // The next event tries again.
    }
  }

  function schedule() {
    if (timer === null) timer = setTimeout(refresh, 250);
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

  bindCopy();
  listen();
})();
