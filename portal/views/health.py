"""GET /healthz: is the app up and can it reach its database? No login needed."""

from flask import jsonify
from sqlalchemy import text

from portal.extensions import csrf, db


def register(app):
    @app.get("/healthz")
    @csrf.exempt
    def healthz():
        try:
            db.session.execute(text("SELECT 1"))
            ok = True
        except Exception:  # noqa: BLE001 - any failure means "not reachable"
            db.session.rollback()
            ok = False
        return jsonify(status="ok" if ok else "degraded", database=ok), (200 if ok else 503)
