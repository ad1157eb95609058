"""What the official draw page shows of a draw that spans more than the viewer's jurisdiction.

The visits are restricted by ``core.jurisdiction``; within them, an officer the viewer may not see is shown by
surname only and an individual business (个体工商户) the viewer may not see by a masked name, as on the public
page. Unstaffed-visit reasons are keyed by entity: only those of entities in the viewer's jurisdiction are shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shijian.core.jurisdiction import restrict
from shijian.registry.display import mask_person
from shijian.registry.models import Department, Entity, Inspector
from shijian.supervision.models import Draw, Visit
from shijian.supervision.public import public_entity_name
from shijian.supervision.services import entity_key


def visit_rows(visits: Sequence[Visit], user: Any) -> list[dict[str, Any]]:
    """One row per visit (its members prefetched): entity name and team, masked where the user may not see them."""
    entity_ids = {v.entity_id for v in visits}
    members = [m for v in visits for m in v.members.all()]
    seen_entities = set(restrict(Entity.objects.filter(pk__in=entity_ids), user).values_list("pk", flat=True))
    officer_ids = {m.inspector_id for m in members}
    seen_officers = set(restrict(Inspector.objects.filter(pk__in=officer_ids), user).values_list("pk", flat=True))
    dept_ids = {m.inspector.department_id for m in members}
    seen_depts = set(restrict(Department.objects.filter(pk__in=dept_ids), user).values_list("pk", flat=True))
    rows = []
    for v in visits:
        e = v.entity
        team = [
            (
                m.inspector.name if m.inspector_id in seen_officers else mask_person(m.inspector.name),
                m.inspector.department.name if m.inspector.department_id in seen_depts else "",
            )
            for m in v.members.all()
        ]
        name = e.name if e.pk in seen_entities else public_entity_name(e.name, e.entity_type)
        rows.append({"visit": v, "entity": name, "team": team})
    return rows


def visible_reasons(draw: Draw, user: Any) -> dict[str, str]:
    """The last staffing attempt's reasons, for the entities in the user's jurisdiction."""
    reasons: dict[str, str] = dict((draw.last_attempt or {}).get("reasons") or {})
    if not reasons:
        return {}
    codes = [k for k in reasons if not k.startswith("ID")]
    ids = [int(k[2:]) for k in reasons if k.startswith("ID") and k[2:].isdigit()]
    seen = restrict(Entity.objects.filter(uscc__in=codes) | Entity.objects.filter(pk__in=ids), user)
    keys = {entity_key(code, pk) for pk, code in seen.values_list("pk", "uscc")}
    return {k: r for k, r in reasons.items() if k in keys}
