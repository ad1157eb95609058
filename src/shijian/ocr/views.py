"""POST a licence photo, get the fields read from it as JSON (the 识别营业执照 button of the entity form)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shijian.core.jurisdiction import restrict
from shijian.core.permissions import allowed
from shijian.ocr.reader import LicenceFields, OcrUnavailable, read_licence
from shijian.ocr.register import match_register
from shijian.registry.models import Entity

MAX_BYTES = 12 * 1024 * 1024
# Who fills a form from a licence: register staff adding or editing entities, complaint intake, inspectors on a visit.
MAY_READ = (("entity", "add"), ("entity", "change"), ("complaint", "add"), ("visit", "change"))


def _messages() -> dict[str, str]:
    return {
        "not_an_image": _("The file is not an image."),
        "no_text": _("No text was found in the photo."),
        "no_licence": _("No business licence was recognised in the photo."),
    }


def _payload(fields: LicenceFields, entity: Entity | None, how: str) -> dict[str, object]:
    def one(f: object) -> dict[str, object]:
        return {"value": getattr(f, "value", ""), "confidence": round(float(getattr(f, "confidence", 0.0)), 3)}

    return {
        "uscc": one(fields.uscc),
        "uscc_raw": fields.uscc_raw,
        "uscc_corrected": fields.uscc_corrected,
        "name": one(fields.name),
        "legal_rep": one(fields.legal_rep),
        "address": one(fields.address),
        "message": _messages().get(fields.message, ""),
        "entity": None if entity is None else {"id": entity.pk, "name": entity.name, "uscc": entity.uscc, "how": how},
        "lines": [line.text for line in fields.lines],
    }


@login_required
@require_POST
def read(request: HttpRequest) -> JsonResponse:
    if not any(allowed(request.user, kind, action) for kind, action in MAY_READ):
        return JsonResponse({"error": _("You may not read licences.")}, status=403)
    upload = request.FILES.get("image")
    if upload is None or upload.size is None or upload.size > MAX_BYTES:
        return JsonResponse({"error": _("Choose a photo of the licence (at most 12 MB).")}, status=400)
    try:
        fields = read_licence(upload.read())
    except OcrUnavailable:
        return JsonResponse({"error": _("Licence recognition is not installed on this server.")}, status=503)
    entity, how = match_register(fields)
    if entity is not None and not restrict(Entity.objects.filter(pk=entity.pk), request.user).exists():
        entity, how = None, ""  # outside the user's jurisdiction: the fields are still filled, the match is not shown
    return JsonResponse(_payload(fields, entity, how))
