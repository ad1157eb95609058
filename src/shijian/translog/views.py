"""The public face of the transparency log (no login): the whole log, and its public key."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse

from shijian.translog import services


def log_json(request: HttpRequest) -> JsonResponse:
    """Every entry and signed tree head, with the log's Ed25519 public key: what ``shijian log verify`` checks."""
    return JsonResponse(services.export(), json_dumps_params={"ensure_ascii": False})


def public_key(request: HttpRequest) -> HttpResponse:
    return HttpResponse(services.public_key_hex() + "\n", content_type="text/plain; charset=utf-8")
