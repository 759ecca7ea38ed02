// Portal-wide behaviour without inline script (CSP-friendly).
(function () {
  "use strict";
  // Confirmation before anything destructive: <form data-confirm="…"> or <button data-confirm="…">.
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var message = (button && button.getAttribute("data-confirm")) || event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { event.preventDefault(); }
  }, true);
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-confirm]");
    if (link && !window.confirm(link.getAttribute("data-confirm"))) { event.preventDefault(); }
  });
  // <select data-reload-param="site">: choosing a value reloads the page with ?site=<value>.
  document.querySelectorAll("select[data-reload-param]").forEach(function (select) {
    select.addEventListener("change", function () {
      window.location.search = "?" + encodeURIComponent(select.getAttribute("data-reload-param")) + "=" +
        encodeURIComponent(select.value);
    });
  });
  // Flask-Admin's list checkboxes carry only a title: make it their accessible name.
  document.querySelectorAll("input[type=checkbox][title]:not([aria-label])").forEach(function (box) {
    box.setAttribute("aria-label", box.getAttribute("title"));
  });
  // Charts are images: name each by the heading of its card.
  document.querySelectorAll("svg[role=img]:not([aria-label])").forEach(function (svg) {
    var box = svg.closest(".card, figure, section");
    var heading = box && box.querySelector("h2, h3, h4, h5, figcaption, .card-header");
    if (heading) { svg.setAttribute("aria-label", heading.textContent.trim()); }
  });
}());
