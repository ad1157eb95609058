"""Stored files on local disk and in an S3-compatible bucket (moto's server): saved with their SHA-256 through the
real upload view, served only through the permission-checked view, a file altered in storage refused with a
clear page (409), never a 500."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from shijian.core.models import AuditEvent
from tests.responses import streamed
from tests.s3_server import Store, s3_server_fixture, store_fixture  # noqa: F401 (fixtures)
from tests.test_browser_phone import _a_visit

JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40


def _upload(world: Any, visit: Any) -> Any:
    photo = SimpleUploadedFile("门头.jpg", JPEG, content_type="image/jpeg")
    r = world.client("inspector").post(reverse("attachment_add", args=[visit.pk]), {"file": photo})
    assert r.status_code == 302
    return visit.attachments.get()


def test_it_stores_an_upload_with_its_hash_where_the_storage_says(world: Any, store: Store) -> None:
    att = _upload(world, _a_visit(world))
    assert att.sha256 == hashlib.sha256(JPEG).hexdigest()
    assert store.read(att.file.name) == JPEG
    if store.kind == "s3":
        assert not (store.root / att.file.name).exists()  # in the bucket, not on the local disk


def test_it_serves_the_file_to_the_visits_team_streamed_and_checked(world: Any, store: Store) -> None:
    att = _upload(world, _a_visit(world))
    r = world.client("inspector").get(reverse("attachment_get", args=[att.pk]))
    assert r.status_code == 200 and r.streaming and r["Content-Type"] == "image/jpeg"
    assert streamed(r) == JPEG


def test_it_refuses_another_towns_user(world: Any, store: Store) -> None:
    att = _upload(world, _a_visit(world))
    r = world.client("yanghe").get(reverse("attachment_get", args=[att.pk]))
    assert r.status_code == 404 and not getattr(r, "streaming", False)


def test_it_refuses_a_file_altered_in_storage_with_a_clear_page_and_audits_it(world: Any, store: Store) -> None:
    att = _upload(world, _a_visit(world))
    store.tamper(att.file.name, JPEG[:-1] + b"\x00")
    r = world.client("inspector").get(reverse("attachment_get", args=[att.pk]))
    assert r.status_code == 409 and not r.streaming
    page = r.content.decode()
    assert "门头.jpg" in page and "SHA-256" in page and "审计" in page
    ev = AuditEvent.objects.get(action="tampered", object_type="supervision.attachment", object_id=str(att.pk))
    assert ev.after is not None
    assert ev.after["expected_sha256"] == att.sha256 and ev.after["found_sha256"] != att.sha256


def test_it_answers_404_for_a_file_gone_from_storage(world: Any, store: Store) -> None:
    att = _upload(world, _a_visit(world))
    att.file.storage.delete(att.file.name)
    assert not store.exists(att.file.name)
    assert world.client("inspector").get(reverse("attachment_get", args=[att.pk])).status_code == 404


def test_case_evidence_goes_through_the_same_storage_and_check(world: Any, store: Store) -> None:
    from shijian.cases import enforcement

    hecheng = world.users["hecheng"]
    case = enforcement.open_case(world.entities["hecheng"], source="manual", title="无证经营", user=hecheng)
    ev = enforcement.add_evidence(
        case, name="询问笔录.pdf", data=b"%PDF-1.7 record", content_type="application/pdf", user=hecheng
    )
    assert store.read(ev.file.name) == b"%PDF-1.7 record" and enforcement.evidence_intact(ev)
    store.tamper(ev.file.name, b"%PDF-1.7 altered")
    assert not enforcement.evidence_intact(ev)


def test_no_url_serves_media_or_static_files_straight_from_storage(world: Any, store: Store) -> None:
    from django.urls import get_resolver
    from django.views import static

    def views(patterns: list[Any]) -> list[Any]:
        out: list[Any] = []
        for p in patterns:
            out.extend(views(p.url_patterns) if hasattr(p, "url_patterns") else [p.callback])
        return out

    assert static.serve not in views(get_resolver().url_patterns)
    att = _upload(world, _a_visit(world))
    assert world.client("inspector").get(f"/media/{att.file.name}").status_code == 404


def test_case_evidence_downloads_through_its_view_checked_and_refused_elsewhere(world: Any, store: Store) -> None:
    from shijian.cases import enforcement

    hecheng = world.users["hecheng"]
    case = enforcement.open_case(world.entities["hecheng"], source="manual", title="无证经营", user=hecheng)
    data = b"%PDF-1.7 " + bytes(range(256)) * 8
    ev = enforcement.add_evidence(case, name="现场笔录.pdf", data=data, content_type="application/pdf", user=hecheng)
    url = reverse("evidence_get", args=[ev.pk])
    r = world.client("hecheng").get(url)
    assert r.status_code == 200 and r.streaming and streamed(r) == data
    assert world.client("yanghe").get(url).status_code == 404
    store.tamper(ev.file.name, data[:-1])
    r = world.client("hecheng").get(url)
    assert r.status_code == 409 and "现场笔录.pdf" in r.content.decode()
    assert AuditEvent.objects.filter(action="tampered", object_type="cases.evidence", object_id=str(ev.pk)).exists()


def test_the_storage_setting_is_local_by_default_and_fails_loudly_when_s3_is_half_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from django.conf import settings

    from shijian.config.env import ConfigError
    from shijian.config.storage import default_storage_setting

    assert settings.STORAGES["default"]["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    monkeypatch.delenv("SHIJIAN_S3_BUCKET", raising=False)
    with pytest.raises(ConfigError, match="SHIJIAN_S3_BUCKET"):
        default_storage_setting("s3")
    with pytest.raises(ConfigError, match="expected local or s3"):
        default_storage_setting("minio")
    monkeypatch.setenv("SHIJIAN_S3_BUCKET", "evidence")
    monkeypatch.setenv("SHIJIAN_S3_ENDPOINT", "https://s3.internal:9000")
    options = default_storage_setting("s3")["default"]["OPTIONS"]
    assert options["bucket_name"] == "evidence" and options["endpoint_url"] == "https://s3.internal:9000"
    assert options["default_acl"] is None and options["file_overwrite"] is False
