"""Certificates for the TLS tests: a CA, and server and client certificates it signs.

Keys are ECDSA P-256: a new one takes microseconds, where RSA takes tens of
milliseconds. Validity is chosen per certificate, so the expiry gauge can be
checked against a known date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class Issued:
    """A certificate and its private key."""

    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def serial(self) -> int:
        return self.cert.serial_number

    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(Encoding.PEM)

    def key_pem(self) -> bytes:
        return self.key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())

    def write(self, cert_path: Path, key_path: Path) -> None:
        """Both files, written in place (truncated, then written), as `cp` would."""
        cert_path.write_bytes(self.cert_pem())
        key_path.write_bytes(self.key_pem())


def name(common_name: str, organization: str | None = None) -> x509.Name:
    """`CN=common_name[,O=organization]` in RFC 4514's order (X.509's is the reverse)."""
    parts = (
        []
        if organization is None
        else [x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization)]
    )
    return x509.Name([*parts, x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def authority(common_name: str = "Caxton test CA") -> Issued:
    """A self-signed CA, valid for a year."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = name(common_name)
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_ca_usage(), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Issued(cert, key)


def server(ca: Issued, *, days: float = 30.0) -> Issued:
    """A certificate for 127.0.0.1 and localhost, expiring `days` from now."""
    alternative = x509.SubjectAlternativeName(
        [x509.DNSName("localhost"), x509.IPAddress(IPv4Address("127.0.0.1"))]
    )
    return _issue(ca, name("localhost"), ExtendedKeyUsageOID.SERVER_AUTH, days, alternative)


def client(ca: Issued, subject: x509.Name, *, days: float = 30.0) -> Issued:
    """A client certificate for `subject`; a negative `days` makes one that has expired."""
    return _issue(ca, subject, ExtendedKeyUsageOID.CLIENT_AUTH, days, None)


def _issue(
    ca: Issued,
    subject: x509.Name,
    usage: x509.ObjectIdentifier,
    days: float,
    alternative: x509.SubjectAlternativeName | None,
) -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    expires = now + timedelta(days=days)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(min(now - timedelta(hours=1), expires - timedelta(days=1)))
        .not_valid_after(expires)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False
        )
    )
    if alternative is not None:
        builder = builder.add_extension(alternative, critical=False)
    return Issued(builder.sign(ca.key, hashes.SHA256()), key)


def _ca_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )
