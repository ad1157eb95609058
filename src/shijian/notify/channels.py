"""Channels: one interface (``send``) for every way a notification leaves the platform besides the in-app list.

A channel raises on failure; ``services.deliver`` retries and logs. Add one by writing a class with ``name``,
``ready(user)`` and ``send(user, subject, body, url)`` and listing it in CHANNELS.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any, Protocol

from django.conf import settings
from django.core.mail import send_mail


class Channel(Protocol):
    name: str

    def ready(self, user: Any) -> bool: ...

    def send(self, user: Any, subject: str, body: str, url: str) -> None: ...


class Email:
    """Django's SMTP backend (SHIJIAN_EMAIL_HOST ...), to the user's e-mail address."""

    name = "email"

    def ready(self, user: Any) -> bool:
        return bool(settings.EMAIL_HOST and user.email)

    def send(self, user: Any, subject: str, body: str, url: str) -> None:
        send_mail(subject, f"{body}\n\n{url}".strip(), None, [user.email], fail_silently=False)


class Webhook:
    """A WeCom / DingTalk group robot: a JSON text message naming the user, POSTed to SHIJIAN_WEBHOOK_URL."""

    name = "webhook"

    def ready(self, user: Any) -> bool:
        return bool(settings.SHIJIAN_WEBHOOK_URL)

    def send(self, user: Any, subject: str, body: str, url: str) -> None:
        payload = {
            "msgtype": "text",
            "text": {"content": f"{subject}\n{body}\n{url}".strip(), "mentioned_list": [user.username]},
        }
        req = urllib.request.Request(
            settings.SHIJIAN_WEBHOOK_URL,
            data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
            headers={"Content-Type": "application/json; charset=utf-8"},
            method="POST",
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            if resp.status >= 300:
                raise OSError(f"webhook answered {resp.status}")


CHANNELS: dict[str, Channel] = {c.name: c for c in (Email(), Webhook())}
