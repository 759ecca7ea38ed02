"""Security events are logged as one structured line each, whatever the user typed."""

import logging

import pytest


def _lines(caplog):
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("security ")]


def test_login_failure_with_crlf_in_username_is_one_escaped_line(client, caplog):
    caplog.set_level(logging.INFO)
    evil = "admin\r\nsecurity event=login_success user=1"
    assert client.post("/login", {"username": evil, "password": "wrong"}).status_code == 401
    [line] = [m for m in _lines(caplog) if "login_failure" in m]
    assert "\r" not in line and "\n" not in line
    assert line.count("event=") == 1 and "\\x0d\\x0a" in line
    assert line.startswith("security event=login_failure user=- username=admin\\x0d\\x0asecurity")
    assert "addr=127.0.0.1 path=/login" in line


def test_login_success_names_user_and_sites(login, caplog):
    caplog.set_level(logging.INFO)
    login("clerk_sz01")
    [line] = [m for m in _lines(caplog) if "login_success" in m]
    assert "username=clerk_sz01" in line and "site=SZ01" in line


@pytest.mark.parametrize(
    "url, event", [("/user/", "forbidden"), ("/staff/details/?id=999999", "not_found")]
)
def test_refusals_are_logged(login, caplog, url, event):
    clerk = login("clerk_sz01")
    caplog.set_level(logging.INFO)
    assert clerk.get(url).status_code in (403, 404)
    [line] = [m for m in _lines(caplog) if f"event={event}" in m]
    assert "site=SZ01" in line and "path=" + url.split("?")[0] in line


def test_csrf_failure_is_logged(login, caplog):
    clerk = login("clerk_sz01")
    caplog.set_level(logging.INFO)
    assert clerk.post("/logout", {"csrf_token": "forged"}).status_code == 400
    assert any("event=csrf_failure" in m and "path=/logout" in m for m in _lines(caplog))
