// The overview's own words when its figures refresh: which moment they are of ("Figures updated: 2026-12-06
// 10:05:00 UTC"), for screen readers. Pausing, the countdown and the polling itself are hookyard.js's auto-refresh,
// the same on every page. No inline script: the page's Content-Security-Policy allows none.
(function () {
  "use strict";
  document.addEventListener("htmx:afterSettle", function () {
    var asOf = document.getElementById("overview-as-of");
    var status = document.getElementById("overview-status");
    if (asOf && status) {
      status.textContent = "Figures updated: " + asOf.textContent;
    }
  });
})();
