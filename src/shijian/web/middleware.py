"""Language: zh-hans unless the user chose another language (the switcher sets a cookie).

Django's LocaleMiddleware would follow the browser's Accept-Language; a regulator's platform speaks Chinese by
default whatever the browser says, and English only on request.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.translation import gettext as _

from shijian.web.params import BadParameter


class LanguageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.available = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        language = chosen if chosen in self.available else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language  # type: ignore[attr-defined]
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        translation.deactivate()
        return response


# Scripts and styles come from this server only (htmx and ECharts are served locally); no inline script runs.
# Inline style attributes stay allowed (print forms, chart heights); they cannot run code.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


class QueryTextMiddleware:
    """A query string holding a NUL character is a 400: no database stores it in text (PostgreSQL refuses it)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if any("\x00" in key or any("\x00" in v for v in values) for key, values in request.GET.lists()):
            raise BadParameter(_("The request holds a NUL character."))
        return self.get_response(request)


class SecurityHeadersMiddleware:
    """A Content-Security-Policy on every page; ``Cache-Control: no-store`` on every answer to a signed-in user
    (pages, exports and attachments hold personal data: no browser or proxy cache keeps them)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            response["Cache-Control"] = "no-store"
        return response


class DeniedRequestAuditMiddleware:
    """Every refused request is an audit event: a 403 for anyone, a 404 for a signed-in user or an API client (an
    object outside the jurisdiction answers 404); the path, method and status are recorded with the client
    address, and an API client as the actor."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        status = response.status_code
        user = getattr(request, "user", None)
        client = getattr(request, "auth", None)  # an API client (shijian.api.clients.Principal), when one acted
        signed_in = (user is not None and user.is_authenticated) or hasattr(client, "client_pk")
        if status == 403 or (status == 404 and signed_in):
            from shijian.core import audit

            audit.record(
                audit.Action.DENIED,
                object_type="http",
                object_repr=request.path[:200],
                after={"status": status, "method": request.method},
                actor=client if hasattr(client, "client_pk") else None,
            )
        return response
