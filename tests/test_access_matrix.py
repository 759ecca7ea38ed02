"""Table-driven access matrix: every registered view × every role × list, detail,
create, edit, delete, export. A view registered without an entry in tests/matrix/
fails the first test."""

import pytest
from flask_admin.contrib.sqla import ModelView
from sqlalchemy import select

from portal.extensions import db
from portal.models import Region, Site, User
from tests.matrix import ROLE_USERS, ROLES, all_entries


def _views(app):
    admin = app.extensions["portal_admin"]
    return {v.endpoint: v for v in admin._views if v.endpoint != "home"}


def test_every_registered_view_has_a_matrix_entry(app):
    entries = all_entries()
    missing = sorted(set(_views(app)) - set(entries))
    assert not missing, f"views without an access-matrix entry in tests/matrix/: {missing}"
    stale = sorted(set(entries) - set(_views(app)))
    assert not stale, f"matrix entries for views that are not registered: {stale}"


def _sample_id(model, sites):
    """An SZ01 record of this model (every matrix user works at SZ01)."""
    if model is Site:
        return sites["SZ01"]
    if model is Region:
        return db.session.scalar(select(Region.id).where(Region.code == "SOUTH"))
    if model is User:
        return db.session.scalar(select(User.id).where(User.username == "clerk_sz01"))
    stmt = select(model.id)
    if hasattr(model, "site_id"):
        stmt = stmt.where(model.site_id == sites["SZ01"])
    return db.session.scalar(stmt.order_by(model.id).limit(1))


def _expect(allowed, readable):
    return {200} if allowed else ({302} if readable else {403})


@pytest.mark.parametrize("role", ROLES)
def test_role_gets_what_the_matrix_says(app, login, full_demo, role):
    client = login(ROLE_USERS[role])
    entries = all_entries()
    wrong = []

    def check(what, resp, expected):
        if resp.status_code not in expected:
            wrong.append(f"{what}: got {resp.status_code}, expected {sorted(expected)}")

    for endpoint, view in sorted(_views(app).items()):
        rights = entries[endpoint]
        url = view.url.rstrip("/")
        can_read = role in rights.read
        if rights.page or not isinstance(view, ModelView):
            resp = client.get(f"{url}/")
            check(f"{endpoint} page", resp, {200, 302} if can_read else {403})
            continue
        with app.app_context():
            record_id = _sample_id(view.model, full_demo)
        check(f"{endpoint} list", client.get(f"{url}/"), {200} if can_read else {403})
        if record_id is None:
            wrong.append(f"{endpoint}: no SZ01 record in the demo data to test with")
            continue
        check(
            f"{endpoint} details",
            client.get(f"{url}/details/?id={record_id}"),
            {200} if can_read else {403},
        )
        can_write = role in rights.write
        if view._creatable:
            check(f"{endpoint} create", client.get(f"{url}/new/"), _expect(can_write, can_read))
        if view._editable:
            check(
                f"{endpoint} edit",
                client.get(f"{url}/edit/?id={record_id}"),
                _expect(can_write, can_read),
            )
        export = client.get(f"{url}/export/csv/")
        check(f"{endpoint} export", export, _expect(role in rights.export, can_read))
        if role not in rights.delete:
            resp = client.post(f"{url}/delete/", data={"id": record_id, "url": f"{url}/"})
            check(f"{endpoint} delete", resp, {302} if can_read else {403})
            with app.app_context():
                db.session.remove()
                still = db.session.execute(
                    select(view.model.id)
                    .where(view.model.id == record_id)
                    .execution_options(include_deleted=True)
                ).first()
                gone = still is None or getattr(
                    db.session.get(view.model, record_id), "deleted_at", None
                )
            if gone:
                wrong.append(f"{endpoint} delete: {role} deleted a record")
        else:
            page = client.get(f"{url}/").get_data(as_text=True)
            if f'action="{url}/delete/"' not in page:
                wrong.append(f"{endpoint} delete: no delete button for {role}")
    assert not wrong, f"{role} ({ROLE_USERS[role]}):\n" + "\n".join(wrong)
