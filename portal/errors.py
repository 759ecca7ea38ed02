"""The one error a service (or a model rule) raises to refuse what a user asked for.

Services know nothing of requests: they raise ``DomainError`` with the message the user reads,
and the view helper ``portal.views.base.domain_errors`` (or, when no view catches it, the
error handler in ``portal.views.errors``) turns it into the page and status code.
"""


class DomainError(Exception):
    """A refused action, nothing written.

    ``message``: a lazy translatable text (``portal.i18n.lazy_gettext``, which escapes its
    parameters when shown as HTML). ``field``: the form field it is about, or None for the
    whole form or page. ``status``: the HTTP answer: 400 bad input (the default), 403 not
    allowed, 404 no such record (the page says nothing more), 409 a conflict with the record's
    current state (locked, changed meanwhile). ``errors``: messages of several fields at once
    ({field or row id: message}), for a form of many rows (checklist items, tally products).
    """

    def __init__(self, message, field=None, *, status=400, errors=None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status
        self.errors = dict(errors or {})

    def __str__(self):
        return str(self.message)

    @property
    def msgid(self):
        """The untranslated text of the message (which refusal it is, in any language)."""
        args = getattr(self.message, "_args", None)  # a lazy string keeps its source text
        return args[0] if args else str(self.message)
