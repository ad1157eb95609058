"""Tamper-evident, append-only audit log.

Every change of a registered model and every sensitive read (exports, entity file views) is one ``AuditEvent``
row: who, when, request id, action, object, before/after JSON and reason. Each row stores
``hash = sha256(prev_hash || canonical_json(row))``, chained to the previous row, so that editing or deleting any
row breaks the chain from that row on; ``shijian audit verify`` recomputes it. Database triggers refuse UPDATE and
DELETE on the table (migration 0002), so the application cannot rewrite history either.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from shijian.core.request_context import current_actor, current_client_ip, current_request_id

GENESIS = "0" * 64


class Action(models.TextChoices):
    CREATE = "create", gettext_lazy("create")
    UPDATE = "update", gettext_lazy("update")
    DELETE = "delete", gettext_lazy("delete")
    IMPORT = "import", gettext_lazy("import")
    EXPORT = "export", gettext_lazy("export")
    VIEW = "view", gettext_lazy("view")
    LOGIN = "login", gettext_lazy("login")
    LOGIN_FAILED = "login_failed", gettext_lazy("login failed")
    LOGIN_LOCKED = "login_locked", gettext_lazy("login refused (locked)")
    DENIED = "denied", gettext_lazy("access denied")
    TAMPERED = "tampered", gettext_lazy("stored file altered")


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    return str(value)


def canonical_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=_json_default)


def normalised(value: Any) -> Any:
    """The value as it reads back from a JSON column (so hashing before and after storage agree)."""
    return json.loads(canonical_json(value)) if value is not None else None


def row_digest(prev_hash: str, fields: dict[str, Any]) -> str:
    payload = prev_hash + "\n" + canonical_json(fields)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def snapshot(instance: models.Model) -> dict[str, Any]:
    """A JSON-safe snapshot of a model instance's concrete fields (and many-to-many ids once saved)."""
    data: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        data[field.attname] = field.value_from_object(instance)
    if instance.pk is not None:
        for m2m in instance._meta.many_to_many:
            data[m2m.name] = sorted(obj.pk for obj in getattr(instance, m2m.name).all())
    return normalised(data)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class ChainReport:
    checked: int
    ok: bool
    first_bad_id: int | None = None
    problem: str = ""


def record(
    action: str,
    *,
    object_type: str,
    object_id: str = "",
    object_repr: str = "",
    before: Any = None,
    after: Any = None,
    reason: str = "",
    actor: Any = None,
) -> Any:
    """Append one audit event, chained to the last one. Must run inside the caller's transaction if any."""
    from shijian.core.models import AuditEvent

    user = actor if actor is not None else current_actor()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # One writer at a time extends the chain.
            with connection.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(745001)")
        last = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
        prev_hash = last or GENESIS
        event = AuditEvent(
            at=timezone.now(),
            actor_id=getattr(user, "pk", None),
            actor_name=getattr(user, "username", "") or "system",
            request_id=current_request_id(),
            client_ip=current_client_ip()[:45] or None,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            object_repr=object_repr[:200],
            before=normalised(before),
            after=normalised(after),
            reason=reason,
            prev_hash=prev_hash,
        )
        event.hash = row_digest(prev_hash, event.chained_fields())
        event.save(force_insert=True)
    return event


def verify_chain(batch: int = 5000) -> ChainReport:
    """Recompute every row's hash in id order; report the first row that does not match."""
    from shijian.core.models import AuditEvent

    prev = GENESIS
    checked = 0
    last_id = 0
    while True:
        rows = list(AuditEvent.objects.filter(id__gt=last_id).order_by("id")[:batch])
        if not rows:
            return ChainReport(checked, True)
        for row in rows:
            if row.prev_hash != prev:
                return ChainReport(checked, False, row.id, "prev_hash does not match the previous row's hash")
            if row_digest(prev, row.chained_fields()) != row.hash:
                return ChainReport(checked, False, row.id, "row content does not match its hash")
            prev = row.hash
            checked += 1
            last_id = row.id
