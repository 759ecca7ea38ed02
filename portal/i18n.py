"""Locale and timezone selection.

Babel turns ``zh_CN`` into ``zh_Hans_CN`` and gettext then only looks in ``zh_Hans_CN``
and ``zh``: our catalogue lives in ``translations/zh_Hans_CN`` and the selector returns
exactly ``zh_Hans_CN`` or ``en`` (Flask-Admin's own Chinese catalogue has the same name).
"""

from flask import g, request, session
from flask_babel import gettext
from flask_babel.speaklater import LazyString
from flask_login import current_user
from markupsafe import Markup

from portal import clock

LOCALES = {"zh_Hans_CN": "中文", "en": "English"}


class LazyMessage(LazyString):
    """A lazily translated message whose parameters are escaped when it is shown as HTML.

    Flask-Babel's ``LazyString`` has ``__html__`` (Jinja then treats it as safe markup) but
    returns the formatted text as it is, so a product name inside a message became live HTML;
    a flashed lazy string is even stored in the session as ``Markup`` (Flask's session
    serialiser tags objects with ``__html__``). Here the translated text is trusted and each
    parameter is escaped by ``Markup``'s ``%``, exactly once. ``str()`` stays the plain text
    (logs, PDFs, form values, ``flash(str(exc))``, which Jinja escapes itself).
    """

    def __html__(self):
        (string,) = self._args
        text = Markup(self._func(string))
        return text % self._kwargs if self._kwargs else text


def lazy_gettext(string, **variables):
    """Like Flask-Babel's ``lazy_gettext``, but safe to show in a page (see ``LazyMessage``)."""
    return LazyMessage(gettext, string, **variables)


def normalise(lang):
    if not lang:
        return None
    lang = lang.replace("-", "_").lower()
    if lang.startswith("zh"):
        return "zh_Hans_CN"
    if lang.startswith("en"):
        return "en"
    return None


def select_locale():
    if current_user and current_user.is_authenticated and normalise(current_user.locale):
        return normalise(current_user.locale)
    chosen = normalise(session.get("lang"))
    if chosen:
        return chosen
    # best_match against zh_Hans_CN maps "zh-CN" to en: match the plain tags, then normalise.
    match = request.accept_languages.best_match(["zh_CN", "zh", "en"]) if request else None
    return normalise(match) or "zh_Hans_CN"


def user_timezone(user):
    """The timezone of the user's (first) site; head office reads in China Standard Time."""
    site = user.sites[0] if user.is_authenticated and user.sites else None
    return clock.site_zone(site).key  # a bad or empty zone name: the default zone (portal.clock)


def select_timezone():
    # Decided once per request (before_request), so late formatting (streamed exports) needs no
    # database.
    return g.get("portal_tz", clock.DEFAULT_ZONE_NAME)
