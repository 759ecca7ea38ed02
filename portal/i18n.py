"""Locale and timezone selection.

Babel turns ``zh_CN`` into ``zh_Hans_CN`` and gettext then only looks in ``zh_Hans_CN``
and ``zh``: our catalogue lives in ``translations/zh_Hans_CN`` and the selector returns
exactly ``zh_Hans_CN`` or ``en`` (Flask-Admin's own Chinese catalogue has the same name).
"""
from flask import g, request, session
from flask_login import current_user

LOCALES = {"zh_Hans_CN": "中文", "en": "English"}


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
    return site.timezone if site else "Asia/Shanghai"


def select_timezone():
    # Decided once per request (before_request), so late formatting (streamed exports) needs no database.
    return g.get("portal_tz", "Asia/Shanghai")
