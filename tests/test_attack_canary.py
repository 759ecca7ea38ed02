"""Canary isolation over the whole app: a marker in every text field of every SZ01 record
(and a photo) never reaches users of another site or region, through ANY url rule.

Every String/Text column of every site-scoped model (plus the SZ01 site row) gets the
marker through the ORM, so the audit trail records it too. Then clerk_sh01 (other region),
sup_east (other region's supervisor) and clerk_sz02 (same region, other site) request every
rule of ``app.url_map`` with SZ01 ids and variants in path args and ``id``/``url`` query
args, exports (CSV and unzipped XLSX), ajax lookups, actions, PDFs (pypdf text), photos and
the dashboard drill-downs. Figures are printed (run with ``-s``).
"""

import io
import re
import uuid
import zipfile
from datetime import date

import pytest
from flask_admin.contrib.sqla import ModelView
from sqlalchemy import String, Text, cast, func, literal, select, update
from werkzeug.datastructures import FileStorage

from portal.domains import collected
from portal.extensions import db
from portal.models import append_only
from portal.models import (
    ChecklistFollowUp,
    ChecklistRun,
    CleaningIssue,
    DamageReport,
    HandoverEntry,
    HandoverItem,
    ItemCheck,
    Photo,
    Region,
    RepairTicket,
    Site,
    StaffMember,
    User,
)
from tests.repairs_helpers import image_bytes

TOKEN = uuid.uuid4().hex[:8]
MARKER = f"CANARY-SZ01-{TOKEN}"
ATTACKERS = ("clerk_sh01", "sup_east", "clerk_sz02")
# Codes the domain logic switches on, keys into storage and the audit chain itself: not text.
NOT_TEXT = {
    "owner_type",
    "storage_key",
    "thumb_key",
    "content_type",
    "target_type",
    "point",
    "prev_hash",
    "hash",
    "summary",
    "action",
    "object_type",
}
# Rows the ORM keeps read-only once signed or closed: planted with a plain UPDATE.
HANDOVER = {"handover_entry", "handover_item", "handover_comment", "daily_tally"}
SKIP_RULES = {"static", "home.static", "swatch_css", "auth.logout", "auth.login", "auth.language"}
PER_MODEL = 3  # SZ01 ids tried per model (first, middle, last)


def _scoped_models():
    return [m.class_ for m in db.Model.registry.mappers if hasattr(m.class_, "site_id")]


def _text_columns(model):
    for col in model.__mapper__.columns:
        if not isinstance(col.type, (String, Text)) or col.key in NOT_TEXT:
            continue
        length = getattr(col.type, "length", None)
        if length is None or length >= 30:  # status/kind codes are shorter and drive the workflows
            yield col.key


def _plant(sz01):
    """Put the marker in every text column of every SZ01 row; returns the number of cells."""
    cells = 0
    for model in _scoped_models() + [Site]:
        if model.__tablename__ == "audit_event":
            continue  # append-only; it receives the marker through the audit of these updates
        cols = list(_text_columns(model))
        if not cols:
            continue
        where = (model.id == sz01) if model is Site else (model.site_id == sz01)
        # Signed handover rows and the histories refuse changes: planted past their guards.
        if model.__tablename__ in HANDOVER | append_only.tables():
            cells += _plant_frozen(model, cols, where)
            continue
        for row in db.session.scalars(select(model).where(where)):
            for key in cols:
                setattr(
                    row, key, f"{MARKER} {key} {row.id}"
                )  # unique per row: names are unique per site
                cells += 1
    db.session.commit()
    return cells


def _plant_frozen(model, cols, where):
    """Signed handover rows refuse changes (ORM guard and triggers): lift the triggers, as a
    person with the database login could, so the canary is in them too."""
    from portal.models.append_only import suspended

    conn = db.session.connection()
    n = db.session.scalar(select(func.count()).select_from(model).where(where))
    values = {k: literal(f"{MARKER} {k} ") + cast(model.__table__.c.id, String) for k in cols}
    with suspended(conn):
        conn.execute(update(model.__table__).where(where).values(**values))
    return n * len(cols)


def _photo(sz01):
    from portal.services import photos

    ticket = db.session.scalar(
        select(RepairTicket).where(RepairTicket.site_id == sz01).order_by(RepairTicket.id)
    )
    site = db.session.get(Site, sz01)
    user = db.session.scalar(select(User).where(User.username == "clerk_sz01"))
    photo = photos.accept_upload(
        FileStorage(io.BytesIO(image_bytes()), f"{MARKER}.jpg"),
        site,
        "repair_ticket",
        ticket.id,
        user,
    )
    photo.original_name = f"{MARKER}.jpg"
    db.session.commit()
    return photo.id


def _sample(ids):
    ids = sorted(ids)
    return sorted({ids[0], ids[len(ids) // 2], ids[-1]}) if ids else []


def _ids_of(model, sz01):
    if model is Site:
        return [sz01]
    if model is Region:
        return [db.session.scalar(select(Site.region_id).where(Site.id == sz01))]
    if model is User:
        return list(
            db.session.scalars(
                select(User.id).where(User.username.in_(("clerk_sz01", "sales_sz01")))
            )
        )
    if not hasattr(model, "site_id"):
        return []
    return _sample(db.session.scalars(select(model.id).where(model.site_id == sz01)).all())


def _variants(ids, near=True):
    """The real ids, their neighbours (GET only), 0, -1, a huge id and non-numeric ids."""
    out = [str(i) for i in ids]
    if near:
        out += [str(i + d) for i in ids for d in (1, -1)]
    return list(dict.fromkeys(out + ["0", "-1", str(2**63), "abc", "1 OR 1=1", "2,3"]))


# path argument → model whose SZ01 ids go into it
ARG_MODELS = {
    "run_id": [ChecklistRun],
    "follow_up_id": [ChecklistFollowUp],
    "report_id": [DamageReport],
    "site_id": [Site],
    "region_id": [Region],
    "staff_id": [StaffMember],
    "check_id": [ItemCheck],
    "photo_id": [Photo],
    "ticket_id": [RepairTicket],
}
# … and the path arguments domains declare in their descriptor (portal/domains.py).
_MODELS_BY_NAME = {m.class_.__name__: m.class_ for m in db.Model.registry.mappers}
ARG_MODELS.update({arg: [_MODELS_BY_NAME[name]] for arg, name in collected("url_args").items()})
ID_MODELS = {"cleaning": [CleaningIssue], "handover": [HandoverEntry, HandoverItem]}
FIXED = {
    "export_type": ["csv", "xlsx"],
    "step": ["fix", "verify", "reopen"],
    "action": ["assign", "start", "resolve", "close", "reopen"],
    "month": [date.today().strftime("%Y-%m")],
}


def _arg_values(rule, arg, sz01, near):
    if arg in FIXED:
        return FIXED[arg]
    models = ARG_MODELS.get(arg) or ID_MODELS.get(rule.endpoint.split(".")[0], [])
    ids = [i for m in models for i in _ids_of(m, sz01)]
    return _variants(ids, near)


def _paths(rule, sz01, near):
    paths = [rule.rule]
    for arg in rule.arguments:
        values = _arg_values(rule, arg, sz01, near)
        paths = [re.sub(r"<(?:[^:>]+:)?%s>" % arg, v, p) for p in paths for v in values]
    return paths


class Probe:
    """Sends requests as one user; the marker is never in what it sends, so any echo is a leak."""

    def __init__(self, client, csrf):
        self.client, self.csrf = client, csrf
        self.tried = self.leaks = 0
        self.errors, self.leaked = [], []

    def check(self, method, url, resp):
        self.tried += 1
        if resp.status_code >= 500:
            self.errors.append(f"{method} {url} → {resp.status_code}")
        body = _text_of(resp)
        if MARKER in body or TOKEN in body:
            self.leaked.append(f"{method} {url} → {resp.status_code}")

    def get(self, url):
        self.check("GET", url, self.client.get(url))

    def post(self, url, data):
        self.check("POST", url, self.client.post(url, data={**data, "csrf_token": self.csrf}))


def _text_of(resp):
    data = resp.data
    ctype = resp.headers.get("Content-Type", "")
    if data[:2] == b"PK":  # xlsx: the shared strings and sheets are XML inside a zip
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
    if data[:4] == b"%PDF":
        from pypdf import PdfReader

        text = "".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages)
        return re.sub(r"\s+", "", text) + data.decode("latin-1")
    if ctype.startswith("image/"):
        return data.decode("latin-1")
    return data.decode("utf-8", "replace")


def _views(app):
    return {v.endpoint: v for v in app.extensions["portal_admin"]._views}


def _ajax_fields(view):
    return list(getattr(view, "_form_ajax_refs", None) or {})


def _drill_urls(login, sz01):
    """The dashboard's drill-down links for SZ01, as its own supervisor sees them."""
    body = login("sup_south").get("/dashboard/").get_data(as_text=True)
    hrefs = set(re.findall(r'href="([^"]+)"', body))
    return sorted(h.replace("&amp;", "&") for h in hrefs if str(sz01) in h and h.startswith("/"))


@pytest.fixture
def planted(app, full_demo):
    with app.app_context():
        sz01 = full_demo["SZ01"]
        cells = _plant(sz01)
        photo_id = _photo(sz01)
        before = _fingerprint(sz01)
        db.session.remove()
    return sz01, cells, photo_id, before


def _fingerprint(sz01):
    """Row count per model and rows carrying the marker, for SZ01: proves nothing was written."""
    out = {}
    for model in _scoped_models():
        stmt = select(func.count()).select_from(model).where(model.site_id == sz01)
        out[model.__tablename__] = db.session.execute(
            stmt.execution_options(bypass_scope=True)
        ).scalar()
    return out


def _model_view_requests(probe, view, sz01):
    url = view.url.rstrip("/")
    model_ids = _ids_of(view.model, sz01)
    for v in _variants(model_ids):
        probe.get(f"{url}/details/?id={v}")
        probe.get(f"{url}/edit/?id={v}&url={url}/details/?id={v}")
    for v in _variants(model_ids, near=False):
        probe.post(f"{url}/delete/", {"id": v, "url": f"{url}/"})
        probe.post(f"{url}/action/", {"action": "delete", "rowid": v, "url": f"{url}/"})
        probe.post(f"{url}/ajax/update/", {"list_form_pk": v, "name": "probe"})
        probe.post(f"{url}/edit/?id={v}", {"name": "probe", "site": sz01})
    probe.post(f"{url}/new/", {"site": sz01, "site_id": sz01, "name": "probe"})
    probe.get(f"{url}/?search=CANARY-SZ01")
    probe.get(f"{url}/?search=CANARY")
    probe.get(f"{url}/?flt0_site_equals={sz01}")
    for kind in ("csv", "xlsx"):
        probe.get(f"{url}/export/{kind}/")
        probe.get(f"{url}/export/{kind}/?flt0_site_equals={sz01}")
    for field in _ajax_fields(view) or ["site"]:
        probe.get(f"{url}/ajax/lookup/?name={field}&query=CANARY")
        probe.get(f"{url}/ajax/lookup/?name={field}&query=")


def _rule_requests(probe, app, rule, sz01):
    methods = rule.methods - {"HEAD", "OPTIONS"}
    sample = _ids_of(RepairTicket, sz01)[:1] + _ids_of(DamageReport, sz01)[:1]
    if "GET" in methods:
        for path in _paths(rule, sz01, near=True):
            probe.get(path)
            if not rule.arguments:
                for v in sample:
                    probe.get(f"{path}?id={v}&url=/repairs/{v}/")
    if "POST" in methods:
        for path in _paths(rule, sz01, near=False):
            probe.post(
                path, {"site": sz01, "site_id": sz01, "text": "probe", "note": "probe", "id": sz01}
            )


def test_no_sz01_canary_reaches_another_site_or_region(app, login, planted, dbs):
    sz01, cells, photo_id, before = planted
    views = _views(app)
    drills = _drill_urls(login, sz01)
    # SZ01's own supervisor viewing the dashboard closes its ended months (stored figures):
    # what foreign users must not change is counted after that.
    with app.app_context():
        before = _fingerprint(sz01)
        db.session.remove()
    totals = {}
    for user in ATTACKERS:
        client = login(user)
        probe = Probe(client, client.token())
        for _endpoint, view in sorted(views.items()):
            if isinstance(view, ModelView):
                _model_view_requests(probe, view, sz01)
        model_endpoints = {e for e, v in views.items() if isinstance(v, ModelView)}
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
            if rule.endpoint in SKIP_RULES or rule.endpoint.split(".")[0] in model_endpoints:
                continue
            _rule_requests(probe, app, rule, sz01)
        for url in drills:
            probe.get(url)
        for url in (f"/photos/{photo_id}", f"/photos/{photo_id}/thumb"):
            resp = client.get(url)
            assert resp.status_code == 404, (user, url)
            probe.check("GET", url, resp)
        totals[user] = probe
    with app.app_context():
        assert _fingerprint(sz01) == before, "a foreign user changed SZ01 rows"
        still = db.session.scalar(
            select(func.count())
            .select_from(StaffMember)
            .where(StaffMember.site_id == sz01, StaffMember.name.like(f"{MARKER}%"))
        )
        assert still > 0
    print(
        f"\ncanary: {cells} text cells planted in SZ01 (+1 photo), {len(drills)} drill-down links"
    )
    for user, p in totals.items():
        print(
            f"canary: {user}: {p.tried} requests, {len(p.leaked)} leaks, "
            f"{len(p.errors)} server errors"
        )
    print(f"canary: total {sum(p.tried for p in totals.values())} requests")
    problems = [f"{u}: {x}" for u, p in totals.items() for x in p.leaked + p.errors]
    assert not problems, "\n".join(problems[:60])


def test_sz01_own_clerk_does_see_the_canary(app, login, planted):
    """The probe would notice a leak: SZ01's clerk sees the marker on her own pages."""
    sz01, _, photo_id, _ = planted
    client = login("clerk_sz01")
    body = client.get("/staff/").get_data(as_text=True)
    assert MARKER in body
    assert client.get(f"/photos/{photo_id}").status_code == 200
    sup = login("sup_south")
    xlsx = sup.get("/staff/export/xlsx/")
    assert MARKER in _text_of(xlsx)
    month = date.today().strftime("%Y-%m")
    pdf = sup.get(f"/dashboard/site/{sz01}/{month}.pdf")
    assert pdf.status_code == 200
