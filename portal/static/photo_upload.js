// Styled photo pickers (photos/_upload_button.html): the button says how many photos are chosen.
(function () {
  "use strict";
  document.querySelectorAll(".photo-upload-input").forEach(function (input) {
    input.addEventListener("change", function () {
      var label = input.parentElement.querySelector(".photo-upload-label");
      var n = input.files ? input.files.length : 0;
      label.textContent = n ? label.dataset.label + " ×" + n : label.dataset.label;
      input.parentElement.classList.toggle("btn-outline-secondary", !n);
      input.parentElement.classList.toggle("btn-success", Boolean(n));
    });
  });
}());
