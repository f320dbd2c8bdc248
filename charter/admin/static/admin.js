/* Charter admin: small progressive enhancements. Everything works without this file;
   it adds locale tabs (WAI-ARIA tabs pattern), confirmation of destructive buttons,
   and keeps focus and the active tab across htmx swaps. No inline script is needed (CSP). */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function activate(tab, focus) {
    var list = tab.closest("[role=tablist]");
    if (!list) return;
    list.querySelectorAll("[role=tab]").forEach(function (t) {
      var on = t === tab;
      t.setAttribute("aria-selected", on ? "true" : "false");
      t.tabIndex = on ? 0 : -1;
      var panel = document.getElementById(t.getAttribute("aria-controls"));
      if (panel) panel.classList.toggle("is-active", on);
    });
    var field = document.getElementById("active-tab");
    if (field && tab.dataset.locale) field.value = tab.dataset.locale;
    if (focus) tab.focus();
  }

  function initTabs(root) {
    root.querySelectorAll("[role=tablist]").forEach(function (list) {
      if (list.dataset.ready) return;
      list.dataset.ready = "1";
      var tabs = Array.prototype.slice.call(list.querySelectorAll("[role=tab]"));
      tabs.forEach(function (tab, i) {
        tab.addEventListener("click", function () { activate(tab, false); });
        tab.addEventListener("keydown", function (e) {
          var next = null;
          if (e.key === "ArrowRight") next = tabs[(i + 1) % tabs.length];
          else if (e.key === "ArrowLeft") next = tabs[(i - 1 + tabs.length) % tabs.length];
          else if (e.key === "Home") next = tabs[0];
          else if (e.key === "End") next = tabs[tabs.length - 1];
          if (next) { e.preventDefault(); activate(next, true); }
        });
      });
    });
  }

  // A link to a field inside a hidden locale panel (the error summary) first shows that panel.
  function revealTarget(hash) {
    if (!hash || hash.length < 2) return;
    var target = document.getElementById(decodeURIComponent(hash.slice(1)));
    if (!target) return;
    var panel = target.closest(".locale-panel");
    if (panel && !panel.classList.contains("is-active")) {
      var tab = document.querySelector("[role=tab][aria-controls='" + panel.id + "']");
      if (tab) activate(tab, false);
    }
    var control = target.matches("input,select,textarea,button") ? target : target.querySelector("input,select,textarea,button");
    (control || target).focus();
  }

  document.addEventListener("click", function (e) {
    var el = e.target.closest("[data-confirm]");
    if (el && !window.confirm(el.getAttribute("data-confirm"))) {
      e.preventDefault();
      e.stopImmediatePropagation();
      return;
    }
    var link = e.target.closest(".error-summary a[href^='#']");
    if (link) { e.preventDefault(); revealTarget(link.getAttribute("href")); }
  }, true);

  function init(root) {
    initTabs(root);
    var auto = root.querySelector && root.querySelector("[autofocus]");
    if (auto && root !== document) auto.focus();
  }

  // Live preview (docs/frontend.md): with the front end framed beside the editor, "Save draft" saves
  // without leaving the page, so the frame keeps its state; the front end re-renders from its own
  // preview stream and from the message posted to it here (only to the frame's configured origin).
  function replaceFrom(doc, selector) {
    var fresh = doc.querySelector(selector);
    var old = document.querySelector(selector);
    if (fresh && old) old.replaceWith(document.importNode(fresh, true));
  }

  document.addEventListener("submit", function (e) {
    var live = document.querySelector("[data-live-preview]");
    var form = e.target;
    if (!live || form.id !== "entry-form" || !e.submitter || e.submitter.name !== "_action" || !window.fetch) return;
    e.preventDefault();
    var status = document.getElementById("live-preview-status");
    var frame = live.querySelector("iframe");
    status.textContent = "Saving…";
    fetch(form.action, { method: "POST", body: new FormData(form, e.submitter), credentials: "same-origin" })
      .then(function (r) {
        return r.text().then(function (html) { return { saved: r.ok && r.redirected, html: html }; });
      })
      .then(function (res) {
        var doc = new DOMParser().parseFromString(res.html, "text/html");
        var fresh = doc.getElementById("entry-form");
        if (!fresh) throw new Error("unexpected answer");
        replaceFrom(doc, ".page-head .meta");
        replaceFrom(doc, "#editor-messages");
        replaceFrom(doc, ".edit-layout > aside.side");
        form.innerHTML = fresh.innerHTML;
        if (window.htmx) window.htmx.process(form);
        init(form);
        var base = form.querySelector("input[name=_base]");
        if (res.saved) {
          status.textContent = "Saved revision " + (base ? base.value : "") + ": the preview updates in place.";
          frame.contentWindow.postMessage({
            type: "charter:preview", entryId: live.dataset.entry,
            revision: base ? Number(base.value) : null, token: live.dataset.token
          }, live.dataset.origin);
          var save = form.querySelector("button[name=_action]");
          if (save) save.focus();
        } else {
          status.textContent = "Not saved: see the messages above the form.";
          var problem = document.querySelector("#editor-messages [role=alert], .error-summary");
          if (problem) { problem.setAttribute("tabindex", "-1"); problem.focus(); }
        }
      })
      .catch(function () { status.textContent = ""; form.submit(); });
  });

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (e) { init(e.target); });
})();
