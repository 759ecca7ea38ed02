"""No mixed-language pages: every main page of every role in English without Chinese UI
strings (Chinese user data — site names, people, notes — is allowed: it is matched against the
text stored in the database). The Chinese walk, with the English words listed here, is in
test_usability_main_pages.py."""

import re

from sqlalchemy import String, Text, select, update

from portal.extensions import db
from portal.models import User
from tests.usability_helpers import Sessions, main_pages, seed_full_demo

# English words of our UI (and of Flask-Admin's) that must not show on a Chinese page.
ENGLISH_UI = [
    "Save",
    "Cancel",
    "Delete",
    "List",
    "Create",
    "Edit",
    "Filter",
    "Search",
    "Submit",
    "Today",
    "Site",
    "Details",
    "Export",
    "Add",
    "Close",
    "Back",
    "Home",
    "Log out",
    "Next",
    "Previous",
    "Yes",
    "No",
    "Select",
    "Actions",
    "View",
    "Record",
    "Records",
    "Apply",
    "Reset",
    "Open",
    "Done",
    "Remove",
    "New",
    "Menu",
    "None",
    "Status",
    "Name",
    "Date",
    "Time",
]
WORDS = re.compile(r"\b(" + "|".join(re.escape(w) for w in ENGLISH_UI) + r")\b")
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
# Shown in Chinese on purpose: the logo glyph and the language's own name in the switch.
BY_DESIGN = {"售", "中文"}
# The visible text, plus the texts a screen reader or a hover shows.
PAGE_TEXT = """() => [document.title, document.body.innerText,
  ...Array.from(document.querySelectorAll('[placeholder],[title],[aria-label]'))
     .flatMap(el => ['placeholder', 'title', 'aria-label']
       .map(a => el.getAttribute(a)).filter(Boolean))].join('\\n')"""


def stored_text():
    """Every text value in the database: what may appear on a page as user data."""
    values = set()
    for table in db.metadata.sorted_tables:
        cols = [c for c in table.columns if isinstance(c.type, (String, Text))]
        for col in cols:
            values.update(
                v for v in db.session.scalars(select(col).distinct()) if v and CJK.search(v)
            )
    return "\n".join(values)


def walk(browser, live_server, app, locale, check):
    ids = seed_full_demo(app)
    sessions = Sessions(browser, live_server, locale="en-US" if locale == "en" else locale)
    problems = []
    try:
        for user, url in main_pages(ids):
            page = sessions.page(user)
            assert page.goto(f"{live_server}{url}").status == 200, (user, url)
            assert page.evaluate("document.documentElement.lang") == locale, (user, url)
            problems += [f"{user} {url}: {p}" for p in check(page.evaluate(PAGE_TEXT))]
    finally:
        sessions.close()
    return problems


def test_english_pages_have_no_chinese_ui_strings(browser, live_server, app):
    with app.app_context():
        db.session.execute(update(User).values(locale="en"))
        db.session.commit()
        data = None

    def check(text):
        nonlocal data
        if data is None:
            with app.app_context():
                data = stored_text()
                db.session.remove()
        return sorted(
            {run for run in CJK.findall(text) if run not in data and run not in BY_DESIGN}
        )

    problems = walk(browser, live_server, app, "en", check)
    print(f"\nen walk: {len(problems)} pages with Chinese UI strings")
    assert not problems, "\n".join(problems)
