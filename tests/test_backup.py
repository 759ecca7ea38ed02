"""A backup taken while four clerks keep writing restores into a consistent database."""

import os
import sqlite3
import threading
import uuid

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from portal import create_app
from portal.extensions import db
from portal.models import AuditEvent, StaffMember
from portal.services import audit, backup
from tests.conftest import TEST_CONFIG


def _writers(app, site_id, stop, started):
    errors = []

    def write(n):
        i = 0
        try:
            with app.app_context():
                while not stop.is_set() or i < 3:
                    db.session.add(
                        StaffMember(site_id=site_id, name=f"writer{n}-{i}", kind="other")
                    )
                    db.session.flush()
                    audit.record("note", object_type="Backup", site_id=site_id, summary=f"w{n}-{i}")
                    db.session.commit()
                    i += 1
                    started.set()
                db.session.remove()
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    return threads, errors


def _scratch_url(app_url, tmp_path):
    if app_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'restored.db'}", lambda: None
    server = make_url(app_url)
    name = f"portal_restore_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0"))

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return server.set(database=name).render_as_string(hide_password=False), drop


def test_backup_under_load_restores_consistently(app, site_ids, tmp_path):
    uploads = app.config["UPLOAD_FOLDER"]
    with open(os.path.join(uploads, "photo-1.jpg"), "wb") as fh:
        fh.write(b"\xff\xd8 not really a jpeg")
    stop, started = threading.Event(), threading.Event()
    threads, errors = _writers(app, site_ids["SZ01"], stop, started)
    try:
        assert started.wait(30)  # the backup is taken while the writers are busy
        archive = backup.create(
            app.config["SQLALCHEMY_DATABASE_URI"], uploads, str(tmp_path / "backups")
        )
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors

    url, drop = _scratch_url(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path)
    try:
        restored_uploads = tmp_path / "restored-uploads"
        scratch = create_app(
            {**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url, "UPLOAD_FOLDER": str(restored_uploads)}
        )
        with scratch.app_context():
            result = scratch.test_cli_runner().invoke(args=["backup", "restore", archive, "--yes"])
            assert result.exit_code == 0, result.output
            with db.engine.connect() as conn:
                assert audit.verify(conn) is None
                staff = conn.scalar(
                    select(func.count())
                    .select_from(StaffMember.__table__)
                    .where(StaffMember.name.like("writer%"))
                )
                created = conn.scalar(
                    select(func.count())
                    .select_from(AuditEvent.__table__)
                    .where(
                        AuditEvent.action == "create",
                        AuditEvent.object_type == "StaffMember",
                        AuditEvent.summary.like("writer%"),
                    )
                )
                notes = conn.scalar(
                    select(func.count())
                    .select_from(AuditEvent.__table__)
                    .where(AuditEvent.object_type == "Backup")
                )
            db.engine.dispose()
        # Each writer's row and its two audit events were committed together: a snapshot has all
        # or none.
        assert 0 < staff == created == notes
        assert (restored_uploads / "photo-1.jpg").read_bytes().startswith(b"\xff\xd8")
        if url.startswith("sqlite"):
            path = make_url(url).database
            with sqlite3.connect(path) as conn:
                assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
                triggers = {
                    r[0]
                    for r in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'")
                }
            assert "audit_event_no_delete" in triggers  # the restored trail is still insert-only
    finally:
        drop()


def test_backup_command_writes_an_archive(app, tmp_path):
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["backup", "create", "--to", str(tmp_path)])
    assert result.exit_code == 0, result.output
    [archive] = list(tmp_path.glob("portal-backup-*.tar"))
    assert archive.stat().st_size > 0
