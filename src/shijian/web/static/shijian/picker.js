// Pickers instead of typed codes (no inline script: bound here by data attributes). The server validates what is
// submitted as before; a picker fills the same field a user could type into.
//
// <select data-children-of="town">: the villages of the town chosen in the form's "town" select (pick/regions/).
// <input data-region-picker [data-multiple]>: district → town → village selects under the user's region; the
//   deepest choice fills the input (or, with data-multiple, is added to its comma-separated list).
// <input data-suggest="industry|entity" [data-multiple]>: suggestions while typing (arrow keys, Enter, Escape).
(() => {
  "use strict";
  const base = "/pick/";
  const cache = new Map();

  function getJSON(url) {
    if (!cache.has(url)) {
      cache.set(
        url,
        fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then((r) => (r.ok ? r.json() : { items: [] }))
          .then((d) => d.items || [])
          .catch(() => {
            cache.delete(url);
            return [];
          }),
      );
    }
    return cache.get(url);
  }
  const regionsUnder = (code) => getJSON(base + "regions/" + (code ? "?under=" + encodeURIComponent(code) : ""));

  function option(value, label, selected) {
    const o = document.createElement("option");
    o.value = value;
    o.textContent = label;
    if (selected) o.selected = true;
    return o;
  }

  function addCode(input, code) {
    const codes = input.value.split(/[,，\s]+/).filter(Boolean);
    if (!codes.includes(code)) codes.push(code);
    input.value = codes.join(", ");
    input.dispatchEvent(new Event("input", { bubbles: true }));
  }

  // -- villages of the chosen town ------------------------------------------------------------------------------
  function bindChildren(select) {
    const form = select.form;
    const parent = form && form.elements.namedItem(select.dataset.childrenOf);
    if (!parent) return;
    const allLabel = select.dataset.labelAll || "";
    const fill = () => {
      const want = select.dataset.value || select.value;
      select.replaceChildren(option("", allLabel, !want));
      select.disabled = !parent.value;
      if (!parent.value) return;
      regionsUnder(parent.value).then((items) => {
        for (const d of items) select.append(option(d.code, d.name, d.code === want));
        select.dataset.value = "";
      });
    };
    parent.addEventListener("change", () => {
      select.dataset.value = "";
      fill();
    });
    fill();
  }

  // -- district → town → village --------------------------------------------------------------------------------
  function bindRegionPicker(input) {
    const multiple = input.hasAttribute("data-multiple");
    const box = document.createElement("span");
    box.className = "region-picker";
    input.after(box);
    let addButton = null;
    if (multiple) {
      addButton = document.createElement("button");
      addButton.type = "button";
      addButton.textContent = input.dataset.labelAdd || "+";
      addButton.disabled = true;
    }
    const chosen = () => {
      const selects = [...box.querySelectorAll("select")].filter((s) => s.value);
      return selects.length ? selects[selects.length - 1].value : "";
    };
    const level = (code, depth) => {
      regionsUnder(code).then((items) => {
        if (!items.length) return;
        const s = document.createElement("select");
        s.setAttribute("aria-label", (input.dataset.labelLevel || "") + " " + (depth + 1));
        s.append(option("", input.dataset.labelChoose || "—", true));
        for (const d of items) s.append(option(d.code, d.name, false));
        s.addEventListener("change", () => {
          let next = s.nextElementSibling;
          while (next && next.tagName === "SELECT") {
            const after = next.nextElementSibling;
            next.remove();
            next = after;
          }
          const code = chosen();
          if (!multiple && code) input.value = code;
          if (addButton) addButton.disabled = !code;
          if (s.value) level(s.value, depth + 1);
        });
        if (addButton) box.insertBefore(s, addButton);
        else box.append(s);
      });
    };
    if (addButton) {
      box.append(addButton);
      addButton.addEventListener("click", () => {
        const code = chosen();
        if (code) addCode(input, code);
      });
    }
    // the first level: what lies under the user's own region (a town-level user starts at its villages)
    regionsUnder("").then((roots) => {
      if (roots.length) level(roots[0].code, 0);
    });
  }

  // -- suggestions while typing ----------------------------------------------------------------------------------
  let seq = 0;
  const paths = { industry: "industries/", entity: "entities/" };
  function bindSuggest(input) {
    const kind = input.dataset.suggest;
    const multiple = input.hasAttribute("data-multiple");
    const list = document.createElement("ul");
    list.className = "suggest";
    list.setAttribute("role", "listbox");
    list.id = "suggest-" + ++seq;
    list.hidden = true;
    input.after(list);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", list.id);
    input.setAttribute("aria-expanded", "false");
    input.autocomplete = "off";
    let active = -1;
    let timer = 0;
    const term = () => (multiple ? input.value.split(/[,，]/).pop().trim() : input.value.trim());
    const close = () => {
      list.hidden = true;
      active = -1;
      input.setAttribute("aria-expanded", "false");
    };
    const choose = (li) => {
      const code = li.dataset.code;
      if (multiple) {
        const parts = input.value.split(/[,，]/).slice(0, -1).map((p) => p.trim()).filter(Boolean);
        if (!parts.includes(code)) parts.push(code);
        input.value = parts.join(", ");
      } else input.value = code;
      close();
      input.dispatchEvent(new Event("change", { bubbles: true }));
    };
    const mark = (i) => {
      const items = list.querySelectorAll("li");
      items.forEach((li, k) => li.setAttribute("aria-selected", String(k === i)));
      active = i;
      if (items[i]) items[i].scrollIntoView({ block: "nearest" });
    };
    const show = (items) => {
      list.replaceChildren();
      for (const it of items) {
        const li = document.createElement("li");
        li.setAttribute("role", "option");
        li.dataset.code = it.code;
        const code = document.createElement("b");
        code.textContent = it.code;
        li.append(code, " " + it.name + (it.detail ? " · " + it.detail : ""));
        li.addEventListener("mousedown", (e) => {
          e.preventDefault();
          choose(li);
        });
        list.append(li);
      }
      list.hidden = !items.length;
      input.setAttribute("aria-expanded", String(!!items.length));
      mark(items.length ? 0 : -1);
    };
    input.addEventListener("input", () => {
      clearTimeout(timer);
      const t = term();
      if (!t || (kind === "entity" && t.length < 2)) return close();
      timer = setTimeout(() => getJSON(base + paths[kind] + "?q=" + encodeURIComponent(t)).then((items) => {
        if (term() === t) show(items);
      }), 150);
    });
    input.addEventListener("keydown", (e) => {
      const items = list.querySelectorAll("li");
      if (list.hidden || !items.length) return;
      if (e.key === "ArrowDown") mark(Math.min(active + 1, items.length - 1));
      else if (e.key === "ArrowUp") mark(Math.max(active - 1, 0));
      else if (e.key === "Enter" && active >= 0) choose(items[active]);
      else if (e.key === "Escape") close();
      else return;
      e.preventDefault();
    });
    input.addEventListener("blur", close);
  }

  function bindAll(root) {
    root.querySelectorAll("select[data-children-of]").forEach(bindChildren);
    root.querySelectorAll("input[data-region-picker]").forEach(bindRegionPicker);
    root.querySelectorAll("input[data-suggest]").forEach(bindSuggest);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => bindAll(document));
  else bindAll(document);
})();
