"""Security headers on every kind of response, and no inline script in our templates."""

import os
import re

import pytest
from flask import url_for

from tests.matrix import all_entries

TEMPLATES = os.path.join(os.path.dirname(os.path.dirname(__file__)), "portal", "templates")
CSP = re.compile(r"script-src 'self' 'nonce-([\w-]+)'")


def _assert_headers(resp, authenticated):
    csp = resp.headers.get("Content-Security-Policy", "")
    for part in (
        "default-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "img-src 'self' data: blob:",
    ):
        assert part in csp, (part, csp)
    assert "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";")[0]
    assert CSP.search(csp)
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in resp.headers  # plain HTTP here
    if authenticated:
        assert resp.headers["Cache-Control"] == "no-store"


def test_public_pages_and_errors_have_the_headers(client):
    for url in ("/login", "/no-such-page", "/static/portal.css"):
        _assert_headers(client.get(url), authenticated=False)


def test_logged_in_pages_have_the_headers(login):
    admin = login("admin")
    list_urls = [f"/{endpoint}/" for endpoint, r in all_entries().items() if not r.page]
    for url in ["/?overview=1", "/account/", "/site/edit/?id=999999", *list_urls]:
        resp = admin.get(url)
        assert resp.status_code in (200, 404), url
        _assert_headers(resp, authenticated=True)
    # A role refused a view gets the headers on its 403 too.
    _assert_headers(login("clerk_sz01").get("/user/"), authenticated=True)


def test_hsts_only_over_https(client):
    resp = client.http.get("/login", base_url="https://portal.example")
    assert resp.headers["Strict-Transport-Security"].startswith("max-age=")


def test_inline_scripts_carry_this_responses_nonce(login):
    page = login("admin").get("/staff/")
    nonce = CSP.search(page.headers["Content-Security-Policy"]).group(1)
    for tag in re.findall(r"<script[^>]*>", page.get_data(as_text=True)):
        assert "src=" in tag or f'nonce="{nonce}"' in tag, tag
    other = login("admin").get("/staff/").headers["Content-Security-Policy"]
    assert CSP.search(other).group(1) != nonce


def _template_files():
    for folder, _dirs, files in os.walk(TEMPLATES):
        for name in files:
            if name.endswith(".html"):
                yield os.path.join(folder, name)


@pytest.mark.parametrize(
    "path", sorted(_template_files()), ids=lambda p: os.path.relpath(p, TEMPLATES)
)
def test_templates_have_no_inline_script(path):
    with open(path, encoding="utf-8") as fh:
        source = fh.read()
    for tag in re.findall(r"<script\b[^>]*>", source, flags=re.I):
        assert "src=" in tag, f"inline <script> in {path}: {tag}"
    assert not re.search(r"\son[a-z]+\s*=", source, flags=re.I), f"inline event handler in {path}"
    assert "javascript:" not in source.replace('href="javascript:void(0)"', ""), path


def test_theme_css_is_served_without_web_fonts(client):
    resp = client.get("/static/admin/bootstrap/bootstrap4/swatch/flatly/bootstrap.min.css")
    assert resp.status_code == 200 and resp.mimetype == "text/css"
    css = resp.get_data(as_text=True)
    assert "Bootswatch" in css and "fonts.googleapis.com" not in css
    assert (
        client.get("/static/admin/bootstrap/bootstrap4/swatch/nosuch/bootstrap.min.css").status_code
        == 404
    )


def test_stylesheets_and_scripts_are_kept_by_the_browser_and_pages_are_not(
    app, login, monkeypatch, tmp_path
):
    clerk = login("clerk_sz01")
    page = clerk.get("/today/")
    assert page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    ours = re.findall(r'(?:href|src)="(/static/[\w.-]+\?v=\w+)"', html)
    assert any(url.startswith("/static/portal.css?") for url in ours), ours
    # Every stylesheet and script of the page has a versioned address, Flask-Admin's included.
    files = re.findall(r'(?:href|src)="(/static/[^"]+\.(?:css|js)[^"]*)"', html)
    assert files and all("v=" in url for url in files), [u for u in files if "v=" not in u]
    ours += [url.replace("&amp;", "&") for url in files if url.startswith("/static/admin/")]
    for url in ours:
        resp = clerk.get(url)
        cache = resp.cache_control
        assert resp.status_code == 200 and cache.immutable, url
        assert cache.max_age >= 30 * 24 * 3600 and not cache.no_cache and not cache.no_store, url
    # A file that changes (a deploy) gets another address, so no browser keeps the old one.
    (tmp_path / "portal.css").write_text("body { color: black }")
    monkeypatch.setattr(app, "static_folder", str(tmp_path))
    with app.test_request_context():
        before = url_for("static", filename="portal.css")
        (tmp_path / "portal.css").write_text("body { color: navy }")
        after = url_for("static", filename="portal.css")
    assert before != after and before.split("?")[0] == after.split("?")[0]
