"""Safe CSV / XLSX exports for every ``ScopedModelView``.

Flask-Admin already exports through the view's (scoped, filtered) query; this mixin adds
what Excel users need:

* CSV starts with a UTF-8 BOM, so Excel on Windows reads the Chinese correctly;
* XLSX keeps numbers as numbers (Flask-Admin writes every cell as text), so sums work;
* every text cell that starts with ``= + - @``, a tab or a carriage return gets a leading
  ``'`` so a spreadsheet never runs it as a formula (CSV/formula injection) — numbers are
  left alone.
"""
import mimetypes
from decimal import Decimal
from itertools import chain

from flask import Response
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

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

    def _export_tablib(self, export_type, return_url):
        if export_type != "xlsx":
            return super()._export_tablib(export_type, return_url)
        import tablib

        ds = tablib.Dataset(headers=[str(c[1]) for c in self._export_columns])
        _, data = self._export_data()
        for row in data:
            ds.append([_cell(self.get_export_value(row, c[0])) for c in self._export_columns])
        filename = self.get_export_name(export_type)
        mimetype = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        return Response(ds.export("xlsx"), mimetype=mimetype,
                        headers={"Content-Disposition": f"attachment;filename={filename}"})


def _cell(value):
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, Decimal):
        return float(value)
    # Control characters (pasted from other programs) are not allowed in XLSX's XML: drop them
    # rather than failing the whole export.
    return "" if value is None else ILLEGAL_CHARACTERS_RE.sub("", str(value))
