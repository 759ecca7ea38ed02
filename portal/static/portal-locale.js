// The page's language for the widgets whose words the browser or Flask-Admin's scripts write:
// file inputs ("Choose Files"), moment's month and day names, the date-range picker's buttons.
// Loaded after moment.js and before the picker's script; the words come translated from the
// template (data-* on this script tag).
(function () {
  "use strict";
  var script = document.currentScript;
  var labels = script ? script.dataset : {};
  var lang = (document.documentElement.lang || "").toLowerCase();

  // A file input keeps its place in the form and the keyboard order (it is only made
  // transparent); the label next to it is what a person sees and taps. A picker its template
  // already styles (data-portal-file, e.g. photos/_upload_button.html) is left alone.
  function styleFileInput(input) {
    if (input.dataset.portalFile) {
      return;
    }
    input.dataset.portalFile = "1";
    var photos = (input.getAttribute("accept") || "").indexOf("image") === 0;
    if (!input.id) {
      input.id = "file-" + Math.random().toString(36).slice(2);
    }
    var wrap = document.createElement("span");
    wrap.className = "portal-file";
    var button = document.createElement("label");
    button.className = "btn btn-outline-primary portal-file-button";
    button.htmlFor = input.id;
    button.textContent = photos ? labels.choosePhotos : labels.chooseFiles;
    var chosen = document.createElement("span");
    chosen.className = "portal-file-chosen text-muted";
    chosen.setAttribute("aria-live", "polite");
    chosen.textContent = labels.noFile;
    input.parentNode.insertBefore(wrap, input);
    wrap.appendChild(input);
    wrap.appendChild(button);
    wrap.appendChild(chosen);
    input.classList.add("portal-file-input");
    input.addEventListener("change", function () {
      var files = input.files || [];
      chosen.textContent = files.length === 0 ? labels.noFile
        : files.length === 1 ? files[0].name
        : labels.filesChosen.replace("{n}", files.length);
    });
  }
  function styleFileInputs() {
    document.querySelectorAll("input[type=file]").forEach(styleFileInput);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", styleFileInputs);
  } else {
    styleFileInputs();
  }

  // A select's empty choice (value "__None") without words of its own shows "__None" (the
  // field gives no blank text). Done on jQuery's DOM ready, before Flask-Admin applies select2.
  if (window.jQuery) {
    window.jQuery(function () {
      document.querySelectorAll('select option[value="__None"]').forEach(function (option) {
        if (!option.text.trim() || option.text === "__None") {
          option.text = "—";
        }
      });
    });
  }

  var SENT_SEPARATOR = " to ";
  if (!window.moment || lang.indexOf("zh") !== 0) {
    return;
  }
  window.moment.locale("zh-cn", {
    months: "一月_二月_三月_四月_五月_六月_七月_八月_九月_十月_十一月_十二月".split("_"),
    monthsShort: "1月_2月_3月_4月_5月_6月_7月_8月_9月_10月_11月_12月".split("_"),
    weekdays: "星期日_星期一_星期二_星期三_星期四_星期五_星期六".split("_"),
    weekdaysShort: "周日_周一_周二_周三_周四_周五_周六".split("_"),
    weekdaysMin: "日_一_二_三_四_五_六".split("_"),
    week: { dow: 1, doy: 4 }
  });
  if (!window.jQuery) {
    return;
  }
  // The picker's script loads after this one and Flask-Admin creates the list's active
  // filters as soon as its own script runs (before DOM ready), so the picker is wrapped the
  // moment its script defines it.
  var $ = window.jQuery;
  var wrapped;
  Object.defineProperty($.fn, "daterangepicker", {
    configurable: true,
    get: function () {
      return wrapped;
    },
    set: function (original) {
      wrapped = wrap(original);
    }
  });

  function wrap(original) {
    return function (options, callback) {
      var locale = {
        applyLabel: labels.apply,
        cancelLabel: labels.cancel,
        fromLabel: labels.from,
        toLabel: labels.to,
        weekLabel: labels.week,
        customRangeLabel: labels.custom,
        daysOfWeek: window.moment.weekdaysMin(),
        monthNames: window.moment.monthsShort(),
        firstDay: 1
      };
      var merged = $.extend(true, { locale: locale }, options || {});
      if (merged.singleDatePicker || !labels.rangeSeparator) {
        return original.call(this, merged, callback);
      }
      // A range shows its two days joined by the page's own word; the filter form sends them
      // joined by " to ", the only form Flask-Admin's filters read.
      var shown = labels.rangeSeparator;
      merged.separator = shown;
      this.each(function () {
        var input = $(this);
        input.val(input.val().split(SENT_SEPARATOR).join(shown));
        input.closest("form").off("submit.portalRange").on("submit.portalRange", function () {
          $(this).find("input").each(function () {
            if (this.value.indexOf(shown) > 0) {
              this.value = this.value.split(shown).join(SENT_SEPARATOR);
            }
          });
        });
      });
      return original.call(this, merged, callback);
    };
  }
})();
