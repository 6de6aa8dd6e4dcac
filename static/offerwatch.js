// Progressive enhancement only: every page works without it. On a phone the filters start
// closed behind their "Filtres" button, so the results come first.
if (window.matchMedia("(max-width: 48em)").matches) {
  for (const d of document.querySelectorAll("details.ow-filters")) d.open = false;
}
