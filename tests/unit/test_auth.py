"""Settings and token providers, without a real sign-in.

Nothing here makes msal return a token. Sign-in paths run against an
authority on a closed loopback port (https://127.0.0.1:9), so they fail the way
an unreachable network fails. Where a saved account matters (status, logout,
mode selection), the cache gets an account record as msal writes it, with no
access or refresh token in it.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import logging
import os
import stat

import anyio
import pytest
from pydantic import SecretStr

from outlook_calendar_mcp import auth
from outlook_calendar_mcp.auth import (
    AppMsalProvider,
    DelegatedMsalProvider,
    SandboxTokenProvider,
    StaticTokenProvider,
    TokenProvider,
    build_token_provider,
    certificate_credential,
    effective_backend,
    has_graph_credentials,
    open_token_cache,
    resolve_mode,
)
from outlook_calendar_mcp.config import DEFAULT_CLIENT_ID, DEFAULT_SCOPES, Settings
from outlook_calendar_mcp.graph import (
    AuthenticationFailed,
    AuthenticationRequired,
    ConfigurationError,
    GraphTransportError,
)
from tests.instants import suite_instant

UNREACHABLE = "https://127.0.0.1:9"
SECRETS = ("client-secret-value-xyz", "cert-password-xyz", "static.token.xyz")


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def jwt(claims: dict) -> str:
    return f"{b64({'alg': 'none'})}.{b64(claims)}.sig"


@pytest.fixture
def make(tmp_path, monkeypatch):
    for name in list(os.environ):
        if name.startswith("OUTLOOK_MCP_"):
            monkeypatch.delenv(name)

    def factory(**kw) -> Settings:
        kw.setdefault("token_cache_encryption", "off")
        return Settings(data_dir=tmp_path / "data", cache_dir=tmp_path / "cache", authority_host=UNREACHABLE, **kw)

    return factory


def seed_account(settings: Settings, username: str = "alice@contoso.com") -> None:
    """An account record, shaped as msal stores it after a sign-in, with no token in it."""
    claims = {"tid": "tid-1", "oid": "oid-1", "sub": "sub-1", "preferred_username": username, "name": "Alice"}
    open_token_cache(settings).add({
        "client_id": settings.client_id,
        "scope": ["Calendars.ReadWrite"],
        "token_endpoint": "https://login.microsoftonline.com/tid-1/oauth2/v2.0/token",
        "environment": "login.microsoftonline.com",
        "response": {"id_token": jwt(claims), "client_info": b64({"uid": "oid-1", "utid": "tid-1"})},
    })


def app_settings(make, **kw) -> Settings:
    base = dict(client_secret="client-secret-value-xyz", mailbox="room@contoso.com",
                tenant_id="contoso.onmicrosoft.com", client_id="11111111-2222-3333-4444-555555555555")
    return make(**{**base, **kw})


# --- settings -----------------------------------------------------------------------------
def test_settings_defaults(make, tmp_path):
    s = make()
    assert (s.backend, s.auth_mode, s.tenant_id, s.client_id) == ("auto", "auto", "common", DEFAULT_CLIENT_ID)
    assert s.scopes == DEFAULT_SCOPES
    assert s.graph_scopes()[0] == "https://graph.microsoft.com/Calendars.ReadWrite"
    assert s.sandbox_db == str(tmp_path / "data" / "sandbox.db")
    assert s.token_cache_path == tmp_path / "data" / "msal_token_cache.bin"
    assert (s.timeout_s, s.max_retries, s.retry_budget_s, s.max_items) == (30.0, 4, 60.0, 500)
    assert s.authority == f"{UNREACHABLE}/common"


def test_settings_from_environment(make, monkeypatch):
    monkeypatch.setenv("OUTLOOK_MCP_SCOPES", "Calendars.Read, offline_access User.Read")
    monkeypatch.setenv("OUTLOOK_MCP_CLIENT_SECRET", "  ")
    monkeypatch.setenv("OUTLOOK_MCP_SANDBOX_DB", ":memory:")
    monkeypatch.setenv("OUTLOOK_MCP_GRAPH_URL", "https://graph.microsoft.us/v1.0/")
    monkeypatch.setenv("OUTLOOK_MCP_MAX_ITEMS", "50")
    s = make()
    assert s.scopes == ("Calendars.Read", "User.Read")  # msal adds offline_access itself
    assert s.client_secret is None
    assert s.sandbox_db == ":memory:"
    assert s.graph_scopes() == ["https://graph.microsoft.us/Calendars.Read", "https://graph.microsoft.us/User.Read"]
    assert s.max_items == 50


def test_secrets_never_in_repr_or_dumps(make, tmp_path):
    pem = tmp_path / "cert.pem"
    s = make(client_secret=SECRETS[0], certificate_password=SECRETS[1], access_token=SECRETS[2],
             certificate_path=pem)
    for text in (repr(s), str(s), s.model_dump_json(), json.dumps(auth.status(s))):
        assert not any(secret in text for secret in SECRETS)
    assert s.access_token.get_secret_value() == SECRETS[2]


# --- mode selection --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kw", "backend", "mode"),
    [
        ({}, "sandbox", "sandbox"),
        ({"backend": "sandbox"}, "sandbox", "sandbox"),
        ({"auth_mode": "sandbox"}, "sandbox", "sandbox"),
        ({"sandbox_url": "http://127.0.0.1:8765/v1.0"}, "sandbox", "sandbox"),
        ({"backend": "sandbox", "access_token": "t"}, "sandbox", "sandbox"),
        ({"access_token": "t"}, "graph", "token"),
        ({"certificate_path": "c.pem"}, "graph", "certificate"),
        ({"client_secret": "s"}, "graph", "client_secret"),
        ({"access_token": "t", "certificate_path": "c.pem", "client_secret": "s"}, "graph", "token"),
        ({"certificate_path": "c.pem", "client_secret": "s"}, "graph", "certificate"),
        ({"backend": "graph"}, "graph", "device_code"),
        ({"auth_mode": "device_code"}, "graph", "device_code"),
        ({"auth_mode": "browser"}, "graph", "browser"),
        ({"auth_mode": "client_secret", "client_secret": "s", "access_token": "t"}, "graph", "client_secret"),
        ({"auth_mode": "token", "access_token": "t", "backend": "graph"}, "graph", "token"),
        ({"auth_mode": "certificate", "certificate_path": "c.pem"}, "graph", "certificate"),
    ],
)
def test_mode_selection(make, kw, backend, mode):
    s = make(**kw)
    assert (effective_backend(s), resolve_mode(s)) == (backend, mode)


@pytest.mark.parametrize(
    ("kw", "needle"),
    [
        ({"auth_mode": "token"}, "OUTLOOK_MCP_ACCESS_TOKEN"),
        ({"auth_mode": "certificate"}, "OUTLOOK_MCP_CERTIFICATE_PATH"),
        ({"auth_mode": "client_secret"}, "OUTLOOK_MCP_CLIENT_SECRET"),
        ({"backend": "sandbox", "auth_mode": "device_code"}, "--backend graph"),
        ({"backend": "graph", "auth_mode": "sandbox"}, "--backend sandbox"),
    ],
)
def test_impossible_combinations_say_what_to_change(make, kw, needle):
    with pytest.raises(ConfigurationError) as info:
        build_token_provider(make(**kw))
    assert needle in str(info.value)


def test_a_saved_account_selects_graph(make):
    s = make()
    assert (has_graph_credentials(s), effective_backend(s)) == (False, "sandbox")
    seed_account(s)
    assert (has_graph_credentials(s), effective_backend(s), resolve_mode(s)) == (True, "graph", "device_code")
    assert isinstance(build_token_provider(s), DelegatedMsalProvider)


def test_providers_built_for_each_mode(make):
    assert isinstance(build_token_provider(make()), SandboxTokenProvider)
    assert isinstance(build_token_provider(make(access_token="t")), StaticTokenProvider)
    assert isinstance(build_token_provider(make(backend="graph")), DelegatedMsalProvider)
    app = build_token_provider(app_settings(make))  # no network until the first token
    assert isinstance(app, AppMsalProvider) and app.app_only
    assert "room@contoso.com" in app.description and "client secret" in app.description
    for provider in (app, build_token_provider(make())):
        assert isinstance(provider, TokenProvider)


# --- providers ----------------------------------------------------------------------------------
def test_sandbox_tokens():
    assert anyio.run(SandboxTokenProvider().get_token) == "sandbox"
    assert anyio.run(SandboxTokenProvider("alice@contoso.com").get_token) == "sandbox:alice@contoso.com"
    assert anyio.run(SandboxTokenProvider(app_only=True).get_token) == "sandbox-app"
    assert SandboxTokenProvider(app_only=True).app_only


def test_static_token_reads_claims_without_trusting_them():
    exp = 2_000_000_000
    delegated = StaticTokenProvider(SecretStr(jwt({"scp": "Calendars.Read", "upn": "bob@contoso.com", "exp": exp})))
    assert (delegated.app_only, delegated.subject, delegated.expires_at) == (False, "bob@contoso.com", exp)
    assert delegated.description == "static bearer token for bob@contoso.com"
    app = StaticTokenProvider(SecretStr(jwt({"roles": ["Calendars.ReadWrite"], "idtyp": "app"})))
    assert app.app_only
    opaque = StaticTokenProvider(SecretStr("not-a-jwt"))
    assert (opaque.app_only, opaque.expires_at, anyio.run(opaque.get_token)) == (False, None, "not-a-jwt")


def test_nothing_configured_means_authentication_required(make):
    provider = build_token_provider(make(backend="graph"))
    with pytest.raises(AuthenticationRequired) as info:
        anyio.run(provider.get_token)
    assert str(info.value).startswith(
        "Not signed in to Microsoft 365. Run `outlook-calendar-mcp auth login` (device code) "
        "or set OUTLOOK_MCP_ACCESS_TOKEN"
    )
    assert "OUTLOOK_MCP_CLIENT_SECRET" in str(info.value) and "--backend sandbox" in str(info.value)


def test_saved_account_with_unreachable_authority_is_a_transport_error(make):
    s = make()
    seed_account(s)
    with pytest.raises(GraphTransportError) as info:
        anyio.run(build_token_provider(s).get_token)
    assert "sign-in service at https://127.0.0.1:9 (Connection refused)" in str(info.value)


@pytest.mark.parametrize(
    ("kw", "needle"),
    [
        ({"mailbox": None}, "OUTLOOK_MCP_MAILBOX"),
        ({"tenant_id": "common"}, "OUTLOOK_MCP_TENANT_ID"),
        ({"tenant_id": "organizations"}, "OUTLOOK_MCP_TENANT_ID"),
        ({"client_id": DEFAULT_CLIENT_ID}, "OUTLOOK_MCP_CLIENT_ID"),
        ({"client_secret": None, "certificate_path": "/nonexistent/cert.pem"}, "not a readable file"),
    ],
)
def test_app_only_misconfiguration_is_explained(make, kw, needle):
    with pytest.raises(ConfigurationError) as info:
        build_token_provider(app_settings(make, **kw))
    assert needle in str(info.value)
    assert "app" in str(info.value).lower() or "file" in str(info.value)


def test_app_only_against_unreachable_authority(make):
    provider = build_token_provider(app_settings(make))
    with pytest.raises(GraphTransportError, match="Connection refused"):
        anyio.run(provider.get_token)


def _self_signed():
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "outlook-calendar-mcp test")])
    now = suite_instant()
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return key_pem, cert.public_bytes(serialization.Encoding.PEM), cert.fingerprint(hashes.SHA1()).hex().upper()


def test_certificate_thumbprint_is_computed_from_the_pem(make, tmp_path):
    key_pem, cert_pem, thumbprint = _self_signed()
    both = tmp_path / "app.pem"
    both.write_bytes(key_pem + cert_pem)
    credential = certificate_credential(app_settings(make, client_secret=None, certificate_path=both))
    assert credential["thumbprint"] == thumbprint
    assert credential["private_key"].startswith("-----BEGIN PRIVATE KEY-----")
    assert "CERTIFICATE" not in credential["private_key"]

    key_only = tmp_path / "key.pem"
    key_only.write_bytes(key_pem)
    with pytest.raises(ConfigurationError, match="OUTLOOK_MCP_CERTIFICATE_THUMBPRINT"):
        certificate_credential(app_settings(make, certificate_path=key_only))
    given = certificate_credential(app_settings(make, certificate_path=key_only, certificate_thumbprint="AB12"))
    assert given["thumbprint"] == "AB12"
    provider = build_token_provider(app_settings(make, auth_mode="certificate", certificate_path=both))
    assert "certificate" in provider.description


# --- the token cache -----------------------------------------------------------------------------
def test_cache_file_is_created_private(make, tmp_path):
    s = make()
    cache = open_token_cache(s)
    assert s.token_cache_path.exists()
    assert stat.S_IMODE(s.token_cache_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(s.token_cache_path.parent.stat().st_mode) == 0o700
    assert auth.cache_kind(cache) == "plaintext file (mode 0600)"
    seed_account(s)  # msal-extensions rewrites the file; it must stay private
    assert stat.S_IMODE(s.token_cache_path.stat().st_mode) == 0o600


def test_cache_auto_encryption_falls_back_to_a_private_file(make, caplog):
    caplog.set_level(logging.INFO, logger="outlook_calendar_mcp.auth")
    s = make(token_cache_encryption="auto")
    cache = open_token_cache(s)
    if not cache.is_encrypted:
        assert stat.S_IMODE(s.token_cache_path.stat().st_mode) == 0o600
        assert "plaintext file (mode 0600)" in caplog.text and "OS encryption unavailable" in caplog.text


def test_cache_encryption_required_but_unavailable(make):
    try:
        import gi  # noqa: F401
    except ImportError:
        with pytest.raises(ConfigurationError, match="OS-encrypted token store is unavailable"):
            open_token_cache(make(token_cache_encryption="require"))
    else:
        pytest.skip("libsecret bindings present; encryption may well be available")


def test_status_and_logout_on_an_empty_cache(make):
    s = make(backend="graph")
    assert auth.logout(s) is False
    assert not s.token_cache_path.exists()  # logout creates nothing
    info = auth.status(s)
    assert info == {
        "backend": "graph", "mode": "device_code", "signed_in": False, "account": None, "tenant": "common",
        "client_id": DEFAULT_CLIENT_ID, "authority": f"{UNREACHABLE}/common", "mailbox": None,
        "cache_path": str(s.token_cache_path), "cache_kind": "plaintext file (mode 0600)",
        "token_expires_at": None, "accounts": [],
    }
    assert auth.logout(s) is False


def test_status_and_logout_with_a_saved_account(make):
    s = make()
    seed_account(s)
    info = auth.status(s)
    assert (info["signed_in"], info["account"], info["accounts"], info["mode"]) == (
        True, "alice@contoso.com", ["alice@contoso.com"], "device_code")
    assert auth.logout(s) is True
    after = auth.status(s)
    assert (after["accounts"], after["mode"], auth.cached_accounts(s)) == ([], "sandbox", [])  # auto: back to sandbox
    assert auth.status(make(backend="graph"))["signed_in"] is False
    assert auth.logout(s) is False


def test_status_reports_configuration_errors_instead_of_raising(make):
    info = auth.status(make(auth_mode="token"))
    assert info["mode"] is None and "OUTLOOK_MCP_ACCESS_TOKEN" in info["error"]
    token = jwt({"upn": "bob@contoso.com", "exp": 2_000_000_000, "scp": "Calendars.Read"})
    info = auth.status(make(access_token=token))
    assert (info["mode"], info["account"], info["token_expires_at"]) == (
        "token", "bob@contoso.com", "2033-05-18T03:33:20+00:00")
    assert token not in json.dumps(info)


# --- interactive sign-in ---------------------------------------------------------------------------
def test_device_code_login_against_unreachable_authority(make, capsys):
    out = io.StringIO()
    with pytest.raises(AuthenticationFailed) as info:
        auth.login(make(), "device_code", out=out)
    assert "Could not reach the Microsoft sign-in service at https://127.0.0.1:9 (Connection refused)" in str(
        info.value)
    assert out.getvalue() == ""
    assert capsys.readouterr().out == ""


def test_login_prompts_go_to_stderr_by_default(make, capsys):
    with pytest.raises(AuthenticationFailed):
        auth.login(make(), "device_code")
    assert capsys.readouterr().out == ""
    with pytest.raises(ValueError):
        auth.login(make(), "password")  # type: ignore[arg-type]


def test_no_secret_reaches_the_logs(make, caplog):
    caplog.set_level(logging.DEBUG)
    s = app_settings(make, certificate_password=SECRETS[1], access_token=SECRETS[2])
    build_token_provider(s)
    with pytest.raises(GraphTransportError):
        anyio.run(AppMsalProvider(s).get_token)
    auth.status(s)
    logging.getLogger("outlook_calendar_mcp").info("settings: %r", s)
    assert caplog.records
    assert not any(secret in caplog.text for secret in SECRETS)
