"""Repair figures: tickets open / overdue / hours to resolve, and the month-end "repairs and
damage" section."""

from flask_babel import gettext as _
from portal.i18n import lazy_gettext as _l
from sqlalchemy import select

from portal.extensions import db
from portal.models.base import among
from portal.models import DamageReport, RepairTicket, Site
from portal.services import period_facts as facts
from portal.services.scope import including_deleted
from portal.models.damage import STATUS_LABELS as DAMAGE_STATUS
from portal.services import metrics as m


def _site_ids():
    """Every site the session may see (the list filters have no site of their own)."""
    return db.session.scalars(select(Site.id)).all()


def open_ids(site_ids, start, end, now=None):
    """{site_id: [ticket id]}: tickets open at the end of the period (now, while it runs), read
    from the tickets' histories: one resolved in the period and reopened later is not open."""
    return m.open_at_end(facts.tickets_open_and_overdue_at, site_ids, start, end, now)


def overdue_ids(site_ids, start, end, now=None):
    """{site_id: [ticket id]}: of those, the ones past the due time in force then."""
    return m.overdue_at_end(facts.tickets_open_and_overdue_at, site_ids, start, end, now)


def resolutions(site_ids, start, end):
    """{site_id: [Resolution]}: tickets resolved in the period, from report to first resolution."""
    return m.per_zone(site_ids, start, end, facts.ticket_resolutions)


def _ids_clause(found):
    return RepairTicket.id.in_(sorted({i for ids in found.values() for i in ids}) or [-1])


def open_clause(start, end, now=None):
    """The tickets of ``open_ids`` as a condition (the ticket list's period filter)."""
    return _ids_clause(open_ids(_site_ids(), start, end, now))


def overdue_clause(start, end, now=None):
    return _ids_clause(overdue_ids(_site_ids(), start, end, now))


def resolved_clause(start, end):
    found = resolutions(_site_ids(), start, end)
    return _ids_clause({sid: [r.ticket_id for r in rs] for sid, rs in found.items()})


def tickets_open(site_ids, start, end):
    """Tickets still open at the end of the period (now, for the current period)."""
    return {sid: len(ids) for sid, ids in open_ids(site_ids, start, end).items()}


def tickets_overdue(site_ids, start, end):
    """Of those, the ones past their due time then."""
    return {sid: len(ids) for sid, ids in overdue_ids(site_ids, start, end).items()}


def hours_to_resolve(site_ids, start, end):
    """Mean hours from reported to first resolved in the period, over the tickets resolved in it."""
    return m.mean_hours_to_first(
        "hours_to_resolve",
        facts.ticket_resolutions,
        lambda resolution: resolution.resolved_at,
        site_ids,
        start,
        end,
    )


def _ticket_rows(site_id, ids, at):
    tickets = db.session.execute(
        including_deleted(
            select(
                RepairTicket.id,
                RepairTicket.equipment,
                RepairTicket.created_at,
                RepairTicket.due_at,
            ).where(RepairTicket.id.in_(ids or [-1]))
        )
    ).all()
    return {t.id: t for t in tickets}


def _state_records(overdue):
    def records(site_id, start, end):
        ((_ids, lo, hi),) = m.zone_bounds([site_id], start, end)
        at = m.judged_at(hi)
        found = (overdue_ids if overdue else open_ids)([site_id], start, end)[site_id]
        tickets = _ticket_rows(site_id, found, at)
        rows = [
            [
                f"#{tid}",
                tickets[tid].equipment,
                m.local_time(tickets[tid].created_at, site_id),
                m.local_time(tickets[tid].due_at, site_id),
                m.local_time(at, site_id),
            ]
            for tid in found
        ]
        return m.table(
            [
                _("Ticket"),
                _("Equipment"),
                _("Reported"),
                _("Due now"),
                _("Judged at"),
            ],
            rows,
            found,
        )

    return records


def resolution_records(site_id, start, end):
    found = resolutions([site_id], start, end)[site_id]
    tickets = _ticket_rows(site_id, [r.ticket_id for r in found], None)
    rows = [
        [
            f"#{r.ticket_id}",
            tickets[r.ticket_id].equipment,
            m.local_time(r.reported_at, site_id),
            m.local_time(r.resolved_at, site_id),
            f"{r.hours:.2f}",
        ]
        for r in found
    ]
    return m.table(
        [_("Ticket"), _("Equipment"), _("Reported"), _("Resolved"), _("Hours")],
        rows,
        [r.ticket_id for r in found],
    )


def register_figures():
    m.register_metric(
        "tickets_open",
        _l("Repair tickets open"),
        _l("tickets"),
        tickets_open,
        better="lower",
        order=100,
        definition=_l(
            "Repair tickets open at the end of the period on the site's clock (now, while the "
            "period runs): reported before then and not resolved or closed by then, judged from "
            "the ticket's history (a ticket reopened later was still resolved then). A ticket "
            "deleted after that instant still counts."
        ),
        records=_state_records(False),
    )
    m.register_metric(
        "tickets_overdue",
        _l("Repair tickets overdue"),
        _l("tickets"),
        tickets_overdue,
        better="lower",
        order=101,
        definition=_l(
            "Of the tickets open at the end of the period, those whose due time in force then "
            "(set by priority at the report or the last reopen) had passed."
        ),
        records=_state_records(True),
    )
    m.register_metric(
        "hours_to_resolve",
        _l("Hours to resolve a repair"),
        _l("hours"),
        hours_to_resolve,
        better="lower",
        order=102,
        decimals=1,
        short=_l("Repair hours"),
        definition=_l(
            "Mean hours from a ticket's report to its first resolution in the period, over "
            "the tickets resolved in the period (each once, even if reopened later)."
        ),
        records=resolution_records,
    )


# ------------------------------------------------------------ month-end section


def repairs_damage_section(site_id, start, end):
    """The tickets behind the repair figures (open at the period's end, resolved in it: the
    "open" rows count ``tickets_open``, the hours average to ``hours_to_resolve``) and the damage
    reports filed in the period (``damage_reports``)."""
    zone = m.zone_of(site_id)
    still_open = open_ids([site_id], start, end)[site_id]
    overdue = set(overdue_ids([site_id], start, end)[site_id])
    resolved = {r.ticket_id: r for r in resolutions([site_id], start, end)[site_id]}
    tickets = _ticket_rows(site_id, sorted(set(still_open) | set(resolved)), None)

    def day(at):
        return f"{at.astimezone(zone):%m-%d}"

    yes, no = _("Yes"), _("No")
    rows = []
    for tid in sorted(tickets, key=lambda t: (tickets[t].created_at, t)):
        ticket = tickets[tid]
        state = _("Overdue") if tid in overdue else (_("Open") if tid in still_open else "–")
        rows.append(
            [
                day(ticket.created_at),
                _("Repair"),
                ticket.equipment,
                yes if tid in still_open else no,
                state if tid in still_open else "–",
                f"{resolved[tid].hours:.1f}" if tid in resolved else "–",
            ]
        )
    for report in damage_in([site_id], start, end)[site_id]:
        rows.append(
            [
                day(report.created_at),
                _("Damage"),
                report.equipment,
                "–",
                str(DAMAGE_STATUS.get(report.status, report.status)),
                f"¥{report.estimated_cost:,.0f}" if report.estimated_cost is not None else "–",
            ]
        )
    return {
        "headers": [
            _("Reported"),
            _("Kind"),
            _("Equipment"),
            _("Open at period end"),
            _("Status"),
            _("Hours to resolve / cost"),
        ],
        "rows": rows,
    }


def damage_in(site_ids, start, end):
    """{site_id: [DamageReport row]}: damage reports filed in the period that still existed at
    its end (one deleted later still counts)."""

    def one_zone(ids, lo, hi):
        stmt = (
            select(
                DamageReport.id,
                DamageReport.site_id,
                DamageReport.created_at,
                DamageReport.equipment,
                DamageReport.status,
                DamageReport.estimated_cost,
            )
            .where(
                among(DamageReport.site_id, ids),
                DamageReport.created_at >= lo,
                DamageReport.created_at < hi,
                facts.existed_at(DamageReport, hi),
            )
            .order_by(DamageReport.created_at, DamageReport.id)
        )
        found = {sid: [] for sid in ids}
        for row in db.session.execute(including_deleted(stmt)):
            found[row.site_id].append(row)
        return found

    return m.per_zone(site_ids, start, end, one_zone)
