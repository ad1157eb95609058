"""Every change of a registry object becomes an audit event (before/after snapshots)."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.dispatch import receiver

from shijian.core import audit
from shijian.registry.models import (
    Department,
    Entity,
    Inspector,
    InspectorConflict,
    ItemCategory,
    Responsibility,
    SpotCheckItem,
    Tag,
)
from shijian.registry.stats import bump_version

AUDITED: tuple[type[models.Model], ...] = (
    Department,
    Entity,
    Inspector,
    InspectorConflict,
    ItemCategory,
    Responsibility,
    SpotCheckItem,
    Tag,
)


def object_type(model: type[models.Model]) -> str:
    return f"{model._meta.app_label}.{model._meta.model_name}"


@receiver(pre_save)
def _remember_before(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    if sender not in AUDITED or kwargs.get("raw"):
        return
    before = None
    if instance.pk is not None:
        old = sender._default_manager.filter(pk=instance.pk).first()
        before = audit.snapshot(old) if old is not None else None
    instance._audit_before = before  # type: ignore[attr-defined]


@receiver(post_save)
def _record_save(sender: type[models.Model], instance: models.Model, created: bool, **kwargs: Any) -> None:
    if sender not in AUDITED or kwargs.get("raw"):
        return
    if sender is Entity:
        bump_version()
    audit.record(
        audit.Action.CREATE if created else audit.Action.UPDATE,
        object_type=object_type(sender),
        object_id=str(instance.pk),
        object_repr=str(instance),
        before=getattr(instance, "_audit_before", None),
        after=audit.snapshot(instance),
        reason=getattr(instance, "_audit_reason", ""),
    )


@receiver(post_delete)
def _record_delete(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    if sender not in AUDITED:
        return
    if sender is Entity:
        bump_version()
    audit.record(
        audit.Action.DELETE,
        object_type=object_type(sender),
        object_id=str(instance.pk),
        object_repr=str(instance),
        before=audit.snapshot(instance),
        reason=getattr(instance, "_audit_reason", ""),
    )


@receiver(m2m_changed)
def _record_m2m(sender: Any, instance: models.Model, action: str, pk_set: set[Any] | None, **kwargs: Any) -> None:
    if type(instance) not in AUDITED or action not in {"post_add", "post_remove", "post_clear"}:
        return
    field = next(
        (f.name for f in instance._meta.many_to_many if getattr(f.remote_field, "through", None) is sender), "m2m"
    )
    audit.record(
        audit.Action.UPDATE,
        object_type=object_type(type(instance)),
        object_id=str(instance.pk),
        object_repr=str(instance),
        after={"field": field, "change": action.removeprefix("post_"), "ids": sorted(pk_set or [])},
        reason=getattr(instance, "_audit_reason", ""),
    )
