"""Every string of ours is translated into Chinese (and none is fuzzy)."""

import os

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = os.path.dirname(os.path.dirname(__file__))
PO = os.path.join(ROOT, "portal", "translations", "zh_Hans_CN", "LC_MESSAGES", "messages.po")
METHOD_MAP = [("**.py", "python"), ("templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}


def _our_messages():
    found = {}
    for filename, lineno, message, _comments, _ctx in extract_from_dir(
        os.path.join(ROOT, "portal"), METHOD_MAP, keywords=KEYWORDS
    ):
        ids = message if isinstance(message, tuple) else (message,)
        for msgid in ids:
            if msgid:
                found.setdefault(msgid, f"{filename}:{lineno}")
    return found


def test_every_message_has_a_chinese_translation():
    with open(PO, "rb") as fh:
        catalog = read_po(fh, locale="zh_Hans_CN")
    missing = []
    for msgid, where in sorted(_our_messages().items()):
        entry = catalog.get(msgid)
        if (
            entry is None
            or not entry.string
            or (isinstance(entry.string, tuple) and not all(entry.string))
        ):
            missing.append(f"{where}: {msgid!r}")
        elif entry.fuzzy:
            missing.append(f"{where}: fuzzy {msgid!r}")
    assert not missing, "untranslated strings:\n" + "\n".join(missing)


def test_chinese_is_the_default_and_english_available(client):
    page = client.get("/login").get_data(as_text=True)
    assert "售楼处运营平台" in page and "登录" in page
    client.http.get("/login", headers={"Accept-Language": "en"})
    page = client.http.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(
        as_text=True
    )
    assert "Sales Office Portal" in page and "售楼处运营平台" not in page


def test_catalogue_has_no_duplicate_entries():
    # Branches append to the catalogue and git's union merge keeps both sides: a msgid added
    # twice would let one translation silently win over the other.
    seen, dupes = set(), []
    with open(PO, encoding="utf-8") as fh:
        for line in fh:
            if line.startswith('msgid "') and line != 'msgid ""\n':
                if line in seen:
                    dupes.append(line.strip())
                seen.add(line)
    assert not dupes, f"duplicate entries in messages.po: {dupes}"
