"""A new site from a template: the set-up of a site the user can see, copied into a new site.

What is copied is the set-up only — what a sales office needs before its first day:

* items with their category, location and expected quantity (condition "ok": they are new
  things); an asset tag that starts with the source's code gets the new code instead
  ("SZ01-007" → "SZ03-007"), any other tag is prefixed with the new code, so no tag is shared;
* products with kind, unit and reorder level, and an **opening stock**: one "restock" line of
  the stock ledger per product, of the quantity the preview form says (by default twice the
  reorder level: the first delivery, which lasts until the first low-stock warning; the
  source's own stock is what is on *its* shelves, not what the new site will receive);
* cleaning areas (the standard areas every new site gets, switched off when the source does
  not use them), the source's own checklist templates with their items (head office's global
  templates apply to every site already), show units, tally time and time zone;
* a **roster pattern**: the posts and hours of the source's most recent week of shifts, kept in
  the audit event of the creation (there are no people to put on shifts yet), shown on the new
  site's pattern page for whoever plans its first week.

Never copied: records (visits, tickets, checks, tallies, stock history), people and history.
The source is read through the site scope (a site outside it is never found); head office
creates into any region, a supervisor only into his own (``scope.widen_to``). Everything is
written in one transaction by ``create``; the caller commits.
"""

import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import available_timezones

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal import clock
from portal.errors import DomainError
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import (
    ChecklistItem,
    ChecklistTemplate,
    CleaningArea,
    Item,
    Product,
    Region,
    ShowUnit,
    Site,
)
from portal.models.audit import AuditEvent
from portal.models.roster import POSTS, Shift
from portal.services import audit, bounds, scope, stock

CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,19}$")
MAX_DAYS_AHEAD = 366
DEFAULT_DAYS_AHEAD = 7
# Opening stock by default: this many times the reorder level.
OPENING_STOCK_FACTOR = 2
# Zones offered first in the form (any IANA zone name is accepted).
COMMON_ZONES = (
    "Asia/Shanghai",
    "Asia/Urumqi",
    "Asia/Hong_Kong",
    "Asia/Macau",
    "Asia/Taipei",
    "Asia/Singapore",
)
FIELDS = ("source", "code", "name", "region", "address", "timezone", "tally_time", "opens_on")


@dataclass(frozen=True)
class NewSite:
    """What the form says about the new site (checked)."""

    code: str
    name: str
    region_id: int
    address: str | None
    timezone: str
    tally_time: object  # datetime.time
    opens_on: date


@dataclass
class Plan:
    """Exactly what ``create`` will write, read from the source: shown by the preview."""

    source: Site
    new: NewSite
    region: Region
    items: list = field(default_factory=list)
    products: list = field(default_factory=list)
    areas: list = field(default_factory=list)
    templates: list = field(default_factory=list)
    show_units: list = field(default_factory=list)
    roster: list = field(default_factory=list)
    roster_week: tuple | None = None

    @property
    def checklist_item_count(self):
        return sum(len(t["items"]) for t in self.templates)

    def counts(self):
        return {
            "items": len(self.items),
            "products": len(self.products),
            "cleaning_areas": len(self.areas),
            "checklist_templates": len(self.templates),
            "checklist_items": self.checklist_item_count,
            "show_units": len(self.show_units),
            "roster_lines": len(self.roster),
        }

    @property
    def fingerprint(self):
        """A digest of the source's set-up as read for this plan: the confirmation is refused
        when the source changed after the preview (the user confirms what he saw)."""
        content = {
            "source": self.source.id,
            "items": self.items,
            "products": [{k: v for k, v in p.items() if k != "opening"} for p in self.products],
            "areas": self.areas,
            "templates": self.templates,
            "show_units": self.show_units,
            "roster": self.roster,
        }
        text = json.dumps(content, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:32]


# ---------------------------------------------------------------- who may create what


def may_create(user):
    return user.role in ("admin", "supervisor")


def creatable_regions(user):
    """The regions ``user`` may put a new site in: every active region for head office, his own
    for a supervisor, none for anyone else."""
    if user.role == "admin":
        stmt = select(Region).where(Region.active.is_not(False)).order_by(Region.code)
        return list(db.session.scalars(stmt.execution_options(bypass_scope=True)))
    if user.role == "supervisor":
        return [r for r in user.regions if r.active is not False]
    return []


def source_sites():
    """The sites whose set-up may be copied: every site of the user's scope (the scope filters)."""
    return list(db.session.scalars(select(Site).order_by(Site.code)))


# ---------------------------------------------------------------- the form


def read_new_site(values, region_id, errors=None):
    """The new site (in region ``region_id``) from the form ``values`` (a dict of text); refuses
    every bad field at once, with ``errors`` found before (``DomainError.errors``: {field:
    message}). Region and source are the view's to find: one the user may not use is a 404."""
    errors = dict(errors or {})
    code = (values.get("code") or "").strip().upper()
    if not code:
        errors["code"] = _l("Enter a code for the new site.")
    elif not CODE_PATTERN.match(code):
        errors["code"] = _l(
            "A site code is 1 to 20 letters, digits, '-' or '_', starting with a letter or digit."
        )
    elif code_taken(code):
        errors["code"] = _l("The code %(code)s is already used by another site.", code=code)
    name = (values.get("name") or "").strip()
    if not name:
        errors["name"] = _l("Enter the name of the new site.")
    elif len(name) > 100:
        errors["name"] = _l("At most %(n)s characters.", n=100)
    address = (values.get("address") or "").strip() or None
    if address and len(address) > 255:
        errors["address"] = _l("At most %(n)s characters.", n=255)
    zone = (values.get("timezone") or "").strip()
    if not zone:
        errors["timezone"] = _l("Enter the time zone, e.g. Asia/Shanghai.")
    elif zone not in _known_zones():
        errors["timezone"] = _l(
            "Unknown time zone %(zone)s: use a name such as Asia/Shanghai.", zone=zone[:60]
        )
    tally_text = (values.get("tally_time") or "").strip()
    tally_time = None
    try:
        tally_time = datetime.strptime(tally_text, "%H:%M").time()
    except ValueError:
        errors["tally_time"] = _l("Enter the tally time as hours:minutes, e.g. 17:50.")
    opens_on = None
    if "timezone" not in errors:  # the site's own today
        today = clock.local_day(zone)
        try:
            opens_on = bounds.parse_day(values.get("opens_on") or "")
        except DomainError:
            errors["opens_on"] = _l("Enter the planned opening day as a date, e.g. 2026-12-20.")
        else:
            if opens_on < today:
                errors["opens_on"] = _l("The planned opening day cannot be in the past.")
            elif opens_on > today + timedelta(days=MAX_DAYS_AHEAD):
                errors["opens_on"] = _l("The planned opening day is more than a year away.")
    if errors:
        first = next((f for f in FIELDS if f in errors), next(iter(errors)))
        raise DomainError(errors[first], first, errors=errors)
    return NewSite(code, name, region_id, address, zone, tally_time, opens_on)


def code_taken(code):
    """Whether a site — any site, in scope or not: codes are unique across the organisation —
    already has this code (in any case). Reads one id past the scope, shows nothing of it."""
    stmt = select(Site.id).where(func.upper(Site.code) == code.upper()).limit(1)
    return db.session.execute(stmt.execution_options(bypass_scope=True)).first() is not None


def _known_zones():
    return available_timezones()


def default_values(source):
    """The form's values before the user types: the source's zone and tally time, an opening a
    week from now."""
    values = {"timezone": clock.DEFAULT_ZONE_NAME, "tally_time": "17:50"}
    if source is not None:
        values.update(
            source=str(source.id),
            region=str(source.region_id),
            timezone=source.timezone or clock.DEFAULT_ZONE_NAME,
            tally_time=source.tally_time.strftime("%H:%M") if source.tally_time else "17:50",
        )
    zone = values["timezone"]
    values["opens_on"] = (clock.local_day(zone) + timedelta(days=DEFAULT_DAYS_AHEAD)).isoformat()
    return values


# ---------------------------------------------------------------- the plan (reads only)


def plan(source, new, region):
    """What copying ``source`` into ``new`` will create. Reads only."""
    result = Plan(source=source, new=new, region=region)
    items = db.session.scalars(
        select(Item)
        .where(Item.site_id == source.id, Item.active.is_not(False))
        .order_by(Item.category, Item.location, Item.name, Item.id)
    )
    result.items = [
        {
            "name": i.name,
            "category": i.category,
            "location": i.location,
            "expected_quantity": i.expected_quantity,
            "asset_tag": new_asset_tag(i.asset_tag, source.code, new.code),
        }
        for i in items
    ]
    products = db.session.scalars(
        select(Product)
        .where(Product.site_id == source.id, Product.active.is_not(False))
        .order_by(Product.kind, Product.name)
    )
    result.products = [
        {
            "source_id": p.id,
            "name": p.name,
            "kind": p.kind,
            "unit": p.unit,
            "reorder_level": p.reorder_level,
            "opening": default_opening(p),
        }
        for p in products
    ]
    areas = db.session.scalars(
        select(CleaningArea)
        .where(CleaningArea.site_id == source.id, CleaningArea.active.is_not(False))
        .order_by(CleaningArea.position, CleaningArea.id)
    )
    result.areas = [a.name for a in areas]
    templates = db.session.scalars(
        select(ChecklistTemplate)
        .where(ChecklistTemplate.site_id == source.id, ChecklistTemplate.active.is_not(False))
        .order_by(ChecklistTemplate.kind, ChecklistTemplate.name)
    )
    result.templates = [
        {
            "name": t.name,
            "kind": t.kind,
            "description": t.description,
            "items": [
                {"label": i.label, "kind": i.kind}
                for i in t.items
                if i.active is not False and i.site_id == source.id
            ],
        }
        for t in templates
    ]
    units = db.session.scalars(
        select(ShowUnit)
        .where(ShowUnit.site_id == source.id, ShowUnit.active.is_not(False))
        .order_by(ShowUnit.name)
    )
    result.show_units = [{"name": u.name, "location": u.location} for u in units]
    result.roster_week, result.roster = roster_pattern(source)
    return result


def new_asset_tag(tag, source_code, new_code):
    """The copy's asset tag: the source's code swapped for the new one, else the new code in
    front; no tag stays no tag."""
    if not tag:
        return None
    if tag.upper().startswith(source_code.upper()):
        return (new_code + tag[len(source_code) :])[:50]
    return f"{new_code}-{tag}"[:50]


def default_opening(product):
    return max(0, (product.reorder_level or 0) * OPENING_STOCK_FACTOR)


def global_template_count():
    """Head office's templates (no site): valid at the new site without a copy."""
    stmt = select(func.count(ChecklistTemplate.id)).where(
        ChecklistTemplate.site_id.is_(None), ChecklistTemplate.active.is_not(False)
    )
    return db.session.scalar(stmt) or 0


def roster_pattern(source):
    """((first day, last day), lines) of the source's most recent week of shifts: the seven
    local days ending with the latest day that had a shift (up to today; a source whose only
    shifts are still to come: its latest). Lines: {weekday 0–6, post, starts, ends "HH:MM",
    overnight, people}, sorted by day, post and time. (None, []) for a source without shifts."""
    _, end_of_today = clock.day_bounds(clock.local_day(source), source)
    base = select(Shift.starts_at).where(Shift.site_id == source.id)
    latest = db.session.scalar(
        base.where(Shift.starts_at < end_of_today).order_by(Shift.starts_at.desc()).limit(1)
    ) or db.session.scalar(base.order_by(Shift.starts_at.desc()).limit(1))
    if latest is None:
        return None, []
    last_day = clock.local_day(source, latest)
    first_day = last_day - timedelta(days=6)
    start, end = clock.day_bounds(first_day, source)[0], clock.day_bounds(last_day, source)[1]
    rows = db.session.execute(
        select(Shift.post, Shift.starts_at, Shift.ends_at).where(
            Shift.site_id == source.id, Shift.starts_at >= start, Shift.starts_at < end
        )
    )
    counted = Counter()
    for post, starts_at, ends_at in rows:
        a, b = clock.to_local(starts_at, source), clock.to_local(ends_at, source)
        overnight = b.date() > a.date()
        counted[(a.weekday(), post, f"{a:%H:%M}", f"{b:%H:%M}", overnight)] += 1
    post_order = {p: i for i, p in enumerate(POSTS)}
    lines = [
        {
            "weekday": weekday,
            "post": post,
            "starts": starts,
            "ends": ends,
            "overnight": overnight,
            "people": people,
        }
        for (weekday, post, starts, ends, overnight), people in sorted(
            counted.items(),
            key=lambda kv: (kv[0][0], post_order.get(kv[0][1], 99), kv[0][1], kv[0][2]),
        )
    ]
    return (first_day, last_day), lines


# ---------------------------------------------------------------- opening stock


def read_openings(plan_, values):
    """{source product id: opening quantity} from the preview form (``opening_<id>``, the
    default where absent); refuses every bad quantity at once ({"opening_<id>": message})."""
    errors, openings = {}, {}
    for p in plan_.products:
        key = f"opening_{p['source_id']}"
        raw = values.get(key)
        if raw is None or str(raw).strip() == "":
            openings[p["source_id"]] = p["opening"]
            continue
        message = bounds.quantity_error(raw, bounds.COUNTED)  # 0 (none) to a full store room
        if message is not None:
            errors[key] = message
            continue
        openings[p["source_id"]] = bounds.whole_number(raw)
    if errors:
        first = next(iter(errors))
        raise DomainError(errors[first], first, errors=errors)
    return openings


# ---------------------------------------------------------------- the copy (writes)


def create(plan_, openings, user):
    """Create the new site and its set-up, exactly as ``plan_`` lists it, in the current
    transaction (the caller commits once); returns the new site (status "setup")."""
    new, source = plan_.new, plan_.source
    if code_taken(new.code):
        raise DomainError(
            _l("The code %(code)s is already used by another site.", code=new.code), "code"
        )
    site = Site(
        code=new.code,
        name=new.name,
        address=new.address,
        timezone=new.timezone,
        tally_time=new.tally_time,
        region_id=new.region_id,
        status="setup",
        opened_on=new.opens_on,
    )
    db.session.add(site)
    try:
        db.session.flush()
    except IntegrityError:  # the same code saved by someone else a moment ago
        raise DomainError(
            _l("The code %(code)s is already used by another site.", code=new.code), "code"
        ) from None
    # A supervisor's scope gains this one new site (head office's needs nothing).
    scope.widen_to(site)

    for i in plan_.items:
        db.session.add(Item(site_id=site.id, condition="ok", active=True, **i))
    _copy_areas(site, plan_.areas)
    for t in plan_.templates:
        template = ChecklistTemplate(
            site_id=site.id, name=t["name"], kind=t["kind"], description=t["description"]
        )
        template.active = True
        template.items = [
            ChecklistItem(site_id=site.id, position=n, label=i["label"], kind=i["kind"])
            for n, i in enumerate(t["items"])
        ]
        db.session.add(template)
    for u in plan_.show_units:
        db.session.add(ShowUnit(site_id=site.id, name=u["name"], location=u["location"]))
    products = []
    for p in plan_.products:
        product = Product(
            site_id=site.id,
            name=p["name"],
            kind=p["kind"],
            unit=p["unit"],
            reorder_level=p["reorder_level"],
            active=True,
        )
        db.session.add(product)
        products.append((product, openings.get(p["source_id"], p["opening"])))
    db.session.flush()
    reason = f"{source.code} → {site.code}"
    opening_stock = {}
    for product, qty in products:
        if qty > 0:
            stock.restock(site, product, qty, user=user, reason=reason)
        opening_stock[product.name] = qty
    audit.record(
        "create",
        site,
        summary=f"{site} ← {source}",
        after={
            "copied_from": {"id": source.id, "code": source.code, "name": source.name},
            "created": plan_.counts(),
            "opening_stock": opening_stock,
            "roster_week": [d.isoformat() for d in plan_.roster_week]
            if plan_.roster_week
            else None,
            "roster_pattern": plan_.roster,
        },
    )
    return site


def _copy_areas(site, names):
    """The source's active areas, in its order: the standard areas the new site got on insert
    are reused (or switched off when the source does not use them), the others added."""
    existing = {
        a.name: a
        for a in db.session.scalars(select(CleaningArea).where(CleaningArea.site_id == site.id))
    }
    for position, name in enumerate(names):
        area = existing.pop(name, None)
        if area is None:
            db.session.add(CleaningArea(site_id=site.id, name=name, position=position, active=True))
        else:
            area.position, area.active = position, True
    for area in existing.values():
        area.active = False


# ---------------------------------------------------------------- afterwards


def copy_event(site):
    """The audit event of ``site``'s creation from a template (None: not made by a copy), read
    through the scope."""
    events = db.session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.site_id == site.id,
            AuditEvent.object_type == "Site",
            AuditEvent.object_id == site.id,
            AuditEvent.action == "create",
        )
        .order_by(AuditEvent.id)
    )
    for event in events:
        if isinstance(event.after, dict) and "copied_from" in event.after:
            return event
    return None


def sites_in_setup():
    """Sites in set-up the user can see, newest first."""
    stmt = select(Site).where(Site.status == "setup").order_by(Site.id.desc()).limit(50)
    return list(db.session.scalars(stmt))


__all__ = [
    "NewSite",
    "Plan",
    "copy_event",
    "create",
    "creatable_regions",
    "default_values",
    "plan",
    "read_new_site",
    "read_openings",
    "roster_pattern",
    "source_sites",
]
