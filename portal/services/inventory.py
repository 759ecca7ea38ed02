"""Opening and closing item checks: pre-filled lines, exceptions only, discrepancies for the
supervisor.

No HTTP here. Callers commit once after a call (one transaction per user action).
"""

from functools import cache

from portal import clock
from portal.i18n import lazy_gettext as _l
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from portal.errors import DomainError
from portal.extensions import db
from portal.models import CONDITIONS, ITEM_CHECK_KINDS, Item, ItemCheck, ItemCheckLine
from portal.models.inventory import ITEM_CATEGORY_LABELS
from portal.services import audit, photos
from portal.services.checklists import closing_due
from portal.services import repairs

CONDITION_NAMES = {"ok": _l("OK"), "damaged": _l("Damaged"), "missing": _l("Missing")}
MAX_QUANTITY = 100000
MAX_NOTE = 1000
# Photos of a discrepancy line (portal/services/photos.py) and who reads item checks.
PHOTO_OWNER = "item_check_line"
LINE_READERS = frozenset({"admin", "supervisor", "clerk"})
# What a clerk of a site without items reads instead of an empty check.
NO_ITEMS = _l(
    "This sales office has no items registered yet, so there is nothing to check. "
    "Contact the service centre to finish setting the site up."
)


def is_discrepancy(line):
    """Counted differs from expected, or the item is not in order. A count not yet typed is no
    difference (yet): completing the check asks for it."""
    if line.condition != "ok":
        return True
    return not line.needs_count and line.counted_quantity != line.expected_quantity


def needs_typed_count(expected_quantity):
    """An item expected more than once is counted by hand, never taken from the pre-fill."""
    return expected_quantity > 1


def start_item_check(site, kind, user, day):
    """The site's check of this kind for the day; a new one lists every active item,
    pre-filled "as expected, OK" so the clerk only taps the exceptions, except the count of an
    item expected more than once, which is left to be typed."""
    if kind not in ITEM_CHECK_KINDS:
        raise DomainError(_l("Unknown kind of item check."))
    check = db.session.scalar(
        select(ItemCheck).where(
            ItemCheck.site_id == site.id, ItemCheck.kind == kind, ItemCheck.day == day
        )
    )
    if check is not None:
        return check
    check = ItemCheck(
        site=site, kind=kind, day=day, user_id=getattr(user, "id", None), status="open"
    )
    items = db.session.scalars(
        select(Item)
        .where(Item.site_id == site.id, Item.active.is_(True))
        .order_by(Item.category, Item.name, Item.id)
    ).all()
    if not items:
        # An empty check would complete as "no discrepancies, everything in order".
        raise DomainError(NO_ITEMS)
    for position, item in enumerate(items):
        check.lines.append(
            ItemCheckLine(
                site=site,
                item=item,
                day=day,
                position=position,
                expected_quantity=item.expected_quantity,
                counted_quantity=item.expected_quantity,
                count_entered=not needs_typed_count(item.expected_quantity),
                condition="ok",
            )
        )
    db.session.add(check)
    db.session.flush()
    return check


def _parse_line(line, entry):
    counted, condition, note = entry.get("counted"), entry.get("condition"), entry.get("note")
    errors, values = {}, {}
    if counted is not None and not str(counted).strip() and line.count_entered is not None:
        if needs_typed_count(line.expected_quantity):
            # A count left blank (or cleared): still to be typed, not an error in a draft.
            values["count_entered"] = False
            counted = None
    if counted is not None:
        try:
            values["counted_quantity"] = int(str(counted).strip())
            if not 0 <= values["counted_quantity"] <= MAX_QUANTITY:
                raise ValueError
            if line.count_entered is not None:
                values["count_entered"] = True
        except ValueError:
            errors["counted"] = _l("Enter a whole number of 0 or more.")
    if condition is not None:
        if condition not in CONDITIONS:
            errors["condition"] = _l("Choose OK, damaged or missing.")
        values["condition"] = condition
    if note is not None:
        note = str(note).strip()
        if len(note) > MAX_NOTE:
            errors["note"] = _l("At most %(n)s characters.", n=MAX_NOTE)
        values["note"] = note or None
    return values, errors


def categories_of(check):
    """The item categories of the check's lines, in the order the page lists them."""
    seen = []
    for line in check.lines:
        if line.item.category not in seen:
            seen.append(line.item.category)
    return seen


def save_lines(check, lines, confirmed=None):
    """Store counts: ``lines`` maps line id → {"counted", "condition", "note"} (raw strings).
    ``confirmed``: the categories the clerk ticked "本类已清点" for (replaces the stored ones;
    None leaves them).

    Everything is validated first; on any error nothing is written.
    """
    if check.is_done:
        raise DomainError(_l("This item check is complete and can no longer be changed."))
    by_id = {line.id: line for line in check.lines}
    parsed, errors = {}, {}
    for key, entry in lines.items():
        try:
            line = by_id[int(key)]
        except (KeyError, TypeError, ValueError):
            continue  # not a line of this check
        values, line_errors = _parse_line(line, entry)
        if line_errors:
            errors[line.id] = line_errors
        parsed[line.id] = values
    if errors:
        raise DomainError(_l("Some lines need correcting."), errors=errors)
    for line_id, values in parsed.items():
        line = by_id[line_id]
        for field, value in values.items():
            setattr(line, field, value)
        line.is_discrepancy = is_discrepancy(line)
    if confirmed is not None:
        wanted = set(confirmed)
        check.confirmed_categories = ",".join(c for c in categories_of(check) if c in wanted)
    db.session.flush()
    return check


def missing(check):
    """(categories not confirmed, lines whose count is still to be typed): what stands between
    the check and its completion."""
    confirmed = check.confirmed
    return (
        [c for c in categories_of(check) if c not in confirmed],
        [line for line in check.lines if line.needs_count],
    )


def _missing_message(categories, lines):
    parts = [str(_l("The item check cannot be completed yet."))]
    if categories:
        names = "、".join(str(ITEM_CATEGORY_LABELS.get(c, c)) for c in categories)
        parts.append(str(_l('Tap "category checked" for: %(names)s.', names=names)))
    if lines:
        names = "、".join(line.item.name for line in lines)
        parts.append(str(_l("Type the counted quantity of: %(names)s.", names=names)))
    return " ".join(parts)


def complete_item_check(check):
    """Done once every category is confirmed and every count to type is typed; else refused
    (422) with what is missing, the check left as it was (a draft)."""
    if check.is_done:
        raise DomainError(_l("This item check is already complete."))
    if not check.lines:
        raise DomainError(NO_ITEMS)
    categories, uncounted = missing(check)
    if categories or uncounted:
        raise DomainError(
            _missing_message(categories, uncounted),
            status=422,
            errors={line.id: {"counted": _l("Type the counted quantity.")} for line in uncounted},
        )
    for line in check.lines:
        line.is_discrepancy = is_discrepancy(line)
    check.status = "done"
    check.completed_at = clock.now()
    db.session.flush()
    found = str(_l("%(n)s discrepancies", n=len(discrepancies(check))))
    audit.record("complete", check, summary=f"{check}: {found}")
    return check


def add_line_photos(line, prepared, user):
    """Photos (``photos.inspect_all``, already checked) of a discrepancy, as evidence for the
    supervisor. Only a line that differs takes photos."""
    if not prepared:
        return []
    if not line.is_discrepancy:
        raise DomainError(
            _l(
                "Photos go with an item that is not as expected: mark it damaged or missing, "
                "or type the count, first."
            ),
            status=422,
            errors={line.id: {"photo": _l("Only an item that is not as expected takes photos.")}},
        )
    return [photos.store(p, line.site, PHOTO_OWNER, line.id, user) for p in prepared]


def line_photos(lines):
    """{line id: [Photo]} of these lines (one query)."""
    return photos.photos_of_owners(PHOTO_OWNER, [line.id for line in lines])


def _can_read_line_photo(line_id, user):
    # The site scope already hid other sites' lines; the roles are the item check's readers.
    return user.role in LINE_READERS and db.session.get(ItemCheckLine, line_id) is not None


def sites_with_items(site_ids):
    """The ids among ``site_ids`` that have an active item to check (one query)."""
    if not site_ids:
        return set()
    return set(
        db.session.scalars(
            select(Item.site_id)
            .where(Item.site_id.in_(list(site_ids)), Item.active.is_(True))
            .group_by(Item.site_id)
        )
    )


def discrepancies(check):
    """Lines of this check where counted ≠ expected or the condition is not OK."""
    return [line for line in check.lines if is_discrepancy(line)]


def open_discrepancies(site=None, limit=200):
    """Discrepancy lines of completed checks not yet dealt with (one site, or every site in
    scope)."""
    params = {"site_id": site.id} if site is not None else {}
    return db.session.scalars(_open_discrepancies_stmt(site is not None, limit), params).all()


@cache  # built once, run with parameters (HACKING.md, "Statements built once")
def _open_discrepancies_stmt(one_site, limit):
    stmt = (
        select(ItemCheckLine)
        .join(ItemCheckLine.check)
        .where(
            ItemCheckLine.is_discrepancy.is_(True),
            ItemCheckLine.dealt_with.is_(False),
            ItemCheck.status == "done",
        )
        .order_by(ItemCheckLine.day.desc(), ItemCheckLine.id)
        .limit(limit)
        .options(joinedload(ItemCheckLine.item))
    )
    return stmt.where(ItemCheckLine.site_id == bindparam("site_id")) if one_site else stmt


def deal_with(line, user, note):
    """The supervisor has handled a discrepancy (repair, replacement, found again…)."""
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise DomainError(_l("At most %(n)s characters.", n=MAX_NOTE))
    line.dealt_with = True
    line.dealt_note = note or None
    line.dealt_by_id = getattr(user, "id", None)
    line.dealt_at = clock.now()
    db.session.flush()
    return line


def open_repair(line, user):
    """One click on a discrepancy: a repair ticket for its item, recorded on the line as dealt
    with."""
    if not line.is_discrepancy:
        raise DomainError(_l("This line is not a discrepancy."))
    if line.repair_ticket_id is not None:
        raise DomainError(_l("A repair ticket is already open for this discrepancy."))
    description = " ".join(
        x
        for x in (
            str(
                _l(
                    "Found on the item check of %(day)s: %(counted)s counted, "
                    "%(expected)s expected, condition: %(condition)s.",
                    day=f"{line.day:%Y-%m-%d}",
                    counted=line.counted_quantity,
                    expected=line.expected_quantity,
                    condition=CONDITION_NAMES.get(line.condition, line.condition),
                )
            ),
            line.note or "",
        )
        if x
    )
    ticket = repairs.report(
        line.site,
        user,
        line.item.name,
        description,
        "normal",
        location=line.item.location,
        item=line.item,
    )
    line.repair_ticket_id = ticket.id
    deal_with(
        line, user, _note_with(line, _l("Repair ticket %(ticket)s opened.", ticket=str(ticket)))
    )
    return ticket


def record_damage_report(line, report, user):
    """The damage report filed for this discrepancy: recorded on the line as dealt with."""
    if line.item_id != report.item_id or line.site_id != report.site_id:
        raise DomainError(_l("This damage report is about another item."))
    line.damage_report_id = report.id
    deal_with(
        line, user, _note_with(line, _l("Damage report %(report)s filed.", report=str(report)))
    )
    return line


def _note_with(line, text):
    return "\n".join(x for x in (line.dealt_note, str(text)) if x)[:MAX_NOTE]


@cache  # built once, run with parameters (HACKING.md, "Statements built once")
def _item_checks_stmt():
    """A site's item checks of a day, each with its number of discrepancies."""
    found = (
        select(db.func.count())
        .select_from(ItemCheckLine)
        .where(ItemCheckLine.check_id == ItemCheck.id, ItemCheckLine.is_discrepancy.is_(True))
        .correlate(ItemCheck)
        .scalar_subquery()
    )
    return select(ItemCheck, found).where(
        ItemCheck.site_id == bindparam("site_id"), ItemCheck.day == bindparam("day")
    )


def item_check_rows(site, day):
    """[(item check of ``day``, its number of discrepancies)]: what ``item_check_status`` works
    from."""
    return db.session.execute(_item_checks_stmt(), {"site_id": site.id, "day": day}).all()


def item_check_status(site, day, now=None, rows=None):
    """``{"opening": {...}, "closing": {...}}``: check, state (done / in_progress / due / upcoming),
    and the number of discrepancies of a completed check. ``rows``: ``item_check_rows(site, day)``
    when the caller has them already."""
    checks, counts = {}, {}
    for check, count in item_check_rows(site, day) if rows is None else rows:
        checks[check.kind], counts[check.kind] = check, count
    result = {}
    for kind in ITEM_CHECK_KINDS:
        check = checks.get(kind)
        if check is not None and check.is_done:
            state = "done"
        elif check is not None:
            state = "in_progress"
        elif kind == "opening" or closing_due(site, day, now):
            state = "due"
        else:
            state = "upcoming"
        count = counts.get(kind)
        result[kind] = {
            "kind": kind,
            "check": check,
            "state": state,
            "discrepancies": count,
            "due_from": None if kind == "opening" else site.tally_time,
        }
    return result


photos.register_owner(PHOTO_OWNER, _can_read_line_photo)


__all__ = [
    "add_line_photos",
    "line_photos",
    "categories_of",
    "complete_item_check",
    "missing",
    "needs_typed_count",
    "deal_with",
    "discrepancies",
    "is_discrepancy",
    "open_repair",
    "record_damage_report",
    "item_check_rows",
    "item_check_status",
    "open_discrepancies",
    "save_lines",
    "sites_with_items",
    "start_item_check",
]
