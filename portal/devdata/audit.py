"""Development data of the audit trail: the benchmark's year of plausible events (its bulk
inserts bypass the ORM, so the audit listener writes none for them). The demo's events are
written by the listener as the demo seeds through the ORM."""

from datetime import time

from portal.devdata.bench import weighted
from portal.extensions import db
from portal.models import AuditEvent
from portal.services import audit

AUDIT_TYPES = (
    ("visit", 5),
    ("drink_movement", 4),
    ("checklist_run", 3),
    ("handover_entry", 2),
    ("repair_ticket", 1),
    ("staff_member", 1),
)
AUDIT_ACTIONS = (("create", 6), ("update", 3), ("sign", 1), ("delete", 1))


def generate(ctx, per_site_day=14):
    """~14 audit events per site and day (≈1,000,000 for 200 sites × 365 days), each sealed in
    its site's hash chain (after the demo sites' own events) like the application's."""
    conn = db.session.connection()
    heads = {site_id: audit.chain_head(conn, site_id) for site_id in ctx.site_ids}

    def rows():
        for day in ctx.each_day():
            for site_id in ctx.site_ids:
                for _ in range(ctx.rng.randint(per_site_day // 2, per_site_day * 3 // 2)):
                    object_type = weighted(ctx.rng, AUDIT_TYPES)
                    action = weighted(ctx.rng, AUDIT_ACTIONS)
                    object_id = ctx.rng.randrange(1, 500_000)
                    yield audit.seal(
                        {
                            "at": ctx.moment(site_id, day, time(8, 30), time(20, 0)),
                            "user_id": ctx.pick_user(site_id),
                            "site_id": site_id,
                            "action": action,
                            "object_type": object_type,
                            "object_id": object_id,
                            "summary": f"{object_type} #{object_id}",
                            "before": {"status": "open"} if action == "update" else None,
                            "after": {"status": "done"} if action in ("create", "update") else None,
                        },
                        heads,
                    )

    ctx.insert(AuditEvent, rows())
