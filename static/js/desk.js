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

  document.addEventListener("DOMContentLoaded", function () { showCannedPickers(document); });
  document.addEventListener("htmx:afterSettle", function (event) { showCannedPickers(event.target); });
})();
