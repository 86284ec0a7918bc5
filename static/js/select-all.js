// A "select all" checkbox (data-select-all="FORM_ID") ticks every checkbox of that form on the page.
// Delegated from the document: live regions replace the table, but the boxes keep their state (hx-preserve).
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var all = event.target.closest("[data-select-all]");
    if (!all) return;
    var boxes = document.querySelectorAll('input[type="checkbox"][form="' + all.dataset.selectAll + '"]');
    boxes.forEach(function (box) { box.checked = all.checked; });
  });
})();
