// Optional comfort: filters and expand/collapse for the scenarios, and every
// scenario opened before printing. The report reads the same without it.
(function () {
  "use strict";
  var bar = document.querySelector(".filters");
  var scenarios = Array.prototype.slice.call(document.querySelectorAll("details.scenario"));
  if (bar) {
    bar.hidden = false;
    bar.addEventListener("click", function (ev) {
      var b = ev.target.closest("button");
      if (!b) return;
      if (b.dataset.expand !== undefined) {
        scenarios.forEach(function (d) { if (!d.hidden) d.open = b.dataset.expand === "1"; });
        return;
      }
      var f = b.dataset.filter;
      bar.querySelectorAll("button[data-filter]").forEach(function (x) { x.setAttribute("aria-pressed", String(x === b)); });
      scenarios.forEach(function (d) { d.hidden = f !== "all" && d.dataset.status !== f; });
    });
  }
  // a text filter over scenarios, page loads and findings
  var q = document.getElementById("q");
  if (q) {
    q.hidden = false;
    var items = Array.prototype.slice.call(document.querySelectorAll(".searchable, #findings article.finding"));
    var groups = Array.prototype.slice.call(document.querySelectorAll("#findings .req-group"));
    var texts = items.map(function (el) { return el.textContent.toLowerCase(); });
    q.addEventListener("input", function () {
      var words = q.value.toLowerCase().split(/\s+/).filter(Boolean);
      items.forEach(function (el, i) {
        el.classList.toggle("no-match", !words.every(function (w) { return texts[i].indexOf(w) >= 0; }));
      });
      groups.forEach(function (g) {
        g.classList.toggle("no-match", words.length > 0 && !g.querySelector("article.finding:not(.no-match)"));
      });
    });
  }
  // links to a scenario or a page load open it
  function openTarget() {
    var id = decodeURIComponent(location.hash.slice(1));
    var el = id && document.getElementById(id);
    if (el && el.tagName === "DETAILS") { el.hidden = false; el.open = true; }
  }
  window.addEventListener("hashchange", openTarget);
  openTarget();
  window.addEventListener("beforeprint", function () { scenarios.forEach(function (d) { d.hidden = false; d.open = true; }); });
})();
