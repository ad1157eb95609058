from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def unread(request: HttpRequest) -> dict[str, Any]:
    """The header's badge: how many notifications the user has not read."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from shijian.notify.services import unread_count

    return {"unread_notifications": unread_count(user)}
