"""A supervisor sets up two-factor sign-in in Chromium, then signs in with a code."""

import time

import pyotp

from tests.conftest import browser_login, screenshot


def test_supervisor_enrols_and_signs_in_with_a_code(page, live_server, app, monkeypatch):
    monkeypatch.setitem(app.config, "TWO_FACTOR_ROLES", frozenset({"admin", "supervisor"}))
    browser_login(page, live_server, "sup_south")
    assert page.url == f"{live_server}/login/code"
    assert "设置双重验证登录" in page.inner_text("h1")
    qr = page.locator("#enrol-qr")
    assert (
        qr.is_visible() and qr.evaluate("img => img.naturalWidth") > 0
    )  # the SVG loaded under the CSP
    page.click("summary")
    secret = "".join(page.inner_text("#enrol-secret").split())
    screenshot(page, "two_factor_enrol")
    page.fill("#code", pyotp.TOTP(secret).now())
    with page.expect_navigation():
        page.click("#enrol-button")
    codes = page.locator("#recovery-codes li")
    assert codes.count() == 10
    screenshot(page, "two_factor_recovery_codes")
    with page.expect_navigation():
        page.click("#continue-button")
    assert "/login" not in page.url

    page.click("#user-menu")
    page.click("#logout-button")
    page.wait_for_url(f"{live_server}/login")
    browser_login(page, live_server, "sup_south")
    assert page.url == f"{live_server}/login/code"
    page.fill("#code", "123")
    with page.expect_navigation():
        page.click("#code-button")
    assert "验证码不正确" in page.inner_text("body")
    # The next 30-second step's code: the current one was spent on enrolment.
    page.fill("#code", pyotp.TOTP(secret).at(time.time() + 30))
    screenshot(page, "two_factor_code")
    with page.expect_navigation():
        page.click("#code-button")
    assert "/login" not in page.url  # the supervisor's landing page
    assert page.locator("#user-menu").is_visible()  # signed in
    page.goto(f"{live_server}/account/two-factor")
    assert "剩余恢复码：10 个" in page.inner_text("body")
    screenshot(page, "two_factor_account")
