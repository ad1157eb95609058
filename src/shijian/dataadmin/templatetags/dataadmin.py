"""``{% feeds_built_after_load %}``: the feeds whose loads queue a build, for the schedules page."""

from __future__ import annotations

from typing import Any

from django import template

from shijian.core.jurisdiction import restrict
from shijian.core.permissions import allowed
from shijian.dataadmin.models import Feed

register = template.Library()


@register.simple_tag(takes_context=True)
def feeds_built_after_load(context: Any) -> list[Feed]:
    user = context["request"].user
    if not allowed(user, "feed", "view"):
        return []
    return list(restrict(Feed.objects.filter(build_after_load=True).select_related("department"), user))
