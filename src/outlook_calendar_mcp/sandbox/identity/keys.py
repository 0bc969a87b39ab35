"""The demo tenant's secrets, made on first use: the token signing key, the MCP server app's client secret,
and a local certificate authority with a certificate for ``127.0.0.1``/``localhost`` (HTTPS for msal).

With a folder (``sandbox serve``: ``data_dir/sandbox-identity``) they are written there (0600) and reused,
so tokens and the CA stay valid across restarts; without one (tests in process) they live in memory.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import ipaddress
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

__all__ = ["Keys", "TlsFiles", "make_tls"]


def _b64(n: int) -> str:
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


class Keys:
    """The RSA signing key (its ``kid`` and JWK) and the server app's client secret."""

    def __init__(self, folder: Path | None = None) -> None:
        key_file = folder / "signing-key.pem" if folder else None
        if key_file and key_file.is_file():
            loaded = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
            assert isinstance(loaded, rsa.RSAPrivateKey)
            self.private = loaded
        else:
            self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            if key_file:
                pem = self.private.private_bytes(
                    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
                )
                _write_private(key_file, pem)
        numbers = self.private.public_key().public_numbers()
        self.kid = hashlib.sha256(_b64(numbers.n).encode()).hexdigest()[:27]
        self.jwk: dict[str, Any] = {
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid, "n": _b64(numbers.n), "e": _b64(numbers.e)
        }  # fmt: skip
        secret_file = folder / "server-app.json" if folder else None
        if secret_file and secret_file.is_file():
            self.server_secret = json.loads(secret_file.read_text())["client_secret"]
        else:
            self.server_secret = "sbx~" + secrets.token_urlsafe(30)
            if secret_file:
                _write_private(secret_file, json.dumps({"client_secret": self.server_secret}).encode())


@dataclass(frozen=True)
class TlsFiles:
    ca: Path
    cert: Path
    key: Path


def make_tls(folder: Path, now: dt.datetime) -> TlsFiles:
    """A local CA (``ca.pem``, made once) and a certificate it signs for 127.0.0.1, ::1 and localhost."""
    files = TlsFiles(folder / "ca.pem", folder / "tls-cert.pem", folder / "tls-key.pem")
    if files.ca.is_file() and files.cert.is_file() and files.key.is_file():
        return files
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "outlook-calendar-mcp sandbox local CA")])
    # OpenSSL checks validity against the system clock, which may be years from a time-travelled sandbox clock
    start, end = now - dt.timedelta(days=5 * 366), now + dt.timedelta(days=10 * 366)
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
             x509.IPAddress(ipaddress.ip_address("::1"))]  # fmt: skip
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    _write_private(
        files.key,
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
    )
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))  # public: what clients trust
    return files
