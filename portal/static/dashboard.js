// Comparison dashboard: show the date fields that fit the chosen period (works without JS too).
(function () {
  var period = document.getElementById("period");
  if (!period) { return; }
  function update() {
    var custom = period.value === "custom";
    document.querySelectorAll(".period-custom").forEach(function (el) { el.style.display = custom ? "" : "none"; });
    document.querySelectorAll(".period-on").forEach(function (el) { el.style.display = custom ? "none" : ""; });
  }
  period.addEventListener("change", update);
  update();
})();
