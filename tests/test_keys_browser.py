"""In a real browser on a 768px tablet: the clerk hands a key out to a contractor and takes it
back; screenshots land in artifacts/screenshots/."""

from sqlalchemy import select

from portal.extensions import db
from portal.models import Site
from portal.models.keys import KeyItem, KeyLoan
from tests.conftest import browser_login, screenshot


def test_hand_out_and_take_back_a_key(page, live_server, app, full_demo):
    with app.app_context():
        sz01 = db.session.scalar(select(Site.id).where(Site.code == "SZ01"))
        key_id = db.session.scalar(
            select(KeyItem.id).where(KeyItem.site_id == sz01, KeyItem.code == "B-01")
        )
        db.session.remove()
    page.set_viewport_size({"width": 768, "height": 1024})
    browser_login(page, live_server, "clerk_sz01")
    page.goto(f"{live_server}/keys/")
    row = page.locator(f"#key-{key_id}")
    row.get_by_role("link", name="借出").click()
    page.fill("#holder_name", "李师傅")
    page.fill("#holder_phone", "13912345678")
    page.fill("#purpose", "维修样板房水管")
    screenshot(page, "keys_hand_out_form")
    with page.expect_navigation():
        page.get_by_role("button", name="借出").click()
    assert "钥匙 B-01 已借出" in page.content()
    assert "李师傅 13912345678" in row.inner_text()
    screenshot(page, "keys_register_key_out")

    with page.expect_navigation():
        row.get_by_role("button", name="归还").click()
    assert "钥匙 B-01 已归还" in page.content()
    assert "在柜" in row.inner_text()
    screenshot(page, "keys_register_key_back")
    with app.app_context():
        loan = db.session.scalar(select(KeyLoan).where(KeyLoan.key_id == key_id))
        assert loan.returned_at is not None and loan.holder_name == "李师傅"
        db.session.remove()
