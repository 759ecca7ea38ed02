"""Safe, bounded CSV / XLSX exports for every ``ScopedModelView``, and the per-user limit
on slow reports (exports and PDFs alike).

Flask-Admin already exports through the view's (scoped, filtered) query; this mixin adds
what Excel users need:

* CSV starts with a UTF-8 BOM, so Excel on Windows reads the Chinese correctly;
* XLSX keeps numbers, money and dates as numbers and dates (Flask-Admin writes every cell
  as text), so sums, sorting and date filters work; its sheet is named after the list, its
  header row stays frozen and its columns are wide enough for Chinese headers;
* markup meant for the list page (badges, links) is written as its plain text;
* every text cell that starts with ``= + - @``, a tab or a carriage return gets a leading
  ``'`` so a spreadsheet never runs it as a formula (CSV/formula injection) — numbers are
  left alone;

and what keeps the server answering others:

* an export of more than ``EXPORT_MAX_ROWS`` rows is refused before any row is read (one
  bounded count), asking the user to narrow the filter;
* an export holds one of the user's report slots (``report_slot``) while it is built.
"""

import re
import unicodedata
import uuid
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from io import BytesIO
from itertools import chain

from flask import Response, abort, current_app, flash, redirect, render_template
from flask_admin import expose
from flask_admin.helpers import get_redirect_target
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from portal.services import leases

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_COLUMN_WIDTH = 60
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
# Characters a sheet title may not hold, and its length limit (Excel's own rules).
_SHEET_TITLE_BAD = re.compile(r"[\[\]:*?/\\]")
SHEET_TITLE_MAX = 31


def neutralise(value):
    """The value as a spreadsheet may show it: text that looks like a formula is quoted."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


@contextmanager
def report_slot():
    """Hold one of the current user's report slots while the block builds a report; when all
    are taken, answer 429 with Retry-After and say why, in the user's language."""
    try:
        lease = leases.acquire(current_user.id)
    except leases.Busy as busy:
        message = _(
            "Your other reports are still being prepared (at most %(count)d at a time). "
            "Try again in %(seconds)d seconds.",
            count=current_app.config["REPORT_LEASES_PER_USER"],
            seconds=busy.retry_after,
        )
        body = render_template(
            "errors/error.html", code=429, message=message, error_id=uuid.uuid4().hex[:10]
        )
        abort(Response(body, status=429, headers={"Retry-After": str(busy.retry_after)}))
    try:
        yield
    finally:
        lease.release()


class SafeExportMixin:
    @expose("/export/<export_type>/")
    def export(self, export_type):
        if not self.can_export or export_type not in self.export_types:
            return super().export(export_type)  # Flask-Admin's own refusal
        with report_slot():
            limit = current_app.config["EXPORT_MAX_ROWS"]
            if self._export_rows_up_to(limit + 1) > limit:
                flash(
                    _(
                        "This export would have more than %(limit)d rows. "
                        "Narrow the list with a filter (a site, a period) and export again.",
                        limit=limit,
                    ),
                    "error",
                )
                return redirect(get_redirect_target() or self.get_url(".index_view"))
            response = super().export(export_type)
            # A streamed body (CSV) would be built after the slot is released: build it now.
            response.make_sequence()
            return response

    def _export_rows_up_to(self, bound):
        """How many rows the export would have, counting no further than ``bound``: the same
        (scoped) query, search and filters as the export itself."""
        args = self._get_list_extra_args()
        _count, query = self.get_list(
            0, None, False, args.search, args.filters, execute=False, page_size=0
        )
        return query.order_by(None).limit(bound).count()

    def get_export_value(self, model, name):
        value = super().get_export_value(model, name)
        # A formatter written for the list page may return a badge or a link: a spreadsheet
        # gets its text, never its tags.
        if isinstance(value, Markup):
            value = value.striptags()
        # Lazy strings become plain text first, so the check sees what is written.
        if value is not None and not isinstance(value, (str, int, float, bool)):
            value = str(value)
        return neutralise(value)

    def get_xlsx_value(self, model, name):
        """The cell for ``name``: the stored number or date when the list shows one (money
        as "260.00", a time as "2026-11-03 14:05"), else the text the CSV has. Times of a site's
        record are written in the site's own zone, as the list shows them."""
        text = self.get_export_value(model, name)
        raw = self._get_field_value(model, name)
        if isinstance(raw, bool) or raw is None:
            return _cell(text)
        if isinstance(raw, datetime):
            if raw.tzinfo is not None:
                zone = _zone_of(model)
                raw = raw.astimezone(zone) if zone is not None else raw
            return raw.replace(tzinfo=None, microsecond=0)  # Excel shows minutes; no fractions
        if isinstance(raw, date):
            return raw
        if isinstance(raw, (int, float, Decimal)) and _is_number_text(text):
            return raw
        return _cell(text)

    def _export_csv(self, return_url):
        response = super()._export_csv(return_url)
        response.response = chain([BOM], response.response)
        response.mimetype = "text/csv"
        response.charset = "utf-8"
        return response

    def _export_tablib(self, export_type, return_url):
        if export_type != "xlsx":
            return super()._export_tablib(export_type, return_url)
        _count, data = self._export_data()
        headers = [str(c[1]) for c in self._export_columns]
        rows = [[self.get_xlsx_value(row, c[0]) for c in self._export_columns] for row in data]
        filename = self.get_export_name(export_type)
        return Response(
            _xlsx(headers, rows, sheet_title(self.name)),
            mimetype=XLSX_MIMETYPE,
            headers={"Content-Disposition": f"attachment;filename={filename}"},
        )


def sheet_title(name):
    """The list's name as a sheet title (Excel refuses some characters and long titles)."""
    title = _SHEET_TITLE_BAD.sub(" ", str(name)).strip()[:SHEET_TITLE_MAX]
    return title or "Sheet"


def display_width(value):
    """How many columns ``value`` takes on screen: a Chinese character is as wide as two
    Latin ones."""
    if isinstance(value, datetime):
        return len("2026-01-01 00:00")
    if isinstance(value, date):
        return len("2026-01-01")
    if isinstance(value, (float, Decimal)):
        value = f"{value:.2f}"
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(value))


def _xlsx(headers, rows, title):
    """The workbook's bytes. openpyxl's write-only mode streams the rows into the sheet's XML
    instead of building a cell object per value (tablib's way: most of an export's time)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title)
    widths = [display_width(h) for h in headers]
    for row in rows:
        for i, value in enumerate(row):
            if value is not None:
                widths[i] = max(widths[i], display_width(value))
    for i, width in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(i)].width = min(width + 2, MAX_COLUMN_WIDTH)
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    sheet.append([_bold_cell(sheet, h, bold) for h in headers])
    for row in rows:
        sheet.append([_typed_cell(sheet, value) for value in row])
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def _bold_cell(sheet, value, font):
    cell = WriteOnlyCell(sheet, value=value)
    cell.font = font
    return cell


def _typed_cell(sheet, value):
    """Dates and times carry a number format, or Excel shows them as day counts."""
    if isinstance(value, (date, datetime)):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = DATETIME_FORMAT if isinstance(value, datetime) else DATE_FORMAT
        return cell
    if isinstance(value, Decimal):  # money: always two decimals
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "0.00"
        return cell
    return value


def _is_number_text(text):
    """Whether the list shows the value as a plain number (``260.00``, ``¥1,200``, ``3``)
    rather than a label looked up from it."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return True
    if not isinstance(text, str):
        return False
    try:
        Decimal(text.replace(",", "").lstrip("¥￥'").strip())
    except InvalidOperation:
        return False
    return True


def _zone_of(model):
    if getattr(model, "site_id", None) is None:
        return None
    from portal.views.base import row_zone  # base imports this module

    return row_zone(model)


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
