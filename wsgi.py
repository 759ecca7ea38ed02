"""The WSGI entry point: ``gunicorn wsgi:app`` (and ``FLASK_APP=wsgi:app`` for the CLI)."""

from portal import create_app

app = create_app()
