"""Safe CSV / XLSX exports for every ``ScopedModelView``.

Flask-Admin already exports through the view's (scoped, filtered) query; this mixin adds
what Excel users need:

* CSV starts with a UTF-8 BOM, so Excel on Windows reads the Chinese correctly;
* every text cell that starts with ``= + - @``, a tab or a carriage return gets a leading
  ``'`` so a spreadsheet never runs it as a formula (CSV/formula injection) — numbers are
  left alone.
"""
from itertools import chain

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """The value as a spreadsheet may show it: text that looks like a formula is quoted."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class SafeExportMixin:
    def get_export_value(self, model, name):
        value = super().get_export_value(model, name)
        # Lazy strings and markup become plain text first, so the check sees what is written.
        if value is not None and not isinstance(value, (str, int, float, bool)):
            value = str(value)
        return neutralise(value)

    def _export_csv(self, return_url):
        response = super()._export_csv(return_url)
        response.response = chain([BOM], response.response)
        response.mimetype = "text/csv"
        response.charset = "utf-8"
        return response
