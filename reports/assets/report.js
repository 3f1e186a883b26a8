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
  // links to a scenario open it
  function openTarget() {
    var id = decodeURIComponent(location.hash.slice(1));
    var el = id && document.getElementById(id);
    if (el && el.tagName === "DETAILS") { el.hidden = false; el.open = true; }
  }
  window.addEventListener("hashchange", openTarget);
  openTarget();
  window.addEventListener("beforeprint", function () { scenarios.forEach(function (d) { d.hidden = false; d.open = true; }); });
})();
