"""Every workflow page at tablet (768×1024) and phone (390×844) size: no horizontal
scrolling, touch targets at least 44 px tall, the primary action on the first screens, and
a screenshot of each under artifacts/screenshots/usability/."""

import pytest

from tests.usability_helpers import SIZES, Sessions, save_screenshot, seed_full_demo, workflow_pages

# Visible controls in the main content (and the navigation bar) and their height; inline
# links inside running text are sized by the line, as WCAG 2.5.8 allows ("inline" exception).
SMALL_TARGETS = """() => {
  const sel = '.navbar a, .navbar button, main a, main button, main input:not([type=hidden]),'
            + ' main select, main textarea,'
            + ' .container a, .container button, .container input:not([type=hidden]),'
            + ' .container select, .container textarea,'
            + ' .container-fluid a, .container-fluid button,'
            + ' .container-fluid input:not([type=hidden]),'
            + ' .container-fluid select, .container-fluid textarea';
  const seen = new Set(), small = [];
  for (const el of document.querySelectorAll(sel)) {
    if (seen.has(el)) continue; seen.add(el);
    const r = el.getBoundingClientRect(), st = getComputedStyle(el);
    if (!r.width || !r.height || st.visibility === 'hidden') continue;
    if (el.closest('.dropdown-menu:not(.show)') || el.closest('.collapse:not(.show)')) continue;
    if (['checkbox', 'radio', 'file'].includes(el.type)) {  // the label is the target
      const lab = el.closest('label') || (el.id && document.querySelector(`label[for="${el.id}"]`));
      if (lab && lab.getBoundingClientRect().height >= 44) continue;
    }
    if (el.tagName === 'A' && !el.classList.contains('btn')
        && el.closest('p, li.list-group-item, td, .alert, small, .card-text')
        && !el.closest('.nav, .navbar, .pagination')) continue;   // inline link in text
    const text = (el.innerText||el.value||'').trim().slice(0,30);
    if (r.height < 43.5)
      small.push(`${el.tagName.toLowerCase()}#${el.id}.${el.className} "${text}" `
                 + `${Math.round(r.height)}px`);
  }
  return small;
}"""


@pytest.mark.parametrize("size", sorted(SIZES))
def test_workflow_pages_fit_the_screen_with_big_targets(browser, live_server, app, size):
    ids = seed_full_demo(app)
    sessions = Sessions(browser, live_server)
    problems = []
    try:
        for user, name, url in workflow_pages(ids):
            page = sessions.page(user, SIZES[size])
            resp = page.goto(f"{live_server}{url}")
            assert resp.status == 200, url
            width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
            if width[0] > width[1]:
                problems.append(f"{size} {name}: scrolls sideways ({width[0]} > {width[1]})")
            for small in page.evaluate(SMALL_TARGETS):
                problems.append(f"{size} {name}: small target {small}")
            primary = page.locator(
                "main .btn-primary:visible, .container .btn-primary:visible, "
                ".container-fluid .btn-primary:visible"
            ).first
            if primary.count():
                top = primary.evaluate("el => el.getBoundingClientRect().top + window.scrollY")
                if top > 2 * SIZES[size]["height"]:
                    problems.append(f"{size} {name}: primary action {top:.0f}px down")
            save_screenshot(page, f"{size}_{name}")
    finally:
        sessions.close()
    print("\n".join(problems))
    assert not problems, "\n".join(problems)
