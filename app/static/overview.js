// The overview refreshes its figures in place: htmx polls #overview-figures (data-poll). This file pauses
// that on request (remembered in localStorage) and while the tab is hidden, and tells screen readers when
// the figures changed. No inline script: the page's Content-Security-Policy allows none.
(function () {
  "use strict";
  var KEY = "hookyard.overview.paused";
  var button = document.getElementById("overview-pause");
  var status = document.getElementById("overview-status");

  function paused() {
    return window.localStorage.getItem(KEY) === "1";
  }

  function show() {
    button.setAttribute("aria-pressed", paused() ? "true" : "false");
    button.textContent = paused() ? "Resume auto-refresh" : "Pause auto-refresh";
  }

  button.addEventListener("click", function () {
    window.localStorage.setItem(KEY, paused() ? "0" : "1");
    show();
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    if (event.detail.elt.matches("[data-poll]") && (paused() || document.hidden)) {
      event.preventDefault();
    }
  });

  document.addEventListener("htmx:afterSwap", function () {
    var asOf = document.getElementById("overview-as-of");
    if (asOf) {
      status.textContent = "Figures updated: " + asOf.textContent;
    }
  });

  show();
})();
