"""Every main page of every role, walked once in Chinese by a real Chromium: each page's
language, visible text, title, favicon and axe-core's findings are recorded on that one visit
and checked by the tests below (one walk instead of three: each took ~25-40 s)."""

import json
import os

import pytest

from tests.test_usability_language import PAGE_TEXT, WORDS
from tests.usability_helpers import AXE, Sessions, main_pages, seed_full_demo

AXE_VIOLATIONS = """async () => {
    const r = await axe.run(document, {resultTypes: ['violations']});
    return r.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.length,
                                    target: v.nodes[0].target.join(' '),
                                    html: v.nodes[0].html.slice(0, 160),
                                    why: v.nodes.map(n => (n.any[0] || n.all[0] || {}).message)
                                                .filter(Boolean).slice(0, 3)}));
}"""


@pytest.fixture(scope="module")
def chinese_walk(app, baseline, browser, live_server):
    """What each (user, url) showed: status, lang, text, title, favicons, axe violations."""
    # Never skipped: `make test` installs axe-core (npm ci in tests/js).
    assert os.path.exists(AXE), "axe-core missing: run `npm ci` in tests/js (make test does)"
    baseline.restore()  # this runs before the first test's own reset: start from the demo org
    ids = seed_full_demo(app)
    sessions = Sessions(browser, live_server)
    seen = []
    try:
        for user, url in main_pages(ids):
            page = sessions.page(user)
            status = page.goto(f"{live_server}{url}").status
            shown = {"user": user, "url": url, "status": status}
            if status == 200:
                shown["lang"] = page.evaluate("document.documentElement.lang")
                shown["text"] = page.evaluate(PAGE_TEXT)
                shown["title"] = page.title()
                shown["favicons"] = page.locator(
                    "link[rel=icon][href*='/static/favicon.svg']"
                ).count()
                page.add_script_tag(path=AXE)  # last: it adds to the page
                shown["axe"] = page.evaluate(AXE_VIOLATIONS)
            seen.append(shown)
    finally:
        sessions.close()
    return seen


def _loaded(walk):
    for shown in walk:
        assert shown["status"] == 200, (shown["user"], shown["url"])
        yield shown


def test_chinese_pages_have_no_english_ui_words(chinese_walk):
    problems = []
    for shown in _loaded(chinese_walk):
        assert shown["lang"] == "zh-CN", (shown["user"], shown["url"])
        words = sorted({m.group(0) for m in WORDS.finditer(shown["text"])})
        if words:
            problems.append(f"{shown['user']} {shown['url']}: {words}")
    print(f"\nzh walk: {len(problems)} pages with English UI words")
    assert not problems, "\n".join(problems)


def test_every_main_page_has_a_title_and_the_favicon(chinese_walk):
    for shown in _loaded(chinese_walk):
        title = shown["title"]
        assert title.endswith("售楼处运营平台") and len(title) > len("售楼处运营平台") + 3, (
            shown["url"],
            title,
        )
        assert shown["favicons"] == 1, shown["url"]


def test_no_serious_or_critical_accessibility_violation(chinese_walk):
    rows, serious = [], []
    for shown in _loaded(chinese_walk):
        user, url, violations = shown["user"], shown["url"], shown["axe"]
        counts = {
            impact: sum(v["nodes"] for v in violations if v["impact"] == impact)
            for impact in ("critical", "serious", "moderate", "minor")
        }
        rows.append((user, url, counts))
        serious += [
            f"{user} {url}: {json.dumps(v, ensure_ascii=False)}"
            for v in violations
            if v["impact"] in ("serious", "critical")
        ]
    print("\naxe-core results (violating nodes per impact)")
    print(f"{'user':<12} {'page':<32} critical serious moderate minor")
    for user, url, c in rows:
        print(
            f"{user:<12} {url:<32} {c['critical']:>8} {c['serious']:>7} {c['moderate']:>8} "
            f"{c['minor']:>5}"
        )
    print(f"{len(rows)} pages checked")
    assert not serious, "\n".join(serious)
