// Item check page: highlight a line as soon as it differs from "as expected, OK". A count still
// to be typed (blank) is no difference yet.
(function () {
  "use strict";
  function refresh(line) {
    var counted = line.querySelector(".counted-input");
    var checked = line.querySelector(".condition-toggle input:checked");
    var typed = counted && String(counted.value) !== "";
    var differs = (typed && String(counted.value) !== line.dataset.expected) ||
      (checked && checked.value !== "ok");
    line.classList.toggle("discrepancy", Boolean(differs));
  }
  document.querySelectorAll(".item-line[data-expected]").forEach(function (line) {
    line.addEventListener("input", function (event) {
      event.target.classList.remove("is-invalid");  // being corrected
      refresh(line);
    });
    line.addEventListener("change", function () { refresh(line); });
    line.addEventListener("click", function () { window.setTimeout(function () { refresh(line); }, 0); });
  });
  document.querySelectorAll(".category-head input[name=confirmed]").forEach(function (box) {
    box.addEventListener("change", function () {
      box.closest(".category-head").classList.remove("border-danger");
    });
  });
}());
