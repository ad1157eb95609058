// 识别营业执照: send the chosen photo to the server (shijian/ocr/views.py), fill the form's fields from the answer.
// The box names its fields in data-fill ("uscc:id_uscc name:id_name ..."); nothing is sent anywhere else.
(() => {
  for (const box of document.querySelectorAll("[data-licence-ocr]")) {
    const input = box.querySelector("input[type=file]");
    const state = box.querySelector("output");
    const token = box.closest("form").querySelector("input[name=csrfmiddlewaretoken]").value;
    const targets = box.dataset.fill.split(" ").map((pair) => pair.split(":"));
    input.addEventListener("change", async () => {
      if (!input.files.length) return;
      const body = new FormData();
      body.append("image", input.files[0]);
      state.textContent = box.dataset.busy;
      let answer = {};
      try {
        const r = await fetch(box.dataset.url, {
          method: "POST", body, credentials: "same-origin", headers: { "X-CSRFToken": token, Accept: "application/json" },
        });
        answer = await r.json();
      } catch (e) {
        answer = { error: box.dataset.failed };
      }
      if (answer.error) { state.textContent = answer.error; return; }
      let filled = 0;
      for (const [key, id] of targets) {
        const field = document.getElementById(id);
        const value = answer[key] && answer[key].value;
        if (field && value) { field.value = value; filled += 1; }
      }
      state.textContent = answer.message || (box.dataset.done + " " + filled + (answer.entity ? " · " + box.dataset.registered + " " + answer.entity.name : ""));
    });
  }
})();
