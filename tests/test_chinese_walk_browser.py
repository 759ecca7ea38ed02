"""A real Chromium walks every page of every demo role in Chinese, opens the JavaScript
widgets (menus, the date-range picker of a list filter) and fails on English words a user
would see and on any console error (a Content-Security-Policy refusal among them).

Words that are not UI text are allowed: stored data (every word in the demo database's text
columns except the code columns, whose words are UI labels; a grooming point's key is an
identifier head office types, like a site code), codes and usernames (they carry digits or
underscores) and a short list of units and product names."""

import re

from flask_admin.contrib.sqla import ModelView
from sqlalchemy import String, Text, select

from portal.extensions import db
from tests.conftest import browser_login, screenshot
from tests.matrix import ROLE_USERS, ROLES, all_entries
from tests.test_access_matrix import _sample_id, _views

ALLOWED = {
    "PDF", "XLSX", "CSV", "QR", "WeCom", "DingTalk", "ID", "IP", "URL", "Excel", "PNG", "JPG",
    "JPEG", "HEIC", "WebP", "KB", "MB", "GB", "Avery", "mm", "A4", "GBK", "csv", "xlsx",
    "Webhook",  # WeCom's and DingTalk's own name for a group robot's address
    "English",  # the language switcher names each language in that language
}
WORD = re.compile(r"[A-Za-z][A-Za-z0-9_.@'-]*")
# Columns holding codes from a fixed list: their words must be shown translated, so they do not
# count as stored data.
_CODE_COLUMNS = {
    "kind", "type", "status", "action", "role", "state", "category", "point", "post",
    "object_type", "outcome", "condition", "priority", "from_status", "to_status", "channel",
}

VISIBLE_TEXT = """() => {
  const parts = [document.body.innerText];
  for (const el of document.querySelectorAll('[placeholder], [title]')) {
    for (const a of ['placeholder', 'title']) {
      if (el.getAttribute(a)) parts.push(el.getAttribute(a));
    }
  }
  // A button's words; a text field's value is what someone typed or what is stored.
  for (const el of document.querySelectorAll('input[type=submit], input[type=button]')) {
    if (el.value) parts.push(el.value);
  }
  return parts.join('\\n');
}"""
NAV_MENUS = "nav .dropdown-toggle:visible"
PAGE_MENUS = "main .dropdown-toggle:visible"


def _stored_words(app):
    words = set()
    with app.app_context():
        for table in db.metadata.sorted_tables:
            for col in table.columns:
                if not isinstance(col.type, (String, Text)) or col.name in _CODE_COLUMNS:
                    continue
                stmt = select(col).distinct().execution_options(bypass_scope=True)
                for value in db.session.execute(stmt).scalars():
                    if isinstance(value, str):
                        words.update(WORD.findall(value))
        db.session.remove()
    return words


def _latin(text, stored):
    bad = set()
    for word in WORD.findall(text):
        word = word.rstrip(".'-")
        if len(word) < 2 or word in ALLOWED or word in stored or re.search(r"[\d_@]", word):
            continue  # codes (SZ01), usernames, ids and e-mail addresses are not UI text
        bad.add(word)
    return bad


def _urls(app, role, sites):
    urls = ["/"]
    entries = all_entries()
    for endpoint, view in sorted(_views(app).items()):
        rights = entries[endpoint]
        if role not in rights.read:
            continue
        url = view.url.rstrip("/")
        urls.append(f"{url}/")
        if rights.page or not isinstance(view, ModelView):
            continue
        with app.app_context():
            record_id = _sample_id(view.model, sites)
            db.session.remove()
        if record_id is not None and view.can_view_details:
            urls.append(f"{url}/details/?id={record_id}")
        if role in rights.write:
            if view._creatable:
                urls.append(f"{url}/new/")
            if view._editable and record_id is not None:
                urls.append(f"{url}/edit/?id={record_id}")
    return urls


def _menus(page, selector, limit):
    """Open each menu in turn (and close it again); yields while it is open."""
    for toggle in page.locator(selector).all()[:limit]:
        toggle.click()
        yield
        if toggle.is_visible():
            toggle.click()


def _date_filter(page):
    """Add the list's first date filter and open its picker; True when the list has one."""
    menu = page.locator("main a.dropdown-toggle", has_text="添加筛选器")
    if not menu.count():
        return False
    menu.first.click()
    dated = page.locator("a.filter").filter(has_text=re.compile("日期|时间|日"))
    if not dated.count():
        menu.first.click()
        return False
    dated.first.click()
    page.locator(".filters input.filter-val").last.click()
    page.locator(".daterangepicker:visible").first.wait_for()
    return True


def _walk(app, browser, live_server, role, sites, stored):
    problems = []
    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 768})
    page = context.new_page()
    errors = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    browser_login(page, live_server, ROLE_USERS[role])
    first = True
    for url in _urls(app, role, sites):
        errors.clear()
        resp = page.goto(f"{live_server}{url}")
        if resp.status >= 400:
            problems.append(f"{role} {url}: HTTP {resp.status}")
            continue
        texts = [page.evaluate(VISIBLE_TEXT)]
        # The main menu is the same on every page: opened on the first one.
        for _ in _menus(page, NAV_MENUS, 20 if first else 0):
            texts.append(page.evaluate(VISIBLE_TEXT))
        first = False
        for _ in _menus(page, PAGE_MENUS, 4):
            texts.append(page.evaluate(VISIBLE_TEXT))
        if url.count("/") == 2 and _date_filter(page):
            texts.append(page.evaluate(VISIBLE_TEXT))
        bad = _latin("\n".join(texts), stored)
        if bad:
            problems.append(f"{role} {url}: English {sorted(bad)}")
        if errors:
            problems.append(f"{role} {url}: console {errors[:2]}")
    context.close()
    return problems


def test_every_page_of_every_role_is_chinese_without_console_errors(
    app, browser, live_server, full_demo
):
    stored = _stored_words(app)
    problems = []
    for role in ROLES:
        problems += _walk(app, browser, live_server, role, full_demo, stored)
    assert not problems, "\n".join(problems)


def test_widgets_in_chinese_at_laptop_and_tablet_size(browser, live_server, full_demo):
    for width, height in ((1366, 768), (768, 1024)):
        context = browser.new_context(locale="zh-CN", viewport={"width": width, "height": height})
        page = context.new_page()
        browser_login(page, live_server, "admin")
        page.goto(f"{live_server}/audit/")
        screenshot(page, f"latin-audit-{width}")
        assert _date_filter(page)
        picker = page.locator(".daterangepicker:visible").first
        words = picker.inner_text()
        assert "确定" in words and "取消" in words and "一" in words
        assert not re.search(r"Apply|Cancel|Mo|Dec", words)
        screenshot(page, f"latin-daterange-{width}")
        page.goto(f"{live_server}/damage/new/")
        button = page.locator(".portal-file-button").first
        assert button.inner_text() == "选择照片"
        # The real input is still in the form and labelled by the button.
        field = page.locator("input[type=file]").first
        assert field.get_attribute("id") == button.get_attribute("for")
        screenshot(page, f"latin-file-button-{width}")
        context.close()


def test_a_date_range_reads_in_chinese_and_filters_the_list(browser, live_server, full_demo):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 768})
    page = context.new_page()
    browser_login(page, live_server, "admin")
    page.goto(f"{live_server}/audit/")
    assert _date_filter(page)
    page.locator(".daterangepicker:visible .applyBtn").first.click()
    field = page.locator(".filters input.filter-val").last
    shown = field.input_value()
    assert re.fullmatch(r"\d{4}-\d\d-\d\d 至 \d{4}-\d\d-\d\d", shown), shown
    with page.expect_navigation():
        page.locator("#filter_form button[type=submit]").click()
    # The list came back filtered by that range, the field still in Chinese, no complaint.
    assert "flt" in page.url and not page.locator(".alert-danger").count()
    field = page.locator(".filters input.filter-val").last
    assert field.input_value() == shown
    field.click()  # the picker of a filter already applied speaks Chinese too
    assert "确定" in page.locator(".daterangepicker:visible").first.inner_text()
    screenshot(page, "latin-daterange-applied")
    context.close()
