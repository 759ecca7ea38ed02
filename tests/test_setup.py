"""Set-up: configuration layers, CLI commands, health (migrations: tests/test_migrations.py)."""

import os

import pytest
from sqlalchemy import func, select

from portal import create_app
from portal.models import Site, StaffMember, User


def test_production_refuses_to_start_without_a_secret_key(tmp_path, monkeypatch):
    monkeypatch.delenv("PORTAL_SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(
            {"PORTAL_ENV": "production", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/p.db"}
        )


def test_demo_generates_one_secret_key_and_keeps_it(tmp_path):
    cfg = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/d.db"}
    first = create_app(cfg)
    key_file = os.path.join(first.instance_path, "secret_key")
    assert first.config["SECRET_KEY"] and os.path.exists(key_file)
    assert create_app(cfg).config["SECRET_KEY"] == first.config["SECRET_KEY"]


def test_environment_overrides_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("PORTAL_DATABASE_URL", f"sqlite:///{tmp_path}/env.db")
    monkeypatch.setenv("PORTAL_LOGIN_FAILURE_LIMIT", "3 per 15 minutes")
    app = create_app({"SECRET_KEY": "x"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/env.db"
    assert app.config["LOGIN_FAILURE_LIMIT"] == "3 per 15 minutes"


def test_seed_demo_is_idempotent(app, dbs):
    runner = app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["seed-demo"])
        assert result.exit_code == 0, result.output
    assert dbs.scalar(select(func.count()).select_from(Site)) == 4
    assert dbs.scalar(select(func.count()).select_from(User)) == 9
    people = dbs.execute(select(StaffMember.site_id, StaffMember.name)).all()
    assert len(people) == len(set(people))


def test_seed_demo_if_empty_leaves_existing_data_alone(app):
    result = app.test_cli_runner().invoke(args=["seed-demo", "--if-empty"])
    assert result.exit_code == 0 and "already has data" in result.output


def test_create_user_prompts_for_password_and_checks_it(app, dbs):
    runner = app.test_cli_runner()
    weak = runner.invoke(
        args=["create-user", "clerk_sz09", "--role", "clerk", "--site", "SZ01"],
        input="short\nshort\n",
    )
    assert (
        weak.exit_code != 0
        and dbs.scalar(select(User).where(User.username == "clerk_sz09")) is None
    )
    ok = runner.invoke(
        args=["create-user", "clerk_sz09", "--role", "clerk", "--site", "SZ01"],
        input="Front-Desk-2026\nFront-Desk-2026\n",
    )
    assert ok.exit_code == 0, ok.output
    user = dbs.scalar(select(User).where(User.username == "clerk_sz09"))
    assert [s.code for s in user.sites] == ["SZ01"] and user.password_hash.startswith("scrypt")
    unknown = runner.invoke(
        args=["create-user", "x_user", "--role", "clerk", "--site", "XX99"],
        input="Front-Desk-2026\nFront-Desk-2026\n",
    )
    assert unknown.exit_code != 0 and "XX99" in unknown.output


def test_config_info_masks_the_database_password(tmp_path):
    app = create_app(
        {
            "SECRET_KEY": "x",
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://portal:s3cret@127.0.0.1:1/x",
        }
    )
    with app.app_context():
        out = app.test_cli_runner().invoke(args=["config-info"]).output
    assert "s3cret" not in out and "***" in out


def test_healthz_answers_without_login(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200 and resp.get_json() == {"status": "ok", "database": True}
