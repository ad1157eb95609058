// The results form of a visit works without a network: each sending carries a UUID drawn here (the server
// answers a key it has seen with the stored outcome and writes nothing twice); a form sent while offline is
// queued in localStorage and sent when the network returns. No inline script: the CSP runs only static files.
(() => {
  const OUTBOX = "shijian.outbox";
  const form = document.getElementById("results-form");
  const status = document.getElementById("sync-status");

  const newKey = () => {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  };
  const load = () => {
    try {
      return JSON.parse(localStorage.getItem(OUTBOX) || "[]");
    } catch (e) {
      return [];
    }
  };
  const store = (items) => localStorage.setItem(OUTBOX, JSON.stringify(items));
  const say = (key) => {
    if (!status || !form) return;
    status.textContent = form.dataset[key] || "";
    status.hidden = !status.textContent;
  };

  let flushing = false;
  const flush = async () => {
    if (flushing || !navigator.onLine) return;
    flushing = true;
    let sentHere = false;
    try {
      for (const entry of load()) {
        let answer;
        try {
          answer = await fetch(entry.url, {
            method: "POST",
            body: new URLSearchParams(entry.fields),
            headers: { Accept: "application/json" },
            credentials: "same-origin",
          });
        } catch (e) {
          return; // still offline: keep the queue
        }
        const json = (answer.headers.get("Content-Type") || "").includes("application/json");
        if (!json) {
          say("msgSignin"); // signed out or refused: keep it for the next try
          return;
        }
        store(load().filter((e) => e.key !== entry.key)); // answered (recorded, replayed or refused): done
        if (form && entry.url === form.action) sentHere = true;
      }
    } finally {
      flushing = false;
    }
    if (sentHere) {
      say("msgSynced");
      window.setTimeout(() => window.location.reload(), 600);
    }
  };

  if (form) {
    const keyInput = form.elements.namedItem("submission_key");
    if (keyInput instanceof HTMLInputElement && !keyInput.value) keyInput.value = newKey();
    form.addEventListener("submit", (event) => {
      if (navigator.onLine) return; // sent as a plain form, with its key
      event.preventDefault();
      const fields = Array.from(new FormData(form).entries()).filter(([, v]) => typeof v === "string");
      const key = String(keyInput instanceof HTMLInputElement ? keyInput.value : newKey());
      store(load().filter((e) => e.key !== key).concat([{ key, url: form.action, fields }]));
      if (keyInput instanceof HTMLInputElement) keyInput.value = newKey(); // a later change is a new sending
      say("msgQueued");
    });
    if (load().some((e) => e.url === form.action)) say("msgQueued");
  }
  window.addEventListener("online", flush);
  window.setInterval(flush, 15000);
  flush();
})();
