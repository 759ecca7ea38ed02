"""Records every site reads but no site owns, and rows moved across the site scope.

A supervisor could open head office's opening checklist (a template for all sites), put his own
site in it and save: every other site lost its opening checklist and SZ01's past runs answered
500. The site scope now refuses, for every model, a write whose stored or new site is outside the
writer's sites, and a change to a record shared by every site (or to a site, region or user row)
by anyone but head office; the template page offers no edit it would refuse. Past runs keep
showing what was answered whatever head office later does to their template.

The property tests find the models themselves (every mapped class with ``scope_criteria``), so
a new model is covered the day it is added.
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Boolean, Date, Integer, Numeric, String, Text, func, select
from sqlalchemy.orm.attributes import flag_modified

from portal import clock
from portal.models import ChecklistItem, ChecklistTemplate, Site, User, utcnow
from portal.models.base import UTCDateTime
from portal.services import checklists as svc
from portal.services import scope
from portal.models.append_only import _TABLES as APPEND_ONLY_TABLES
from portal.services.scope import ScopeViolation, SiteScope
from tests import checklist_helpers
from tests.checklist_helpers import system
from tests.forms import Forms

seeded = checklist_helpers.seeded  # the fixture

KINDS = ("opening", "closing", "grooming")
NO_CHECKLIST = "未设置检查表"


def _models_with_a_site():
    return sorted(
        (m for m in scope.scoped_models() if "site_id" in m.__table__.c), key=lambda m: m.__name__
    )


def _organisation_models():
    """Scoped models with no site of their own: readable by many scopes, owned by none."""
    return sorted(
        (m for m in scope.scoped_models() if "site_id" not in m.__table__.c),
        key=lambda m: m.__name__,
    )


def _models_with_shared_rows():
    return [m for m in _models_with_a_site() if m.__table__.c.site_id.nullable]


# ------------------------------------------------------------------ the attack, through HTTP


def _answer(item):
    return {"yes_no": "yes", "number": "3", "text": "正常"}.get(item.kind)


@pytest.fixture
def past_runs(app, seeded):
    """{kind: (id of head office's template, id of a completed run of it at SZ01 two days ago)}."""
    with system(app) as s:
        sz01 = s.get(Site, seeded["SZ01"])
        day = clock.local_day(sz01) - timedelta(days=2)
        found = {}
        for kind in KINDS:
            template = s.scalar(
                select(ChecklistTemplate).where(
                    ChecklistTemplate.kind == kind, ChecklistTemplate.site_id.is_(None)
                )
            )
            run = svc.start_run(sz01, template, None, day)
            svc.save_answers(run, {i.id: _answer(i) for i in svc.active_items(run) if _answer(i)})
            svc.complete_run(run)
            found[kind] = (template.id, run.id)
        s.commit()
    return found


def _edit_form(resp):
    """The edit form of the page as a browser would send it back (fields → value, items
    included)."""
    assert resp.status_code == 200
    forms = [
        f
        for f in Forms(resp.get_data(as_text=True), first_option=False).forms
        if any(name == "version" for name, _, _ in f["fields"])
    ]
    assert len(forms) == 1
    # The client adds its own session's CSRF token.
    return {name: value or "" for name, _, value in forms[0]["fields"] if name != "csrf_token"}


def _template_row(app, template_id):
    with system(app) as s:
        template = s.scalar(
            select(ChecklistTemplate)
            .where(ChecklistTemplate.id == template_id)
            .execution_options(include_deleted=True)
        )
        items = s.execute(
            select(
                ChecklistItem.id, ChecklistItem.site_id, ChecklistItem.label, ChecklistItem.active
            )
            .where(ChecklistItem.template_id == template_id)
            .order_by(ChecklistItem.id)
        ).all()
        return (
            template.site_id,
            template.version,
            template.name,
            template.deleted_at,
            [tuple(i) for i in items],
        )


@pytest.mark.parametrize("kind", KINDS)
def test_a_supervisor_cannot_move_head_offices_template_into_his_site(
    app,
    login,
    past_runs,
    seeded,
    kind,
):
    template_id, run_id = past_runs[kind]
    url = f"/checklisttemplate/edit/?id={template_id}"
    form = _edit_form(login("admin").get(url))  # the very form the attacker sent back
    before = _template_row(app, template_id)
    sup = login("sup_east")

    assert sup.get(url).status_code == 404  # no form he could not save
    assert sup.post(url, {**form, "site": str(seeded["SH01"])}).status_code == 404

    assert _template_row(app, template_id) == before  # still every site's, same items, same version
    clerk = login("clerk_sz01")
    page = clerk.get(f"/checklists/run/{run_id}")
    assert page.status_code == 200
    assert before[2] in page.get_data(as_text=True)
    today = clerk.get("/checklists/")
    assert today.status_code == 200 and NO_CHECKLIST not in today.get_data(as_text=True)


def test_the_template_list_offers_a_supervisor_no_edit_of_shared_templates(
    app, login, past_runs, seeded
):
    opening_id = past_runs["opening"][0]
    with system(app) as s:
        own_id = s.scalar(
            select(ChecklistTemplate.id).where(ChecklistTemplate.site_id == seeded["SZ01"])
        )
    sup = login("sup_south")
    listing = sup.get("/checklisttemplate/").get_data(as_text=True)
    assert f"edit/?id={own_id}" in listing
    assert f"edit/?id={opening_id}" not in listing
    details = sup.get(f"/checklisttemplate/details/?id={opening_id}")
    assert details.status_code == 200 and f"edit/?id={opening_id}" not in details.get_data(
        as_text=True
    )
    assert f"edit/?id={own_id}" in sup.get(f"/checklisttemplate/details/?id={own_id}").get_data(
        as_text=True
    )


def test_a_supervisor_still_edits_his_own_sites_template(app, login, seeded):
    with system(app) as s:
        own_id = s.scalar(
            select(ChecklistTemplate.id).where(ChecklistTemplate.site_id == seeded["SZ01"])
        )
    url = f"/checklisttemplate/edit/?id={own_id}"
    sup = login("sup_south")
    form = _edit_form(sup.get(url))
    assert sup.post(url, {**form, "description": "主管改的说明"}).status_code == 302
    # ...but cannot hand it to a site outside his regions (not a choice of his form), nor to
    # every site
    assert (
        sup.post(url, {**_edit_form(sup.get(url)), "site": str(seeded["SH01"])}).status_code == 400
    )
    assert sup.post(url, {**_edit_form(sup.get(url)), "site": "__None"}).status_code == 400
    with system(app) as s:
        template = s.get(ChecklistTemplate, own_id)
        assert (template.site_id, template.description) == (seeded["SZ01"], "主管改的说明")
        assert {i.site_id for i in template.items} == {seeded["SZ01"]}


# ------------------------------------------------------------------ history survives head office


def test_past_runs_still_show_after_head_office_edits_moves_and_hides_their_template(
    app, login, past_runs, seeded
):
    template_id, run_id = past_runs["opening"]
    admin, clerk = login("admin"), login("clerk_sz01")
    url = f"/checklisttemplate/edit/?id={template_id}"
    run_page = f"/checklists/run/{run_id}"
    first_question = _template_row(app, template_id)[4][0][2]

    # Edited: renamed, its first (answered) question switched off.
    form = _edit_form(admin.get(url))
    form = {k: v for k, v in form.items() if k != "items-0-active"}
    assert admin.post(url, {**form, "name": "开店检查（新版）"}).status_code == 302
    page = clerk.get(run_page)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "开店检查（新版）" in text and first_question in text  # what was answered then

    # Moved to one site while another site has filled it in: refused, in the user's language.
    before = _template_row(app, template_id)
    resp = admin.post(url, {**_edit_form(admin.get(url)), "site": str(seeded["SH01"])})
    assert resp.status_code == 400
    assert "其他售楼处已填写过此检查表" in resp.get_data(as_text=True)
    assert _template_row(app, template_id) == before
    # To the one site that has filled it in: allowed, and the run still shows.
    assert (
        admin.post(url, {**_edit_form(admin.get(url)), "site": str(seeded["SZ01"])}).status_code
        == 302
    )
    assert clerk.get(run_page).status_code == 200

    # Hidden (soft-deleted) by head office: the run and its details still show it.
    assert admin.post("/checklisttemplate/delete/", {"id": str(template_id)}).status_code == 302
    assert _template_row(app, template_id)[3] is not None
    for client in (clerk, admin):
        page = client.get(run_page)
        assert page.status_code == 200 and "开店检查（新版）" in page.get_data(as_text=True)
    details = clerk.get(f"/checklistrun/details/?id={run_id}")
    assert details.status_code == 200 and first_question in details.get_data(as_text=True)
    # ...and nobody can start it any more.
    assert NO_CHECKLIST in clerk.get("/checklists/").get_data(as_text=True)


# ------------------------------------------------------------------ properties, every model


def _dummy(column):
    kind = column.type
    if isinstance(kind, UTCDateTime):
        return utcnow()
    if isinstance(kind, Boolean):
        return False
    if isinstance(kind, Date):
        return date.today()
    if isinstance(kind, Numeric):
        return Decimal(0)
    if isinstance(kind, Integer):
        return 1
    if isinstance(kind, (String, Text)):
        return "测试"[: getattr(kind, "length", None) or 2]
    return None


def _row_at(s, model, site_id):
    """A row of ``model`` at that site: the demo's, or one made here for a model the demo leaves
    empty (required columns filled, references to rows of the same site)."""
    found = s.scalar(select(model).where(model.site_id == site_id).order_by(model.id).limit(1))
    if found is not None:
        return found
    values = {}
    mapper = model.__mapper__
    for attr in mapper.column_attrs:
        column = attr.columns[0]
        if (
            column.primary_key
            or column.nullable
            or column.default is not None
            or column.server_default is not None
        ):
            continue
        if column.name == "site_id":
            values[attr.key] = site_id
        elif column.foreign_keys:
            target = next(iter(column.foreign_keys)).column
            stmt = select(target)
            if "site_id" in target.table.c:
                stmt = stmt.where(target.table.c.site_id == site_id)
            values[attr.key] = s.scalar(stmt.limit(1))
        else:
            values[attr.key] = _dummy(column)
    row = model(**values)
    s.add(row)
    s.commit()
    return row


def _stored(s, model, row_id):
    """The row as the database holds it, and the table's row count."""
    table = model.__table__
    row = s.execute(select(table).where(table.c.id == row_id)).mappings().one()
    return dict(row), s.scalar(select(func.count()).select_from(table))


def _user_id(s, username):
    return s.scalar(select(User.id).where(User.username == username))


def _refused(s, scope_of, write, *args):
    """Run ``write(*args)`` in ``scope_of`` and flush: whether the *scope* refused it (a domain
    rule that refuses it later, such as a closed tally being read-only, is not the scope's
    answer). Rolled back either way."""
    scope.activate(scope_of, s)
    try:
        write(*args)
        s.flush()
        return False
    except ScopeViolation:
        return True
    except Exception:  # noqa: BLE001  (the scope let it through; the model's own rule refused)
        return False
    finally:
        s.rollback()
        scope.deactivate(s)


def _touch(row):
    """An UPDATE of the row that leaves its site as it is."""
    if hasattr(row, "updated_at"):
        row.updated_at = utcnow()
    else:
        flag_modified(row, "site_id")


WRITES = {
    # name: (scope of SH01 or SZ01, what is done to an SZ01 row)
    "moved into the writer's site": (
        "SH01",
        lambda s, row, ids: setattr(row, "site_id", ids["SH01"]),
    ),
    "changed at another site": ("SH01", lambda s, row, ids: _touch(row)),
    "moved out of the writer's site": (
        "SZ01",
        lambda s, row, ids: setattr(row, "site_id", ids["SH01"]),
    ),
    "moved out by its site relationship": (
        "SZ01",
        lambda s, row, ids: setattr(row, "site", s.get(Site, ids["SH01"])),
    ),
    "deleted at another site": ("SH01", lambda s, row, ids: s.delete(row)),
    "created at another site": ("SH01", lambda s, row, ids: s.add(type(row)(site_id=ids["SZ01"]))),
}


@pytest.mark.parametrize("write", list(WRITES))
def test_every_model_with_a_site_refuses_a_write_across_the_scope(app, full_demo, write):
    writer_site, do = WRITES[write]
    accepted = []
    with system(app) as s:
        writer = SiteScope(
            frozenset({full_demo[writer_site]}), _user_id(s, f"clerk_{writer_site.lower()}")
        )
        for model in _models_with_a_site():
            if (
                write == "moved out by its site relationship"
                and "site" not in model.__mapper__.relationships
            ):
                continue
            row = _row_at(s, model, full_demo["SZ01"])
            row_id = row.id
            before = _stored(s, model, row_id)
            if not _refused(s, writer, do, s, row, full_demo):
                accepted.append(model.__name__)
            assert _stored(s, model, row_id) == before, (
                f"{model.__name__}: the refused write changed the database"
            )
    assert not accepted, f"written across the site scope ({write}): {accepted}"


def test_every_model_with_a_site_accepts_the_same_change_inside_the_scope(app, full_demo):
    refused = []
    with system(app) as s:
        writer = SiteScope(frozenset({full_demo["SZ01"]}), _user_id(s, "clerk_sz01"))
        for model in _models_with_a_site():
            if model.__tablename__ in APPEND_ONLY_TABLES:
                continue  # the database itself refuses updates there
            row = _row_at(s, model, full_demo["SZ01"])
            if _refused(s, writer, _touch, row):
                refused.append(model.__name__)
    assert not refused, f"refused inside the writer's own site: {refused}"


def test_shared_rows_are_changed_and_deleted_by_head_office_only(app, full_demo):
    models = _models_with_shared_rows()
    assert ChecklistTemplate in models and ChecklistItem in models
    supervisor_scope = frozenset(full_demo.values())  # every site, yet not head office
    with system(app) as s:
        head_office = SiteScope(None, _user_id(s, "admin"))
        for model in models:
            row = s.scalar(select(model).where(model.site_id.is_(None)).order_by(model.id).limit(1))
            assert row is not None, f"{model.__name__}: no shared row in the demo to test with"
            before = _stored(s, model, row.id)
            for username in ("sup_south", "clerk_sz01"):
                writer = SiteScope(
                    supervisor_scope if username == "sup_south" else frozenset({full_demo["SZ01"]}),
                    _user_id(s, username),
                )
                assert _refused(s, writer, _touch, row), f"{model.__name__} changed by {username}"
                assert _refused(s, writer, setattr, row, "site_id", full_demo["SZ01"]), (
                    f"{model.__name__} moved into SZ01 by {username}"
                )
                assert _refused(s, writer, s.delete, row), f"{model.__name__} deleted by {username}"
                assert _refused(s, writer, s.add, model(site_id=None)), (
                    f"{model.__name__} created shared"
                )
                assert _stored(s, model, row.id) == before
            if model.__tablename__ not in APPEND_ONLY_TABLES:
                assert not _refused(s, head_office, _touch, row)


def test_organisation_rows_are_head_offices_but_a_user_keeps_his_own_account(app, full_demo):
    models = _organisation_models()
    assert {m.__name__ for m in models} >= {"Site", "Region", "User"}
    with system(app) as s:
        me = _user_id(s, "clerk_sz01")
        clerk = SiteScope(frozenset({full_demo["SZ01"]}), me)
        for model in models:
            scope.activate(clerk, s)
            row = s.scalar(
                select(model)
                .where(model.id != me if model is User else True)
                .order_by(model.id)
                .limit(1)
            )
            scope.deactivate(s)
            assert row is not None, f"{model.__name__}: nothing readable at SZ01 to test with"
            before = _stored(s, model, row.id)
            assert _refused(s, clerk, _touch, row), f"{model.__name__} changed by a clerk"
            assert _refused(s, clerk, s.delete, row), f"{model.__name__} deleted by a clerk"
            assert _refused(s, clerk, s.add, model()), f"{model.__name__} created by a clerk"
            assert _stored(s, model, row.id) == before
        own = s.get(User, me)
        assert not _refused(s, clerk, setattr, own, "locale", "en")
        assert not _refused(s, clerk, own.set_password, "另一个足够长的密码")
        assert _refused(s, clerk, setattr, own, "role", "admin")
        assert _refused(s, clerk, own.sites.append, s.get(Site, full_demo["SH01"]))
        assert _refused(s, clerk, setattr, own, "active", False)
