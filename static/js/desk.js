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

  // A refused form comes back with its error beside it: put the focus there, so the keyboard
  // and a screen reader land on what needs fixing (the field, or the form's message).
  function focusFirstError(root) {
    var field = root.querySelector("[aria-invalid='true']");
    var message = root.querySelector("[data-form-error]");
    var target = field || message;
    if (!target) return;
    var panel = target.closest("details");
    if (panel) panel.open = true;
    if (target === message) target.setAttribute("tabindex", "-1");
    target.focus();
    if (message) announce(message.textContent.trim());
  }

  // --- keyboard shortcuts (the list: base.html, "?") -------------------------------------------

  function announce(text) {
    var region = document.getElementById("announce");
    if (!region || !text) return;
    region.textContent = "";
    window.setTimeout(function () { region.textContent = text; }, 50);
  }

  function isTyping(el) {
    if (!el) return false;
    if (el.isContentEditable || el.tagName === "TEXTAREA" || el.tagName === "SELECT") return true;
    if (el.tagName !== "INPUT") return false;
    return ["checkbox", "radio", "button", "submit", "reset", "hidden"].indexOf(el.type) === -1;
  }

  function queueRows() {
    return Array.prototype.slice.call(document.querySelectorAll("#queue-table tbody tr"))
      .filter(function (row) { return row.querySelector("th a"); });
  }

  var selectedCase = null;  // the queue row chosen with j/k, kept across the table's refreshes

  function markSelected() {
    queueRows().forEach(function (row) {
      row.classList.toggle("selected", row.querySelector("th a").textContent.trim() === selectedCase);
    });
  }

  function moveInQueue(step) {
    var rows = queueRows();
    if (!rows.length) { announce(document.getElementById("queue-table").dataset.emptyText || ""); return; }
    var current = rows.findIndex(function (row) { return row.contains(document.activeElement); });
    if (current === -1) current = rows.findIndex(function (row) { return row.classList.contains("selected"); });
    var next = current === -1 ? (step > 0 ? 0 : rows.length - 1) : Math.min(Math.max(current + step, 0), rows.length - 1);
    var link = rows[next].querySelector("th a");
    selectedCase = link.textContent.trim();
    markSelected();
    link.focus();
    var template = document.getElementById("queue-table").dataset.rowText || "{number}: {position} / {total}";
    var state = rows[next].querySelector("td.left");
    announce(template.replace("{number}", selectedCase).replace("{position}", next + 1).replace("{total}", rows.length)
      + (state ? ", " + state.textContent.trim().replace(/\s+/g, " ") : ""));
  }

  function clickShortcut(key) {
    var target = document.querySelector("[data-shortcut='" + key + "']");
    if (!target) return false;
    announce(target.textContent.trim());
    target.click();
    return true;
  }

  function focusField(id, panelId, what) {
    var field = document.getElementById(id);
    if (!field) return false;
    var panel = panelId ? document.getElementById(panelId) : field.closest("details");
    if (panel) panel.open = true;
    field.focus();
    announce(what || "");
    return true;
  }

  function openHelp() {
    var dialog = document.getElementById("shortcuts");
    if (!dialog || dialog.open) return;
    dialog.showModal();
  }

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-help-open]")) openHelp();
  });

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    var active = document.activeElement;
    if (isTyping(active)) {
      if (event.key === "Escape") {
        active.blur();
        announce(document.body.dataset.leftField || "");
      }
      return;
    }
    var dialog = document.getElementById("shortcuts");
    if (dialog && dialog.open) return;  // the dialog has its own keys (Esc closes it)
    var handled = true;
    switch (event.key) {
      case "?": openHelp(); break;
      case "j": if (queueRows().length) moveInQueue(1); else handled = clickShortcut("j"); break;
      case "k": if (queueRows().length) moveInQueue(-1); else handled = false; break;
      case "t": handled = clickShortcut("t"); break;
      case "r": handled = focusField("id_text", null, document.body.dataset.replyText); break;
      case "n": handled = focusField("note_text", "note-panel", document.body.dataset.noteText); break;
      case "/": handled = focusField("search-q", null, "") || focusField("id_q", null, ""); break;
      case "u": window.location.href = document.querySelector(".brand").getAttribute("href"); break;
      default: handled = false;
    }
    if (handled) event.preventDefault();
  });

  document.addEventListener("DOMContentLoaded", function () {
    showCannedPickers(document);
    focusFirstError(document);
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    showCannedPickers(event.target);
    if (event.target.id === "queue-table") { markSelected(); return; }
    focusFirstError(event.target);
  });
})();

// Media on the case page (templates/hotline/_message_media.html): copy a location's
// coordinates, and show a photo larger in a dialog. Without this file the photo link opens
// the image itself and the coordinates can be selected by hand.
(function () {
  "use strict";

  function showCopyButtons(root) {
    if (!navigator.clipboard) return;
    root.querySelectorAll("[data-copy][hidden]").forEach(function (el) { el.hidden = false; });
  }

  document.addEventListener("click", function (event) {
    var copy = event.target.closest("[data-copy]");
    if (copy) {
      var source = document.getElementById(copy.dataset.copy);
      if (source && navigator.clipboard) {
        navigator.clipboard.writeText(source.textContent.trim()).then(function () {
          var label = copy.textContent;
          copy.textContent = copy.dataset.copied || label;
          setTimeout(function () { copy.textContent = label; }, 1500);
        });
      }
      return;
    }
    var zoom = event.target.closest("[data-zoom]");
    if (!zoom || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    var dialog = document.getElementById("media-dialog");
    if (!dialog) {
      dialog = document.createElement("dialog");
      dialog.id = "media-dialog";
      dialog.className = "media-dialog";
      dialog.addEventListener("click", function () { dialog.close(); });
      document.body.appendChild(dialog);
    }
    var img = document.createElement("img");
    img.src = zoom.getAttribute("href");
    img.alt = (zoom.querySelector("img") || {}).alt || "";
    dialog.replaceChildren(img);
    dialog.showModal();
  });

  document.addEventListener("DOMContentLoaded", function () { showCopyButtons(document); });
  document.addEventListener("htmx:afterSettle", function (event) { showCopyButtons(event.target); });
})();

// Sending a file: refuse one too large for the chosen way (photo or document) before the
// upload starts; the server checks again and says the same beside the form.
(function () {
  "use strict";

  function check(form) {
    var input = form.querySelector("input[type=file][data-max-photo]");
    if (!input || !input.files || !input.files.length) return;
    var chosen = form.querySelector("input[name=send_as]:checked");
    var photo = !chosen || chosen.value === "photo";
    var limit = Number(photo ? input.dataset.maxPhoto : input.dataset.maxDocument);
    input.setCustomValidity(input.files[0].size > limit ? input.dataset.tooLarge : "");
  }

  document.addEventListener("change", function (event) {
    var form = event.target.closest("form.send-file");
    if (form) check(form);
  });
})();
