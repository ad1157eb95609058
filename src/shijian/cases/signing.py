"""Signed documents (电子签章): PAdES signatures with pyHanko under the bureau's key, and their verification.

The key is a PKCS#12 file: ``SHIJIAN_SIGNING_P12`` (and ``SHIJIAN_SIGNING_PASSWORD``) names the bureau's own; without
it, a self-signed demo key for the home district's bureau is generated once under ``SHIJIAN_HOME/signing/``. Every
certificate ever used is kept in ``SHIJIAN_HOME/signing/trusted/`` (and the configured file's), so rotating the key
(``rotate_demo_key``) leaves documents signed before it verifiable. With ``SHIJIAN_TSA_URL`` each signature carries
an RFC 3161 timestamp from that time-stamp authority (whose root certificate goes in ``trusted/`` too).
Verification answers: signed by a trusted bureau certificate, intact, covering the whole file (nothing appended
since), who signed and when.
"""

from __future__ import annotations

import datetime as dt
import io
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

__all__ = ["Verdict", "rotate_demo_key", "sign_pdf", "verify_pdf"]


class SigningError(ValueError):
    """The key cannot be loaded, or the PDF cannot be signed."""


@dataclass(frozen=True)
class Verdict:
    valid: bool  # signed by a trusted bureau certificate, intact, the whole file covered
    signer: str = ""
    signed_at: dt.datetime | None = None
    intact: bool = False
    trusted: bool = False
    whole_file: bool = False
    problem: str = ""
    timestamp: dt.datetime | None = None  # the RFC 3161 time-stamp authority's time, when the document carries one


def _folder() -> Path:
    d = Path(settings.HOME) / "signing"
    (d / "trusted").mkdir(parents=True, exist_ok=True)
    return d


def _bureau_name() -> str:
    from shijian.registry.models import Department

    d = Department.objects.filter(region_code=settings.SHIJIAN_HOME_REGION).order_by("code").first()
    return d.name if d else "市场监督管理局"


def _generate(path: Path, password: bytes) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    org = _bureau_name()
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{org} 电子印章（演示）"),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    usage = x509.KeyUsage(
        digital_signature=True, content_commitment=True, key_encipherment=False, data_encipherment=False,
        key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False,
    )  # fmt: skip
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .sign(key, hashes.SHA256())
    )
    path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"bureau", key, cert, None, serialization.BestAvailableEncryption(password)
        )
    )
    path.chmod(0o600)
    _trust(cert.public_bytes(serialization.Encoding.DER))


def _trust(der: bytes) -> None:
    import hashlib

    (_folder() / "trusted" / f"{hashlib.sha256(der).hexdigest()[:32]}.der").write_bytes(der)


def _key_file() -> tuple[Path, bytes]:
    configured = str(getattr(settings, "SHIJIAN_SIGNING_P12", "") or "")
    if configured:
        return Path(configured), str(getattr(settings, "SHIJIAN_SIGNING_PASSWORD", "")).encode()
    folder = _folder()
    path, pw_file = folder / "demo-bureau.p12", folder / "demo-bureau.password"
    if not path.exists():
        pw_file.write_text(secrets.token_urlsafe(24), encoding="utf-8")
        pw_file.chmod(0o600)
        _generate(path, pw_file.read_text(encoding="utf-8").encode())
    return path, pw_file.read_text(encoding="utf-8").encode()


def _signer() -> Any:
    from pyhanko.sign import signers

    path, password = _key_file()
    if not path.is_file():
        raise SigningError(_("The signing key file is missing: %(path)s") % {"path": path})
    signer = signers.SimpleSigner.load_pkcs12_data(path.read_bytes(), other_certs=[], passphrase=password)
    if signer is None:
        raise SigningError(_("The signing key could not be opened (wrong password?)."))
    _trust(signer.signing_cert.dump())
    return signer


def rotate_demo_key() -> None:
    """A new demo key; the old certificate stays trusted, so documents signed with it still verify."""
    folder = _folder()
    for name in ("demo-bureau.p12", "demo-bureau.password"):
        (folder / name).unlink(missing_ok=True)
    _key_file()


def sign_pdf(data: bytes, reason: str, location: str = "") -> bytes:
    """The PDF signed PAdES (B-B) with the bureau's key."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    meta = signers.PdfSignatureMetadata(
        field_name="BureauSeal", subfilter=fields.SigSeedSubFilter.PADES, reason=reason, location=location
    )
    url = str(getattr(settings, "SHIJIAN_TSA_URL", "") or "")
    timestamper = None
    if url:
        from pyhanko.sign.timestamps import HTTPTimeStamper

        timestamper = HTTPTimeStamper(url, timeout=10)
    try:
        out = signers.sign_pdf(
            IncrementalPdfFileWriter(io.BytesIO(data)), meta, signer=_signer(), timestamper=timestamper
        )
    except Exception as exc:  # the time-stamp authority unreachable or refusing: no document without its timestamp
        if timestamper is None:
            raise
        raise SigningError(_("The time-stamp authority did not answer: %(e)s") % {"e": exc}) from None
    return bytes(out.getvalue())


def _trusted_roots() -> list[Any]:
    from asn1crypto import x509 as ax509

    return [ax509.Certificate.load(p.read_bytes()) for p in sorted((_folder() / "trusted").glob("*.der"))]


def verify_pdf(data: bytes) -> Verdict:
    """Whether the PDF carries a valid signature of a bureau certificate, unchanged since it was signed."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        sigs = reader.embedded_signatures
    except Exception:  # not a PDF, or a damaged one
        return Verdict(False, problem=_("The file is not a readable PDF."))
    if not sigs:
        return Verdict(False, problem=_("The document carries no signature."))
    sig = sigs[-1]
    try:
        status = validate_pdf_signature(sig, ValidationContext(trust_roots=_trusted_roots(), allow_fetching=False))
    except Exception:  # a malformed signature dictionary or CMS blob
        return Verdict(False, problem=_("The signature could not be read."))
    whole = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    signer = status.signing_cert.subject.native.get("common_name", "") if status.signing_cert else ""
    problem = ""
    if not status.intact:
        problem = _("The document was changed after it was signed.")
    elif not status.trusted:
        problem = _("The signature is not from a bureau certificate.")
    elif not whole:
        problem = _("Content was added to the document after it was signed.")
    return Verdict(
        valid=bool(status.intact and status.valid and status.trusted and whole),
        signer=str(signer),
        signed_at=status.signer_reported_dt,
        intact=bool(status.intact),
        trusted=bool(status.trusted),
        whole_file=whole,
        problem=problem,
        timestamp=_timestamp(status),
    )


def _timestamp(status: Any) -> dt.datetime | None:
    ts = getattr(status, "timestamp_validity", None)
    if ts is None or not getattr(ts, "intact", False) or not getattr(ts, "valid", False):
        return None
    at: dt.datetime | None = getattr(ts, "timestamp", None)
    return at
