// The inbox page: keyboard shortcuts, composer text kept in sessionStorage (text only, per
// interaction) so an expired session never loses a reply, the typing signal for presence,
// and a paused list refresh while items are selected for a bulk action.
(function () {
  "use strict";

  var STORAGE_PREFIX = "agentiq:composer:";

  function composerText() {
    return document.getElementById("composer-text");
  }

  function storageKey(composer) {
    return STORAGE_PREFIX + composer.dataset.pk;
  }

  function safeStorage(fn) {
    try {
      return fn(window.sessionStorage);
    } catch (e) {
      return null; // storage disabled or full: the composer still works without it
    }
  }

  // Restore what was being typed (after a login or a reload); forget it once sent.
  function setUpComposer() {
    var composer = document.getElementById("composer");
    if (!composer || !composer.dataset.pk) return;
    var key = storageKey(composer);
    if (composer.dataset.sent === "true") {
      safeStorage(function (s) { s.removeItem(key); });
      return;
    }
    var text = composerText();
    if (!text) return;
    if (composer.dataset.restore === "true") {
      var saved = safeStorage(function (s) { return s.getItem(key); });
      if (saved !== null && saved !== text.value) {
        text.value = saved;
        text.dispatchEvent(new Event("input", { bubbles: true }));
      }
      composer.dataset.restore = "done";
    } else {
      safeStorage(function (s) { s.setItem(key, text.value); });
    }
  }

  var typingTimer = null;
  document.addEventListener("input", function (event) {
    var text = event.target;
    if (!text || text.id !== "composer-text") return;
    var composer = document.getElementById("composer");
    if (composer) {
      safeStorage(function (s) { s.setItem(storageKey(composer), text.value); });
    }
    var typing = document.getElementById("presence-typing");
    var presence = document.getElementById("presence");
    if (typing && presence && window.htmx) {
      var wasTyping = typing.value === "1";
      typing.value = "1";
      if (!wasTyping) window.htmx.trigger(presence, "typing-started");
      clearTimeout(typingTimer);
      typingTimer = setTimeout(function () {
        var current = document.getElementById("presence-typing");
        if (current) current.value = "";
      }, 5000);
    }
  });

  // Keep the typing flag across presence swaps while the agent is still typing.
  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.elt && event.detail.elt.id === "presence" && typingTimer) {
      var text = composerText();
      if (text && document.activeElement === text) event.detail.parameters.typing = "1";
    }
  });

  // Don't refresh the list under the agent's fingers while items are selected.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (elt && elt.id === "inbox-refresh" && document.querySelector(".row-check:checked")) {
      event.preventDefault();
    }
  });

  document.addEventListener("change", function (event) {
    if (event.target && event.target.id === "select-page") {
      var checked = event.target.checked;
      document.querySelectorAll(".row-check").forEach(function (box) { box.checked = checked; });
    }
  });

  function markCurrentRow() {
    var detail = document.getElementById("interaction-detail");
    var pk = detail ? detail.dataset.pk : null;
    document.querySelectorAll(".interaction-row").forEach(function (row) {
      row.classList.toggle("is-current", !!pk && row.id === "interaction-row-" + pk);
    });
  }

  function afterContentChange() {
    setUpComposer();
    markCurrentRow();
  }

  document.addEventListener("DOMContentLoaded", afterContentChange);
  document.addEventListener("htmx:afterSettle", afterContentChange);

  // --- keyboard shortcuts -------------------------------------------------------------------
  function isTextField(el) {
    if (!el) return false;
    var tag = el.tagName;
    return tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable ||
      (tag === "INPUT" && !["checkbox", "radio", "button", "submit"].includes(el.type));
  }

  function moveSelection(step) {
    var links = Array.prototype.slice.call(document.querySelectorAll(".interaction-row .row-link"));
    if (!links.length) return;
    var currentRow = document.querySelector(".interaction-row.is-current .row-link");
    var index = links.indexOf(document.activeElement);
    if (index < 0 && currentRow) index = links.indexOf(currentRow);
    var next = links[Math.min(Math.max(index + step, 0), links.length - 1)];
    if (index < 0) next = links[0];
    next.focus();
    next.click();
  }

  function toggleHelp() {
    var dialog = document.getElementById("shortcut-help");
    if (!dialog) return;
    if (dialog.open) dialog.close(); else dialog.showModal();
  }

  document.addEventListener("click", function (event) {
    if (event.target && event.target.closest && event.target.closest("#shortcut-help-open")) {
      toggleHelp();
    }
  });

  document.addEventListener("keydown", function (event) {
    // Ctrl+Enter (Cmd+Enter on a Mac) in the composer sends the reply.
    if ((event.ctrlKey || event.metaKey) && event.key === "Enter" &&
        event.target && event.target.id === "composer-text") {
      var form = document.getElementById("composer-form");
      if (form) { event.preventDefault(); form.requestSubmit(); }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (isTextField(event.target)) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    if (!document.getElementById("inbox")) return;
    var handled = true;
    switch (event.key) {
      case "j": moveSelection(1); break;
      case "k": moveSelection(-1); break;
      case "r": {
        var text = composerText();
        if (text) text.focus(); else handled = false;
        break;
      }
      case "a": {
        var assign = document.getElementById("assign-select");
        if (assign) assign.focus(); else handled = false;
        break;
      }
      case "e": {
        var close = document.getElementById("close-form");
        if (close) close.requestSubmit(); else handled = false;
        break;
      }
      case "/": {
        var search = document.getElementById("id_q");
        if (search) { search.focus(); search.select(); } else handled = false;
        break;
      }
      case "?": toggleHelp(); break;
      default: handled = false;
    }
    if (handled) event.preventDefault();
  });
})();
