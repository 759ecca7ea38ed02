// Behaviour that Flask-Admin writes as inline onclick handlers, moved here so the
// Content-Security-Policy can forbid inline script (see portal/security.py).
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    // data-confirm (e.g. the row delete button) is handled once, in portal.js.
    var action = event.target.closest("[data-model-action]");
    if (action && window.modelActions) {
      event.preventDefault();
      window.modelActions.execute(action.getAttribute("data-model-action"));
    }
  });
})();
