// Copy buttons beside the command lines virtdeck shows (templates/core/_commands.html): data-copy-command holds
// the exact line. Delegated from the document, so lines inside live regions keep working after a refresh.
(function () {
  "use strict";
  function copied(button) {
    var icon = button.querySelector("i");
    if (icon) { icon.className = "bi bi-clipboard-check"; }
    setTimeout(function () { if (icon) { icon.className = "bi bi-clipboard"; } }, 1500);
  }
  function fallback(text, button) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    try { if (document.execCommand("copy")) { copied(button); } } finally { area.remove(); }
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-command]");
    if (!button) return;
    var text = button.dataset.copyCommand;
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { copied(button); }, function () { fallback(text, button); });
    } else {
      fallback(text, button);  // plain http on another address: no clipboard API
    }
  });
})();
