// Hotline Desk: small progressive enhancements; every page works without this file.
(function () {
  "use strict";

  // Canned replies: insert the chosen text into the reply box, where it stays editable.
  function showCannedPickers(root) {
    root.querySelectorAll("[data-canned][hidden]").forEach(function (el) { el.hidden = false; });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-canned-insert]");
    if (!button) return;
    var select = document.getElementById(button.dataset.cannedInsert);
    var box = document.getElementById(button.dataset.cannedTarget);
    if (!select || !box || !select.value) return;
    var text = select.selectedOptions[0].dataset.body || "";
    box.value = box.value.trim() ? box.value.replace(/\s*$/, "\n\n") + text : text;
    select.value = "";
    box.focus();
    box.setSelectionRange(box.value.length, box.value.length);
  });

  // The queue refreshes itself, except while the operator is inside the table (keyboard focus
  // on a link or a Take button): replacing it then would throw their focus away. A listener
  // rather than an hx-trigger filter, because filters need eval and the CSP forbids it.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail && event.detail.elt;
    if (!elt || !elt.hasAttribute("data-pause-while-focused")) return;
    if (elt.contains(document.activeElement) && document.activeElement !== document.body) {
      event.preventDefault();
    }
  });

  document.addEventListener("DOMContentLoaded", function () { showCannedPickers(document); });
  document.addEventListener("htmx:afterSettle", function (event) { showCannedPickers(event.target); });
})();
