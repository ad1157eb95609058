"""Signed documents: the 行政处罚决定书 and the 受理通知书 signed PAdES with the bureau's key; the public verification
page accepts them, refuses a modified copy, and still accepts them after the key is rotated."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader
from pypdf.generic import DictionaryObject
from pytest_django import Settings

from shijian.cases import complaints, documents, enforcement, signing
from shijian.cases.complaints import Filing
from shijian.cases.models import Case, Complaint
from tests.conftest import World
from tests.responses import streamed


@pytest.fixture
def home(settings: Settings, tmp_path: Path) -> Path:
    settings.HOME = tmp_path
    settings.MEDIA_ROOT = tmp_path / "media"
    return tmp_path


def _decided(world: World) -> Case:
    staff = world.users["hecheng"]
    case = enforcement.open_case(world.entities["hecheng"], source="manual", title="无照经营", user=staff)
    case = enforcement.act(case, "lead", {"filed": True}, staff, note="立案")
    for step in ("investigate", "review"):
        case = enforcement.act(case, step, {}, staff, note=step)
    case = enforcement.act(case, "inform", {"hearing_requested": False}, staff, note="已告知")
    data = {
        "penalty": True,
        "fine": "5000",
        "decision_no": "高市监罚〔2026〕7号",
        "legal_basis": "《无证无照经营查处办法》第十三条",
    }
    return enforcement.act(case, "decide", data, staff, note="决定")


def _verify(client: Client, data: bytes) -> str:
    from django.core.files.uploadedfile import SimpleUploadedFile

    r = client.post(reverse("public_verify"), {"file": SimpleUploadedFile("d.pdf", data, "application/pdf")})
    assert r.status_code == 200
    return r.content.decode()


def test_a_decision_is_signed_and_the_public_page_verifies_it(world: World, home: Path) -> None:
    case = _decided(world)
    r = world.client("hecheng").get(reverse("case_decision", args=[case.pk]))
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    data = streamed(r)
    text = "".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages)
    assert "行政处罚决定书" in text and "高市监罚〔2026〕7号" in text
    v = signing.verify_pdf(data)
    assert v.valid and v.intact and v.whole_file and "荷城" not in v.signer  # the home district's bureau signs
    assert "高明区市场监督管理局" in v.signer and v.signed_at is not None
    again = streamed(world.client("hecheng").get(reverse("case_decision", args=[case.pk])))
    assert again == data  # signed once, kept
    body = _verify(world.client("anonymous"), data)
    assert "签章有效" in body and "高明区市场监督管理局" in body


def test_a_modified_copy_is_refused(world: World, home: Path) -> None:
    case = _decided(world)
    data = documents.signed(case, world.users["hecheng"]).file.read()
    i = data.find(b"/Title")
    tampered = data[:i] + data[i:].replace(b"/Title", b"/Titel", 1)
    assert tampered != data
    v = signing.verify_pdf(tampered)
    assert not v.valid and not v.intact
    appended = data + b"\n% appended after signing\n"
    assert not signing.verify_pdf(appended).valid
    assert not signing.verify_pdf(b"not a pdf").valid
    body = _verify(world.client("anonymous"), tampered)
    assert "签章无效" in body and "签章后被修改" in body


def test_rotating_the_key_leaves_old_documents_valid(world: World, home: Path) -> None:
    case = _decided(world)
    old = documents.signed(case, world.users["hecheng"]).file.read()
    signing.rotate_demo_key()
    assert signing.verify_pdf(old).valid
    new = signing.sign_pdf(documents.render_pdf("测试", ["内容"], "高明区市场监督管理局"), reason="test")
    assert signing.verify_pdf(new).valid


def test_a_document_signed_by_another_key_is_not_trusted(
    world: World, home: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    case = _decided(world)
    data = documents.signed(case, world.users["hecheng"]).file.read()
    for p in (home / "signing" / "trusted").glob("*.der"):
        p.unlink()  # a verifier that never trusted this key
    signing.rotate_demo_key()
    for p in (home / "signing" / "trusted").glob("*.der"):
        p.unlink()
    v = signing.verify_pdf(data)
    assert v.intact and not v.trusted and not v.valid


def test_the_acceptance_notice_exists_once_the_decision_is_made(world: World, home: Path) -> None:
    e = world.entities["hecheng"]
    c = complaints.file(Filing("report", "web", "王小明", "13800138000", e.name, "后厨卫生差", "老鼠", e.uscc or ""))
    client = world.client("hecheng")
    assert client.get(reverse("complaint_notice", args=[c.pk])).status_code == 404
    staff = world.users["hecheng"]
    complaints.act(c, "triage", {"department": world.depts["hecheng"].pk}, staff)
    complaints.act(Complaint.objects.get(pk=c.pk), "accept", {"accepted": True}, staff)
    r = client.get(reverse("complaint_notice", args=[c.pk]))
    data = streamed(r)
    assert r.status_code == 200 and signing.verify_pdf(data).valid
    text = "".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages)
    assert "受理通知书" in text and "王小明" not in text  # the complainant's name masked on the notice


class _Authority:
    """A local RFC 3161 time-stamp authority over HTTP (pyHanko's DummyTimeStamper behind http.server)."""

    def __init__(self, folder: Path) -> None:
        import datetime as dt
        import threading
        from http.server import BaseHTTPRequestHandler, HTTPServer

        from asn1crypto import keys, tsp
        from asn1crypto import x509 as ax509
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
        from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "本地测试时间戳服务")])
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
            .sign(key, hashes.SHA256())
        )  # fmt: skip
        der = cert.public_bytes(serialization.Encoding.DER)
        (folder / "signing" / "trusted").mkdir(parents=True, exist_ok=True)
        (folder / "signing" / "trusted" / "tsa.der").write_bytes(der)
        pkcs8 = key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        stamper = DummyTimeStamper(ax509.Certificate.load(der), keys.PrivateKeyInfo.load(pkcs8))
        self.requests = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                reply = stamper.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
                outer.requests += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_with_a_time_stamp_authority_each_signature_carries_its_timestamp(
    world: World, home: Path, settings: Settings
) -> None:
    tsa = _Authority(home)
    settings.SHIJIAN_TSA_URL = tsa.url
    try:
        data = signing.sign_pdf(documents.render_pdf("测试", ["内容"], "高明区市场监督管理局"), reason="test")
    finally:
        tsa.server.shutdown()
    assert tsa.requests >= 1  # pyHanko asks once more to size the signature
    v = signing.verify_pdf(data)
    assert v.valid and v.timestamp is not None


def test_an_unreachable_time_stamp_authority_refuses_to_sign(world: World, home: Path, settings: Settings) -> None:
    settings.SHIJIAN_TSA_URL = "http://127.0.0.1:9/"
    with pytest.raises(signing.SigningError):
        signing.sign_pdf(documents.render_pdf("测试", ["内容"], "高明区市场监督管理局"), reason="test")


def _dict(obj: object) -> DictionaryObject:
    """A PDF dictionary (pypdf types what it reads as any PDF object)."""
    assert isinstance(obj, DictionaryObject), type(obj)
    return obj


@pytest.mark.skipif(
    not documents.DOCUMENT_FONT.is_file(), reason="fonts-wqy-zenhei not installed (scripts/ensure_fonts.sh)"
)
def test_the_document_embeds_its_chinese_font(world: World, home: Path) -> None:
    data = documents.render_pdf("行政处罚决定书", ["当事人：佛山市荷城餐饮有限公司"], "高明区市场监督管理局")
    pages = PdfReader(io.BytesIO(data)).pages
    fonts = [_dict(f.get_object()) for page in pages for f in _dict(_dict(page["/Resources"])["/Font"]).values()]
    assert any("/FontFile2" in _dict(f["/FontDescriptor"]) for f in fonts if "/FontDescriptor" in f)
    text = "".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages)
    assert "行政处罚决定书" in text and "荷城餐饮" in text
