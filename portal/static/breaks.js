// Running break timer: counts the minutes since the break started (rendered by the server) and
// turns the badge red once the break lasts 10 minutes or more.
(function () {
  "use strict";
  var badge = document.getElementById("break-timer");
  if (!badge || badge.dataset.ticking) { return; }
  badge.dataset.ticking = "1";
  var started = Date.parse(badge.dataset.started);
  var limit = Number(badge.dataset.limitMinutes || 10);
  var over = document.getElementById("break-over");
  var unit = badge.textContent.replace(/^[\d\s]+/, "");
  function refresh() {
    var minutes = Math.max(0, Math.floor((Date.now() - started) / 60000));
    badge.textContent = minutes + " " + unit.trim();
    var late = minutes >= limit;
    badge.classList.toggle("badge-danger", late);
    badge.classList.toggle("badge-secondary", !late);
    if (over) { over.classList.toggle("d-none", !late); }
  }
  if (!isNaN(started)) {
    refresh();
    window.setInterval(refresh, 15000);
  }
}());
