// The serve page: build a serving list by tapping products (one tap = one more), then confirm
// once. Without the script the quantities are typed into the same fields.
(function () {
  "use strict";
  var form = document.getElementById("serve-form");
  if (form) {
    var summary = form.querySelector(".serve-summary");
    var refresh = function () {
      var parts = [];
      form.querySelectorAll(".serve-card").forEach(function (card) {
        var input = card.querySelector("input");
        var n = parseInt(input.value, 10) || 0;
        card.classList.toggle("serve-chosen", n > 0);
        if (n > 0) { parts.push(card.querySelector("strong").textContent + " × " + n); }
      });
      summary.textContent = parts.length ? parts.join("、") : summary.dataset.empty;
    };
    form.querySelectorAll(".serve-card").forEach(function (card) {
      var input = card.querySelector("input");
      var step = function (delta) {
        input.value = Math.max(0, (parseInt(input.value, 10) || 0) + delta);
        refresh();
      };
      card.querySelector(".serve-add").addEventListener("click", function () { step(1); });
      card.querySelector(".serve-minus").addEventListener("click", function () { step(-1); });
      input.addEventListener("input", refresh);
    });
    refresh();
  }
}());
