"""Place and lift legal holds (each audited). A hold names a stored file's row or its owner (a case, a filing,
a visit); retention keeps every file a live hold names."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from shijian.core import audit
from shijian.files.models import LegalHold

__all__ = ["HOLDABLE", "hold", "lift"]

HOLDABLE = (
    "cases.case",
    "cases.complaint",
    "cases.evidence",
    "cases.signeddocument",
    "supervision.visit",
    "supervision.attachment",
    "dataadmin.upload",
    "jobs.job",
)


def hold(object_type: str, object_id: str, reason: str, user: Any) -> LegalHold:
    if object_type not in HOLDABLE:
        raise ValueError(f"{object_type}: not one of {', '.join(HOLDABLE)}")
    if not reason.strip():
        raise ValueError("a legal hold needs a reason")
    with transaction.atomic():
        h = LegalHold.objects.create(object_type=object_type, object_id=object_id, reason=reason, created_by=user)
        audit.record("create", object_type="files.legalhold", object_id=str(h.pk), object_repr=str(h),
                     after={"object_type": object_type, "object_id": object_id}, reason=reason, actor=user)  # fmt: skip
    return h


def lift(object_type: str, object_id: str, reason: str, user: Any) -> int:
    """Lift the live holds on the object; answers how many."""
    with transaction.atomic():
        live = list(LegalHold.objects.select_for_update().filter(object_type=object_type, object_id=object_id,
                                                                  lifted_at__isnull=True))  # fmt: skip
        for h in live:
            h.lifted_at = timezone.now()
            h.save(update_fields=["lifted_at"])
            audit.record("update", object_type="files.legalhold", object_id=str(h.pk), object_repr=str(h),
                         after={"lifted_at": h.lifted_at}, reason=reason, actor=user)  # fmt: skip
    return len(live)
