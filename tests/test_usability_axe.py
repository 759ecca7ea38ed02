"""axe-core on every main page of every role, in Chromium: no serious or critical violation
(labels, contrast, names of buttons and links…). Prints a table of what axe found."""

import json
import os


from tests.usability_helpers import AXE, Sessions, main_pages, seed_full_demo


def axe_run(page):
    page.add_script_tag(path=AXE)
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.length,
                                        target: v.nodes[0].target.join(' '),
                                        html: v.nodes[0].html.slice(0, 160),
                                        why: v.nodes.map(n => (n.any[0] || n.all[0] || {}).message)
                                                    .filter(Boolean).slice(0, 3)}));
    }""")
    return result


def test_no_serious_or_critical_accessibility_violation(browser, live_server, app):
    # Never skipped: `make test` installs axe-core (npm ci in tests/js).
    assert os.path.exists(AXE), "axe-core missing: run `npm ci` in tests/js (make test does)"
    ids = seed_full_demo(app)
    sessions = Sessions(browser, live_server)
    rows, serious = [], []
    try:
        for user, url in main_pages(ids):
            page = sessions.page(user)
            resp = page.goto(f"{live_server}{url}")
            assert resp.status == 200, (user, url)
            violations = axe_run(page)
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
    finally:
        sessions.close()
    print("\naxe-core results (violating nodes per impact)")
    print(f"{'user':<12} {'page':<32} critical serious moderate minor")
    for user, url, c in rows:
        print(
            f"{user:<12} {url:<32} {c['critical']:>8} {c['serious']:>7} {c['moderate']:>8} "
            f"{c['minor']:>5}"
        )
    print(f"{len(rows)} pages checked")
    assert not serious, "\n".join(serious)
