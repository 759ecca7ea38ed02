"""HTML forms read the way a browser submits them (shared by the attack and locking tests)."""

from html.parser import HTMLParser


class Forms(HTMLParser):
    """The forms of a page: action, method and fields ``[name, kind, value]`` as a browser would
    submit them. ``first_option``: a select with nothing selected sends its first real option
    (what a person picking something would send) instead of nothing."""

    def __init__(self, html, first_option=True):
        super().__init__(convert_charrefs=True)
        self.forms, self._select, self._textarea = [], None, None
        self._first_option = first_option
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append(
                {
                    "action": a.get("action") or "",
                    "method": (a.get("method") or "get").lower(),
                    "fields": [],
                }
            )
        elif not self.forms:
            return
        elif tag == "input" and a.get("name"):
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind not in ("submit", "button", "file"):
                self.forms[-1]["fields"].append([a["name"], kind, a.get("value") or ""])
        elif tag == "textarea" and a.get("name"):
            self._textarea = [a["name"], "textarea", ""]
            self.forms[-1]["fields"].append(self._textarea)
        elif tag == "select" and a.get("name"):
            self._select = [a["name"], "select", None]
            self.forms[-1]["fields"].append(self._select)
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            unset = (
                self._first_option
                and self._select[2] in (None, "", "__None")
                and value not in ("", "__None")
            )
            if "selected" in a or unset:
                self._select[2] = value

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[2] += data
