// The handover book's photo picker: the native file input is hidden behind a styled label
// (its "Choose Files" text is the browser's, never translated); this shows what was chosen.
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches(".photo-pick-input")) return;
    var names = document.getElementById(input.getAttribute("data-names"));
    if (!names) return;
    var files = Array.prototype.map.call(input.files || [], function (f) { return f.name; });
    names.textContent = files.length
      ? input.getAttribute("data-chosen").replace("{n}", files.length) + " " + files.join("、")
      : input.getAttribute("data-none");
  });
})();
