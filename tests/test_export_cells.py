"""Every list export that holds numbers or dates opens in a spreadsheet as numbers and dates
(not text like '260.00'), with a named sheet, a frozen header and columns wide enough for the
Chinese headers; the CSV carries no markup meant for the list page."""

import csv
import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from flask import url_for
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from sqlalchemy import Date, DateTime, Integer, Numeric

from portal.extensions import db
from portal.views.base import ScopedModelView
from portal.views.exports import display_width


def _typed_columns(view):
    """Export columns stored as numbers or dates: (index, label, kind)."""
    out = []
    for i, (name, label) in enumerate(view.get_export_columns()):
        column = getattr(view.model, name, None) if isinstance(name, str) else None
        sql_type = getattr(getattr(column, "property", None), "columns", [None])[0]
        sql_type = getattr(sql_type, "type", None)
        if isinstance(sql_type, (Date, DateTime)):
            out.append((i, str(label), "date"))
        elif isinstance(sql_type, Numeric):
            out.append((i, str(label), "number"))
        elif isinstance(sql_type, Integer) and not name.endswith("_id") and name != "id":
            out.append((i, str(label), "integer"))
    return out


def _exports(app):
    with app.test_request_context():
        return [
            v
            for v in app.extensions["admin"][0]._views
            if isinstance(v, ScopedModelView) and "admin" in v.export_roles and _typed_columns(v)
        ]


@pytest.fixture
def demo_rows(app):
    """The demo's history (visits, tallies, tickets…), so each export has rows to check."""
    from portal.devdata import seed_demo, seed_history

    with app.app_context():
        seed_history(seed_demo())
        db.session.commit()


def test_every_export_with_numbers_or_dates_opens_typed(app, login, demo_rows):
    client = login("admin")
    checked = {}
    for view in _exports(app):
        with app.test_request_context():
            url = url_for(f"{view.endpoint}.export", export_type="xlsx")
            columns = _typed_columns(view)
        resp = client.get(url)
        assert resp.status_code == 200, (url, resp.status_code)
        sheet = load_workbook(io.BytesIO(resp.data)).active
        # The list's Chinese name, not "Sheet" or "Tablib Dataset".
        assert any("\u4e00" <= ch <= "\u9fff" for ch in sheet.title), (url, sheet.title)
        assert sheet.freeze_panes == "A2", url
        headers = [c.value for c in sheet[1]]
        for number, header in enumerate(headers, 1):
            width = sheet.column_dimensions[get_column_letter(number)].width
            assert width >= min(display_width(header), 58), (url, header, width)
        values = 0
        for index, label, kind in columns:
            for row in sheet.iter_rows(min_row=2, values_only=True):
                value = row[index]
                if value in (None, ""):
                    continue
                if kind == "date":
                    assert isinstance(value, (date, datetime)), (url, label, value)
                    values += 1
                elif kind == "number":
                    assert isinstance(value, (int, float, Decimal)), (url, label, value)
                    values += 1
                elif isinstance(value, (int, float)):
                    values += 1
        checked[view.endpoint] = values
    # The demo fills the lists that matter most with numbers and dates to check.
    for name in ("visit", "dailytally", "repairticket", "stockmovement"):
        assert checked.get(name), (name, checked)


def test_csv_yes_no_columns_carry_no_markup(app, login, demo_rows):
    client = login("admin")
    seen_yes_no = 0
    for view in _exports(app):
        with app.test_request_context():
            url = url_for(f"{view.endpoint}.export", export_type="csv")
        resp = client.get(url)
        assert resp.status_code == 200, url
        text = resp.data.decode("utf-8-sig")
        assert "<span" not in text and "badge" not in text and "<a " not in text, url
        rows = list(csv.reader(io.StringIO(text)))
        seen_yes_no += sum(cell in ("是", "否") for row in rows[1:] for cell in row)
    assert seen_yes_no
