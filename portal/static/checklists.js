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

// Checklist run: a "no" shows the item's follow-up buttons at once, before anything is saved.
// Bootstrap's toggle buttons set the radio on click without a native change event, so the
// state is read after each click as well.
(function () {
  "use strict";
  function refresh(item) {
    var no = item.querySelector(".yes-no input[value=no]");
    if (!no) { return; }
    item.classList.toggle("is-failed", no.checked);
    item.classList.toggle("list-group-item-danger", no.checked);
  }
  document.querySelectorAll("li.checklist-item").forEach(function (item) {
    item.addEventListener("change", function () { refresh(item); });
    item.addEventListener("click", function () { window.setTimeout(function () { refresh(item); }, 0); });
  });
}());

// Repair form of a checklist answer: picking an item fills its location when none is written,
// and "other equipment" is asked for only when no item is picked.
(function () {
  "use strict";
  var form = document.getElementById("answer-repair-form");
  if (!form) { return; }
  var locations = JSON.parse(form.dataset.locations || "{}");
  var item = form.querySelector("select[name=item]");
  var location = form.querySelector("input[name=location]");
  var other = form.querySelector(".other-equipment");
  var filled = "";
  function refresh() {
    var picked = locations[item.value] || "";
    if (!location.value || location.value === filled) { location.value = picked; filled = picked; }
    other.classList.toggle("d-none", item.value !== "0");
  }
  item.addEventListener("change", refresh);
  refresh();
}());
