// Progressive enhancement only: every page works without it. On a phone the filters start
// closed behind their "Filtres" button, so the results come first.
if (window.matchMedia("(max-width: 48em)").matches) {
  for (const d of document.querySelectorAll("details.ow-filters")) d.open = false;
}

// Search as you type: the keyword box becomes an ARIA 1.2 combobox (list autocomplete) fed by
// /api/v1/suggest. Arrow keys move through the completions, Enter or a click follows one,
// Escape closes the list; a live region says how many there are.
(function () {
  const input = document.getElementById("q");
  if (!input || !window.fetch) return;
  const wrap = document.createElement("div");
  wrap.className = "ow-combo";
  input.parentNode.insertBefore(wrap, input);
  wrap.appendChild(input);
  const list = document.createElement("ul");
  list.id = "q-suggestions";
  list.className = "ow-suggestions";
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", "Suggestions");
  list.hidden = true;
  wrap.appendChild(list);
  const status = document.createElement("p");
  status.className = "fr-sr-only";
  status.setAttribute("role", "status");
  wrap.appendChild(status);
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-expanded", "false");
  input.setAttribute("aria-controls", list.id);
  input.setAttribute("autocomplete", "off");
  const kinds = { title: "intitulé", location: "lieu", service: "service", administration: "administration", reference: "référence" };
  let items = [];
  let active = -1;
  let asked = 0;
  let timer = null;

  function close() {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }
  function highlight(i) {
    const options = list.querySelectorAll("[role=option]");
    options.forEach((o, k) => o.setAttribute("aria-selected", k === i ? "true" : "false"));
    active = i;
    if (i >= 0) input.setAttribute("aria-activedescendant", options[i].id);
    else input.removeAttribute("aria-activedescendant");
  }
  function follow(i) {
    const s = items[i];
    if (!s) return;
    if (s.kind === "administration") {
      window.location.href = "/?" + s.search;
      return;
    }
    input.value = s.text;
    close();
    if (input.form) input.form.submit();
  }
  function show(suggestions) {
    items = suggestions;
    list.textContent = "";
    suggestions.forEach((s, i) => {
      const li = document.createElement("li");
      li.id = "q-suggestion-" + i;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      const text = document.createElement("span");
      text.textContent = s.text;
      const meta = document.createElement("span");
      meta.className = "ow-suggestion-meta";
      meta.textContent = " " + (kinds[s.kind] || s.kind) + " · " + s.count + (s.count > 1 ? " offres" : " offre");
      li.append(text, meta);
      li.addEventListener("mousedown", (e) => { e.preventDefault(); follow(i); });
      list.appendChild(li);
    });
    const n = suggestions.length;
    list.hidden = n === 0;
    input.setAttribute("aria-expanded", n > 0 ? "true" : "false");
    active = -1;
    status.textContent = n === 0 ? "" : n + (n > 1 ? " suggestions disponibles" : " suggestion disponible");
  }
  function ask() {
    const q = input.value;
    if (q.trim().length < 2) { show([]); return; }
    const mine = ++asked;
    fetch("/api/v1/suggest?limit=8&q=" + encodeURIComponent(q))
      .then((r) => (r.ok ? r.json() : { suggestions: [] }))
      .then((body) => { if (mine === asked) show(body.suggestions || []); })
      .catch(() => {});
  }
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(ask, 120);
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown") {
      if (list.hidden) { ask(); return; }
      e.preventDefault();
      highlight(Math.min(active + 1, items.length - 1));
    } else if (e.key === "ArrowUp") {
      if (list.hidden) return;
      e.preventDefault();
      highlight(Math.max(active - 1, -1));
    } else if (e.key === "Enter" && !list.hidden && active >= 0) {
      e.preventDefault();
      follow(active);
    } else if (e.key === "Escape" && !list.hidden) {
      e.preventDefault();
      close();
    }
  });
  input.addEventListener("blur", () => setTimeout(close, 100));
})();

// "Imprimer" on an offer's page (the button stays hidden without JavaScript: the browser's own
// command prints the page without its menus).
for (const b of document.querySelectorAll("[data-print]")) {
  b.hidden = false;
  b.addEventListener("click", () => window.print());
}

// "Ville ou code postal": the place boxes (data-communes) propose communes from
// /api/v1/communes in their native datalist as the person types; without JavaScript the box
// takes a postal code, an INSEE code or a name as typed.
for (const input of document.querySelectorAll("input[data-communes]")) {
  const list = input.list;
  if (!list || !window.fetch) continue;
  let asked = 0;
  let timer = null;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const q = input.value.trim();
      if (q.length < 2) return;
      const mine = ++asked;
      fetch("/api/v1/communes?limit=8&q=" + encodeURIComponent(q))
        .then((r) => (r.ok ? r.json() : { communes: [] }))
        .then((body) => {
          if (mine !== asked) return;
          list.textContent = "";
          for (const c of body.communes || []) {
            const o = document.createElement("option");
            const postcode = /^[0-9]+$/.test(q) ? c.postcodes.find((p) => p.startsWith(q)) : null;
            o.value = c.name + " (" + (postcode || c.department) + ")";
            list.appendChild(o);
          }
        })
        .catch(() => {});
    }, 120);
  });
}
