"""Locale and timezone selection.

Babel turns ``zh_CN`` into ``zh_Hans_CN`` and gettext then only looks in ``zh_Hans_CN``
and ``zh``: our catalogue lives in ``translations/zh_Hans_CN`` and the selector returns
exactly ``zh_Hans_CN`` or ``en`` (Flask-Admin's own Chinese catalogue has the same name).
"""

from flask import g, has_request_context, request, session
from flask_babel import get_locale, get_translations
from flask_babel.speaklater import LazyString
from flask_login import current_user
from markupsafe import Markup

from portal import clock

LOCALES = {"zh_Hans_CN": "中文", "en": "English"}

# The app's catalogue of each language, as Flask-Babel loaded it (Flask-Babel too keeps them
# for the life of the process).
_CATALOGUES = {}


def translations():
    """Flask-Babel's translations of the language in force (``force_locale`` included). Flask-Babel
    finds them again on each ``gettext`` through nine lookups of the request context (~25 µs), and
    a page translates 100 to 150 texts; here the language is the one lookup."""
    locale = get_locale()
    catalogue = _CATALOGUES.get(locale)
    if catalogue is None:
        catalogue = _CATALOGUES[locale] = get_translations()
    return catalogue


def gettext(string, **variables):
    """Flask-Babel's ``gettext``, through ``translations``."""
    text = translations().ugettext(string)
    return text % variables if variables else text


def install_template_helpers(app):
    """How templates show a site's times: ``at|site_time(site, pattern)`` on the site's own
    pages, ``local_text(at, site)`` where a reader elsewhere may read them."""
    app.add_template_filter(site_time, "site_time")
    app.add_template_global(local_text, "local_text")


def install_template_gettext(app):
    """Templates' ``_()`` and ``ngettext`` through ``translations`` too: the callables
    Flask-Babel installs, with the faster lookup."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
    )


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


# The zones of the sites, named as people in China say them; any other zone by its offset.
ZONE_NAMES = {
    "Asia/Shanghai": lazy_gettext("Beijing time"),
    "Asia/Chongqing": lazy_gettext("Beijing time"),
    "Asia/Harbin": lazy_gettext("Beijing time"),
    "PRC": lazy_gettext("Beijing time"),
    "Asia/Urumqi": lazy_gettext("Urumqi time"),
    "Asia/Kashgar": lazy_gettext("Kashgar time"),
    "Asia/Hong_Kong": lazy_gettext("Hong Kong time"),
    "Asia/Macau": lazy_gettext("Macau time"),
    "Asia/Taipei": lazy_gettext("Taipei time"),
    "Asia/Tokyo": lazy_gettext("Tokyo time"),
    "Asia/Seoul": lazy_gettext("Seoul time"),
    "Asia/Singapore": lazy_gettext("Singapore time"),
}


def zone_name(where, at):
    """The zone of ``where`` (``clock`` rules) in words, e.g. 乌鲁木齐时间; a zone without a
    common name by its offset at the instant ``at`` (``UTC+5:45``)."""
    local = clock.to_local(at, where)
    name = ZONE_NAMES.get(getattr(local.tzinfo, "key", None))
    if name is not None:
        return str(name)
    minutes = int(local.utcoffset().total_seconds() // 60)
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{'-' if minutes < 0 else '+'}{hours}" + (f":{rest:02d}" if rest else "")


def viewer_zone():
    """The zone the reader's pages are in (decided per request, ``select_timezone``)."""
    return clock.zone(g.get("portal_tz") if has_request_context() else None)


def site_time(at, where, pattern="%H:%M"):
    """The instant ``at`` on the wall clock of ``where``, without naming the zone (empty for
    none): for a site's own pages, read by the people working there."""
    return clock.to_local(at, where).strftime(pattern) if at else ""


def local_text(at, where, pattern="%Y-%m-%d %H:%M"):
    """The instant ``at`` on the wall clock of ``where``, followed by the zone's name when the
    reader's own clock would show another time (a Urumqi site's record read in Beijing)."""
    local = clock.to_local(at, where)
    text = local.strftime(pattern)
    if local.utcoffset() != clock.to_local(at, viewer_zone()).utcoffset():
        text = f"{text} {zone_name(where, at)}"
    return text


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
    if not has_request_context():  # CLI, workers, seeding: the default language
        return "zh_Hans_CN"
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
