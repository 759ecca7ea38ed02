"""The navbar counters: what waits for the logged-in user, in one statement (the counts of
``portal.services.waiting``, which the landing pages show too).

    counts_for(user, now=None) -> [Notice(key, count, label, endpoint, args)]

Each role gets only the counts that concern it:
  maintenance — tickets newly assigned to me (not started yet);
  sales       — damage reports waiting for my confirmation;
  supervisor / admin — overdue open tickets, and damage reports waiting for review;
  clerk / security — repairs I reported that are resolved and wait for my confirmation.
"""

from dataclasses import dataclass, field

from portal.i18n import lazy_gettext as _l
from portal.services import waiting


@dataclass(frozen=True)
class Notice:
    key: str
    count: int
    label: object
    endpoint: str
    args: dict = field(default_factory=dict)


# navbar key -> the "waiting for you" kind it shows, per role: the same count as the landing page.
NAVBAR_KINDS = {
    "maintenance": (("assigned", "new_for_me", _l("New tickets assigned to me")),),
    "sales": (("to_confirm", "damage_to_confirm", _l("Damage reports to confirm")),),
    "supervisor": (
        ("overdue", "tickets_overdue", _l("Overdue repair tickets")),
        ("to_review", "damage_to_review", _l("Damage reports to review")),
    ),
    "clerk": (("to_close", "to_close", _l("Repairs waiting for my confirmation")),),
}
NAVBAR_KINDS["admin"] = NAVBAR_KINDS["supervisor"]
NAVBAR_KINDS["security"] = NAVBAR_KINDS["clerk"]


def counts_for(user, now=None, lines=None):
    """The navbar's notices, read from ``waiting.for_user`` (one statement), or from ``lines``
    when the request has read them already."""
    wanted = NAVBAR_KINDS.get(user.role, ())
    if not wanted:
        return []
    lines = {w.key: w for w in (lines if lines is not None else waiting.for_user(user, now))}
    notices = []
    for key, kind, label in wanted:
        line = lines[kind]
        endpoint, args = line.kind.list_endpoint, line.kind.list_args
        notices.append(Notice(key, line.count, label, endpoint, dict(args)))
    return notices
