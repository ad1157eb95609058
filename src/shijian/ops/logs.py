"""Structured logs: one JSON object per line, carrying the request id and the user of the request it belongs to."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from shijian.core.request_context import current_actor, current_request_id

# Attributes every LogRecord has; anything else passed in ``extra=`` is written as a field of its own.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "request_id", "user"}


class ContextFilter(logging.Filter):
    """Adds ``request_id`` and ``user`` (from the request context) to every record that lacks them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            record.request_id = current_request_id()
        if not getattr(record, "user", ""):
            actor = current_actor()
            record.user = getattr(actor, "username", "") or ""
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", ""),
            "user": getattr(record, "user", ""),
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                data[key] = value
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)


def logging_config(level: str, fmt: str, request_log: bool) -> dict[str, Any]:
    """Django's LOGGING: to stderr, JSON (``fmt="json"``) or text; the request log at INFO unless turned off."""
    text = "%(asctime)s %(levelname)s %(name)s [%(request_id)s %(user)s] %(message)s"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "shijian.ops.logs.ContextFilter"}},
        "formatters": {"json": {"()": "shijian.ops.logs.JsonFormatter"}, "text": {"format": text}},
        "handlers": {
            "console": {"class": "logging.StreamHandler", "filters": ["context"], "formatter": fmt},
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {"shijian.request": {"level": "INFO" if request_log else "WARNING"}},
    }
