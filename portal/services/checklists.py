"""Checklist runs: start, save half-way, complete, follow-ups, and what is due today.

No HTTP here. Callers commit once after a call (one transaction per user action).
"""

from datetime import time
from decimal import Decimal, InvalidOperation
from functools import cache

from portal import clock
from portal.i18n import lazy_gettext as _l
from sqlalchemy import bindparam, select

from portal.errors import DomainError
from portal.extensions import db
from portal.models import (
    TICKET_PRIORITIES,
    ChecklistAnswer,
    ChecklistFollowUp,
    ChecklistRun,
    ChecklistTemplate,
)
from portal.services import audit
from portal.services import photos
from portal.services import repairs
from portal.services import cleaning

# Kinds done once per site and day: starting again reopens the day's run.
DAILY_KINDS = ("opening", "closing")
MAX_TEXT = 2000


# ------------------------------------------------------------------ site time


def closing_due(site, day, now=None):
    """Closing work is due from the site's tally time (17:50 by default) of that day on."""
    local = clock.local_now(site, now)
    if day < local.date():
        return True
    if day > local.date():
        return False
    return local.time() >= (site.tally_time or time(17, 50))


# ------------------------------------------------------------------ templates


def _usable_by(site_id):
    """Templates a site may run: active, its own or every site's."""
    return (
        ChecklistTemplate.active.is_(True),
        (ChecklistTemplate.site_id == site_id) | ChecklistTemplate.site_id.is_(None),
    )


def template_for(site, kind):
    """The active template of this kind for a site: the site's own one wins over the global one."""
    stmt = (
        select(ChecklistTemplate)
        .where(ChecklistTemplate.kind == kind, *_usable_by(site.id))
        .order_by(ChecklistTemplate.site_id.is_(None), ChecklistTemplate.id)
        .limit(1)
    )
    return db.session.scalar(stmt)


def active_items(run_or_template):
    template = getattr(run_or_template, "template", run_or_template)
    return [i for i in template.items if i.active]


# ------------------------------------------------------------------ runs


def start_run(site, template, user, day):
    """The run of ``template`` at ``site`` on ``day``: the existing one for daily kinds, else a
    new one."""
    if template.site_id not in (None, site.id):
        raise DomainError(_l("This checklist belongs to another site."))
    if template.kind in DAILY_KINDS:
        existing = db.session.scalar(
            select(ChecklistRun)
            .where(
                ChecklistRun.site_id == site.id,
                ChecklistRun.template_id == template.id,
                ChecklistRun.day == day,
            )
            .order_by(ChecklistRun.id)
            .limit(1)
        )
        if existing is not None:
            return existing
    run = ChecklistRun(
        site=site,
        template=template,
        kind=template.kind,
        day=day,
        user_id=getattr(user, "id", None),
        status="open",
        completion=0,
    )
    db.session.add(run)
    db.session.flush()
    return run


def _parse(item, raw):
    """(field, value) for one submitted answer; raises ValueError with a user message."""
    if raw is None:
        return None
    if isinstance(raw, str):
        raw = raw.strip()
        if raw == "":
            return None
    if item.kind in ("yes_no", "photo"):
        if isinstance(raw, bool):
            return raw
        if raw in ("yes", "1", "true", "on"):
            return True
        if raw in ("no", "0", "false"):
            return False
        raise ValueError(_l("Choose yes or no."))
    if item.kind == "number":
        try:
            value = Decimal(str(raw))
        except InvalidOperation:
            raise ValueError(_l("Enter a number, for example 12 or 3.5.")) from None
        if not value.is_finite() or abs(value) >= Decimal("1e10"):
            raise ValueError(_l("Enter a number, for example 12 or 3.5."))
        return value.quantize(Decimal("0.01"))
    text = str(raw)
    if len(text) > MAX_TEXT:
        raise ValueError(_l("At most %(n)s characters.", n=MAX_TEXT))
    return text


def _store(answer, item, value):
    answer.value_bool = value if item.kind in ("yes_no", "photo") else None
    answer.value_number = value if item.kind == "number" else None
    answer.value_text = value if item.kind == "text" else None


def save_answers(run, answers):
    """Store what was entered so far: ``answers`` maps item id → raw value (None/"" clears it).

    All answers are checked first; on any error nothing is written and ``DomainError.errors``
    says which item is wrong. Items not mentioned keep their answer.
    """
    if run.is_done:
        raise DomainError(_l("This checklist is complete and can no longer be changed."))
    items = {i.id: i for i in active_items(run)}
    parsed, errors = {}, {}
    for key, raw in answers.items():
        try:
            item = items[int(key)]
        except (KeyError, TypeError, ValueError):
            continue  # not an item of this run: ignored, never written
        try:
            parsed[item.id] = _parse(item, raw)
        except ValueError as exc:
            errors[item.id] = exc.args[0]
    if errors:
        raise DomainError(_l("Some answers need correcting."), errors=errors)
    by_item = {a.item_id: a for a in run.answers}
    for item_id, value in parsed.items():
        answer = by_item.get(item_id)
        if answer is None:
            if value is None:
                continue
            answer = ChecklistAnswer(site_id=run.site_id, item_id=item_id, item=items[item_id])
            run.answers.append(answer)
        _store(answer, items[item_id], value)
    run.completion = completion_of(run)
    db.session.flush()
    return run


def completion_of(run):
    """Percent of the template's active items that have an answer."""
    items = active_items(run)
    if not items:
        return 100
    ids = {i.id for i in items}
    answered = sum(1 for a in run.answers if a.item_id in ids and a.is_answered)
    return round(100 * answered / len(items))


def complete_run(run):
    """Mark the run done (read-only from now on) with its completion percent."""
    if run.is_done:
        raise DomainError(_l("This checklist is already complete."))
    run.completion = completion_of(run)
    run.status = "done"
    run.completed_at = clock.now()
    db.session.flush()
    audit.record("complete", run, summary=f"{run} {run.completion}%")
    return run


PHOTO_OWNER = "checklist_answer"
PHOTO_READERS = frozenset(
    {"admin", "supervisor", "clerk", "security"}
)  # who reads runs (the site scope applies too)


def attach_photos(run, uploads, user):
    """Store checked photos (``uploads``: item id → [PreparedPhoto]) on the run's photo items:
    a photo item with a photo counts as answered (value_bool True)."""
    items = {i.id: i for i in active_items(run) if i.kind == "photo"}
    uploads = {
        item_id: prepared for item_id, prepared in uploads.items() if prepared and item_id in items
    }
    if uploads:
        save_answers(run, {item_id: True for item_id in uploads})
    by_item = {a.item_id: a for a in run.answers}
    return [
        photos.store(p, run.site, PHOTO_OWNER, by_item[item_id].id, user)
        for item_id, prepared in uploads.items()
        for p in prepared
    ]


def photos_by_answer(run):
    """answer id → [Photo] of the run, in one query."""
    return photos.photos_of_owners(PHOTO_OWNER, [a.id for a in run.answers])


def _can_read_answer_photo(answer_id, user):
    return user.role in PHOTO_READERS and db.session.get(ChecklistAnswer, answer_id) is not None


def failed_items(run):
    """Items answered "no": the ones a follow-up can be opened for."""
    return [a.item for a in run.answers if a.failed]


def open_follow_up(run, item, note, target_type=None, target_id=None):
    """A follow-up for a failed item, stored on the run; ``target_type`` / ``target_id`` name
    the repair ticket or cleaning issue opened for it, if any."""
    note = (note or "").strip() or (item.label if item is not None else "")
    if not note:
        raise DomainError(_l("Write what needs to be followed up."))
    if len(note) > MAX_TEXT:
        raise DomainError(_l("At most %(n)s characters.", n=MAX_TEXT))
    if item is not None and item.template_id != run.template_id:
        raise DomainError(_l("This item is not on this checklist."))
    follow_up = ChecklistFollowUp(
        run=run,
        site_id=run.site_id,
        item=item,
        note=note,
        status="open",
        target_type=target_type,
        target_id=target_id,
    )
    db.session.add(follow_up)
    db.session.flush()
    return follow_up


FAULT_MAX = 60  # the short fault words after the equipment name: the ticket's title


def repair_prefill(run, item, note=None):
    """What the report-for-repair form of a failed answer starts with: the question and the
    clerk's note as the description, normal priority. The item, its location and the fault words
    are the clerk's to choose: the question names a check ("all lamps but the desk lamps"), not
    the broken thing."""
    description = " — ".join(x for x in (item.label, (note or "").strip()) if x)
    return {"description": description, "priority": "normal", "fault": "", "location": ""}


def open_repair(
    run,
    item,
    user,
    *,
    fault,
    description,
    priority,
    location=None,
    inventory_item=None,
    equipment=None,
):
    """A repair ticket for a failed answer, reported through its short form: titled by the item
    (or the free-text equipment) and the fault words, about that inventory item when one was
    chosen, and linked to the answer (run and question) by a follow-up (target "repair").
    Every field is checked before anything is written; ``errors`` says which."""
    if item is None or item.id not in {i.id for i in failed_items(run)}:
        raise DomainError(_l('Only an item answered "no" can open a repair ticket.'))
    if any(f.item_id == item.id and f.target_type == "repair" for f in run.follow_ups):
        raise DomainError(_l("A repair ticket has already been reported for this answer."))
    if inventory_item is not None and inventory_item.site_id != run.site_id:
        raise DomainError(_l("Choose an item of this site."), status=404)
    name = inventory_item.name if inventory_item is not None else (equipment or "").strip()
    fault, description = (fault or "").strip(), (description or "").strip()
    errors = {}
    if not name:
        errors["equipment"] = _l("Choose the item, or write the equipment under Other equipment.")
    if not fault:
        errors["fault"] = _l("Say in a few words what is wrong, for example: does not light.")
    elif len(fault) > FAULT_MAX:
        errors["fault"] = _l("At most %(n)s characters.", n=FAULT_MAX)
    if not description:
        errors["description"] = _l("Describe the fault.")
    if priority not in TICKET_PRIORITIES:
        errors["priority"] = _l("Choose a priority.")
    if errors:
        raise DomainError(_l("Some fields need correcting."), status=422, errors=errors)
    if not (location or "").strip() and inventory_item is not None:
        location = inventory_item.location
    title = f"{name} {fault}"[:200]
    ticket = repairs.report(
        run.site, user, title, description, priority, location=location, item=inventory_item
    )
    open_follow_up(run, item, title, target_type="repair", target_id=ticket.id)
    audit.record("report", ticket, summary=f"{ticket} ← {run} / {item.label}")
    return ticket


CLEANLINESS_WORDS = ("清洁", "保洁", "clean")


def is_cleanliness(item):
    """A checklist item about cleanliness: a "no" can open a cleaning issue."""
    return any(w in (item.label or "").lower() for w in CLEANLINESS_WORDS)


def open_cleaning_issue(run, item, user, note=None):
    """One click on a failed cleanliness item: a cleaning issue, linked by a follow-up
    (target "cleaning")."""
    if item is None or item.id not in {i.id for i in failed_items(run)} or not is_cleanliness(item):
        raise DomainError(_l('Only a cleanliness item answered "no" can open a cleaning issue.'))
    description = " — ".join(x for x in (item.label, (note or "").strip()) if x)
    issue = cleaning.open_issue_from_checklist(run.site, user, description)
    open_follow_up(run, item, note or item.label, target_type="cleaning", target_id=issue.id)
    return issue


def close_follow_up(follow_up):
    follow_up.status = "closed"
    db.session.flush()
    return follow_up


# ------------------------------------------------------------------ what is due


@cache  # built once (see HACKING.md, "Statements built once")
def _due_stmt():
    """The candidate daily templates of a site, each with its run of the day (if any) joined:
    only a run of the template that applies counts, so runs need no statement of their own."""
    site_id, day = bindparam("site_id"), bindparam("day")
    return (
        select(ChecklistTemplate, ChecklistRun)
        .outerjoin(
            ChecklistRun,
            (ChecklistRun.template_id == ChecklistTemplate.id)
            & (ChecklistRun.site_id == site_id)
            & (ChecklistRun.day == day)
            & (ChecklistRun.kind == ChecklistTemplate.kind),
        )
        .where(ChecklistTemplate.kind.in_(DAILY_KINDS), *_usable_by(site_id))
        # Reversed template_for order: the template it picks, and its first run, come last and win.
        .order_by(
            ChecklistTemplate.site_id.is_(None).desc(),
            ChecklistTemplate.id.desc(),
            ChecklistRun.id.desc(),
        )
    )


def due_rows(site, day):
    """[(template, its run of ``day`` or None)]: what ``due_checklists`` works from."""
    return db.session.execute(_due_stmt(), {"site_id": site.id, "day": day}).all()


def due_checklists(site, day, now=None, rows=None):
    """``{"opening": {...}, "closing": {...}}`` with, per kind: template, run, state and due_from.

    state: "done", "in_progress", "due", "upcoming" (closing before tally time) or "none"
    (no template). Opening work is due from the start of the day, closing from tally time.
    ``rows``: ``due_rows(site, day)`` when the caller has them already.
    """
    templates, runs = {}, {}
    for template, run in due_rows(site, day) if rows is None else rows:
        templates[template.kind] = template
        runs[template.id] = run
    result = {}
    for kind in DAILY_KINDS:
        template = templates.get(kind)
        run = runs.get(template.id) if template is not None else None
        due_now = kind == "opening" or closing_due(site, day, now)
        if template is None:
            state = "none"
        elif run is not None and run.is_done:
            state = "done"
        elif run is not None:
            state = "in_progress"
        else:
            state = "due" if due_now else "upcoming"
        result[kind] = {
            "kind": kind,
            "template": template,
            "run": run,
            "state": state,
            "due_from": time(0, 0) if kind == "opening" else (site.tally_time or time(17, 50)),
        }
    return result


__all__ = [
    "DAILY_KINDS",
    "active_items",
    "close_follow_up",
    "closing_due",
    "complete_run",
    "attach_photos",
    "is_cleanliness",
    "open_cleaning_issue",
    "open_repair",
    "repair_prefill",
    "photos_by_answer",
    "completion_of",
    "due_checklists",
    "due_rows",
    "failed_items",
    "open_follow_up",
    "save_answers",
    "start_run",
    "template_for",
]


def _register_photo_owner():
    photos.register_owner(PHOTO_OWNER, _can_read_answer_photo)


_register_photo_owner()
