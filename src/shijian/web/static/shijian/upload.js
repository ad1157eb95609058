// Resumable upload of a department's file (the server's side: shijian/dataadmin/uploads.py).
// POST creates the upload; PATCH sends one piece at the server's offset; after a dropped connection the client asks
// the offset (GET) and goes on from there. The upload's URL is kept in localStorage under the file's name, size and
// date, so choosing the same file again after the page was closed resumes it too.
(() => {
  const form = document.getElementById("upload-form");
  if (!form) return;
  const input = document.getElementById("upload-file");
  const state = document.getElementById("upload-state");
  const bar = document.getElementById("upload-progress");
  const pct = document.getElementById("upload-pct");
  const jobBox = document.getElementById("upload-job");
  const jobLink = document.getElementById("upload-job-link");
  const token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  const piece = Math.max(64, parseInt(form.dataset.piece, 10) || 8388608);
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  function show(offset, size) {
    const p = size ? Math.floor((100 * offset) / size) : 0;
    bar.value = p;
    pct.textContent = p + "%";
  }

  async function json(response) {
    try { return await response.json(); } catch (e) { return {}; }
  }

  async function status(url) {
    const r = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (!r.ok) return null;
    return json(r);
  }

  async function create(file) {
    const body = new URLSearchParams({ filename: file.name, size: String(file.size) });
    const r = await fetch(form.dataset.create, {
      method: "POST", body, credentials: "same-origin", headers: { "X-CSRFToken": token, Accept: "application/json" },
    });
    const data = await json(r);
    if (r.status !== 201) throw new Error(data.error || String(r.status));
    return data;
  }

  async function send(file) {
    const key = ["shijian.upload", form.dataset.feed, file.name, file.size, file.lastModified].join(":");
    let upload = null;
    const known = localStorage.getItem(key);
    if (known) {
      upload = await status(known).catch(() => null);
      if (upload && upload.status === "receiving") state.textContent = state.dataset.resumed;
      else upload = null;
    }
    if (!upload) {
      upload = await create(file);
      localStorage.setItem(key, upload.url);
    }
    let offset = upload.offset;
    let pause = 500;
    state.textContent = state.dataset.sending;
    show(offset, file.size);
    while (offset < file.size) {
      let r;
      try {
        r = await fetch(upload.url, {
          method: "PATCH",
          credentials: "same-origin",
          headers: {
            "X-CSRFToken": token, "Upload-Offset": String(offset),
            "Content-Type": "application/offset+octet-stream", Accept: "application/json",
          },
          body: file.slice(offset, offset + piece),
        });
      } catch (e) {
        r = null; // the connection dropped: ask where the server is and go on from there
      }
      if (r && (r.ok || r.status === 409)) {
        const data = await json(r);
        offset = typeof data.offset === "number" ? data.offset : offset;
        upload = { ...upload, ...data };
        pause = 500;
        show(offset, file.size);
        continue;
      }
      if (r && r.status >= 400 && r.status < 500) {
        const data = await json(r);
        throw new Error(data.error || String(r.status));
      }
      state.textContent = state.dataset.retrying;
      await sleep(pause);
      pause = Math.min(pause * 2, 30000);
      const now = await status(upload.url).catch(() => null);
      if (now) { offset = now.offset; upload = { ...upload, ...now }; }
    }
    localStorage.removeItem(key);
    show(file.size, file.size);
    state.textContent = state.dataset.done;
    if (upload.job) {
      jobLink.href = upload.job;
      jobBox.hidden = false;
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const file = input.files && input.files[0];
    if (!file) return;
    send(file).catch((e) => { state.textContent = state.dataset.failed + " " + e.message; });
  });
})();
