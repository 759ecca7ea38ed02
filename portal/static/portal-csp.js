// Behaviour that Flask-Admin writes as inline onclick handlers, moved here so the
// Content-Security-Policy can forbid inline script (see portal/security.py).
(function () {
  "use strict";
  // Flask-Admin and select2 mark menu toggles with href="javascript:void(0)". Following such a
  // link is inline script, which the policy refuses (one console error per click); the click
  // itself is handled by Bootstrap/select2, so only the link's default action is cancelled.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest('a[href^="javascript:"]');
    if (link) {
      event.preventDefault();
    }
  }, true);
  document.addEventListener("click", function (event) {
    // data-confirm (e.g. the row delete button) is handled once, in portal.js.
    var add = event.target.closest("[data-inline-add]");
    if (add && window.faForm) {
      event.preventDefault();
      window.faForm.addInlineField(add, add.getAttribute("data-inline-add"));
      return;
    }
    var action = event.target.closest("[data-model-action]");
    if (action && window.modelActions) {
      event.preventDefault();
      window.modelActions.execute(action.getAttribute("data-model-action"));
    }
  });
})();
