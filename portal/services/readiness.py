"""Readiness of a site: what is still missing before its clerk can work a day there.

``missing(site)`` lists each gap with its label and the pages that fix it, as
``(endpoint, url args)`` targets: the view builds the URLs (a service never builds one) and
leaves out a target whose page is not registered. One small query per check, whatever the
size of the site; run in a request, the session scope applies as everywhere."""

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, or_, select

from portal import clock
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import (
    ChecklistTemplate,
    CleaningArea,
    Item,
    Product,
    Shift,
    StaffMember,
    User,
    user_site,
)

# How far ahead the roster must have someone planned.
ROSTER_DAYS = 7


@dataclass(frozen=True)
class Gap:
    key: str
    label: object  # what is missing, in words
    hint: object  # what to do about it
    targets: tuple  # ((link text, endpoint, {url args}), …): the pages that fix it


def _site_filter(site_id):
    return {"flt0_site_equals": str(site_id)}


def _count(stmt):
    return db.session.scalar(stmt) or 0


def _logins(site_id, role):
    """Active users of ``role`` who work at the site (their sites include it)."""
    return _count(
        select(func.count(User.id)).where(
            User.role == role,
            User.active.is_(True),
            User.id.in_(select(user_site.c.user_id).where(user_site.c.site_id == site_id)),
        )
    )


def _import(site_id, what):
    return (_l("Import from a spreadsheet"), "imports.index", {"site": str(site_id), "kind": what})


def missing(site, now=None):
    """[Gap] of ``site``, in the order a set-up is usually done; empty when it is ready."""
    sid = site.id
    gaps = []
    items = _count(
        select(func.count(Item.id)).where(
            Item.site_id == sid, Item.active.is_(True), Item.deleted_at.is_(None)
        )
    )
    if not items:
        gaps.append(
            Gap(
                "items",
                _l("No items registered"),
                _l("The opening and closing item checks list the site's items."),
                (
                    (_l("Item register"), "item.index_view", _site_filter(sid)),
                    _import(sid, "items"),
                ),
            )
        )
    products = _count(
        select(func.count(Product.id)).where(
            Product.site_id == sid, Product.active.is_(True), Product.deleted_at.is_(None)
        )
    )
    if not products:
        gaps.append(
            Gap(
                "products",
                _l("No products"),
                _l("Visits serve drinks and the daily tally counts the products' stock."),
                (
                    (_l("Products"), "product.index_view", _site_filter(sid)),
                    _import(sid, "products"),
                ),
            )
        )
    opening = _count(
        select(func.count(ChecklistTemplate.id)).where(
            ChecklistTemplate.kind == "opening",
            ChecklistTemplate.active.is_(True),
            ChecklistTemplate.deleted_at.is_(None),
            or_(ChecklistTemplate.site_id.is_(None), ChecklistTemplate.site_id == sid),
        )
    )
    if not opening:
        gaps.append(
            Gap(
                "opening_checklist",
                _l("No opening checklist"),
                _l("Neither the site nor head office has an active opening checklist."),
                (
                    (
                        _l("Checklist templates"),
                        "checklisttemplate.index_view",
                        _site_filter(sid),
                    ),
                ),
            )
        )
    staff = _count(
        select(func.count(StaffMember.id)).where(
            StaffMember.site_id == sid, StaffMember.active.is_(True)
        )
    )
    if not staff:
        gaps.append(
            Gap(
                "staff",
                _l("Nobody on the staff list"),
                _l("Breaks, the roster and work assigned by name need the site's people."),
                (
                    (_l("Staff"), "staff.index_view", _site_filter(sid)),
                    _import(sid, "staff"),
                ),
            )
        )
    now = now or clock.now()
    planned = _count(
        select(func.count(Shift.id)).where(
            Shift.site_id == sid,
            Shift.deleted_at.is_(None),
            Shift.ends_at > now,
            Shift.starts_at < now + timedelta(days=ROSTER_DAYS),
        )
    )
    if not planned:
        gaps.append(
            Gap(
                "roster",
                _l("Nobody on the roster"),
                _l("No shift is planned in the coming %(days)s days.", days=ROSTER_DAYS),
                ((_l("Shifts"), "shift.index_view", _site_filter(sid)),),
            )
        )
    for role, key, label, hint in (
        (
            "clerk",
            "clerk_login",
            _l("No clerk with a login"),
            _l("The clerk runs the day: checks, visits and the tally."),
        ),
        (
            "sales",
            "sales_login",
            _l("No salesperson with a login"),
            _l("Visits and damage reports name a salesperson who can log in."),
        ),
        (
            "maintenance",
            "maintenance",
            _l("No maintenance person covering the site"),
            _l("Repair tickets of the site go to a maintenance user whose sites include it."),
        ),
    ):
        if not _logins(sid, role):
            gaps.append(
                Gap(
                    key,
                    label,
                    hint,
                    ((_l("Users"), "user.index_view", {"flt0_role_equals": role}),),
                )
            )
    areas = _count(
        select(func.count(CleaningArea.id)).where(
            CleaningArea.site_id == sid, CleaningArea.active.is_(True)
        )
    )
    if not areas:
        gaps.append(
            Gap(
                "cleaning_areas",
                _l("No cleaning areas"),
                _l("The cleaning inspection walks through the site's areas."),
                ((_l("Cleaning areas"), "cleaning_area.index_view", _site_filter(sid)),),
            )
        )
    return gaps


def has_items(site):
    return bool(
        _count(
            select(func.count(Item.id)).where(
                Item.site_id == site.id, Item.active.is_(True), Item.deleted_at.is_(None)
            )
        )
    )


__all__ = ["Gap", "ROSTER_DAYS", "has_items", "missing"]
