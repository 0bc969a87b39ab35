"""Token providers for the Graph client, and the ``auth login | status | logout`` commands.

Providers (all have ``app_only``, ``description`` and ``async get_token(force_refresh=)``):

* :class:`SandboxTokenProvider`  - the sandbox's tokens: ``sandbox``, ``sandbox:<address>``, ``sandbox-app``;
* :class:`StaticTokenProvider`   - a bearer token from ``OUTLOOK_MCP_ACCESS_TOKEN``;
* :class:`DelegatedMsalProvider` - the account saved by ``auth login`` (device code or browser),
  refreshed silently by msal from the persisted token cache;
* :class:`AppMsalProvider`       - app-only access with a client secret or certificate
  (needs an own app registration, an explicit tenant and ``OUTLOOK_MCP_MAILBOX``).

:func:`resolve_mode` picks one: an explicit ``auth_mode`` wins; otherwise a static
token, then a certificate, then a client secret, then the saved account. The
sandbox backend always uses sandbox tokens.

msal is synchronous, so providers run it in a worker thread. Sign-in prompts go
to stderr (or the ``out`` given), never stdout: stdout may be the MCP channel.
The token cache lives under ``data_dir``: encrypted by the OS where it can
(DPAPI, Keychain, libsecret), else a plain file with mode 0600 in a 0700 folder.
"""

from __future__ import annotations

import base64
import datetime as _dt
import functools
import json
import logging
import os
import re
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TextIO

import anyio.to_thread
from pydantic import SecretStr

from . import __version__
from .lazy import lazy_module

if TYPE_CHECKING:
    import msal
    import msal_extensions
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
else:  # imported at first use: serving the tool list needs no sign-in library (see lazy.py)
    msal = lazy_module("msal")
    msal_extensions = lazy_module("msal_extensions")
    x509 = lazy_module("cryptography.x509")
    hashes = lazy_module("cryptography.hazmat.primitives.hashes")
from .config import DEFAULT_CLIENT_ID, Settings
from .graph.client import TokenProvider
from .graph.errors import (
    SIGN_IN_HELP,
    AuthenticationFailed,
    AuthenticationRequired,
    ConfigurationError,
    GraphTransportError,
)

__all__ = [
    "AppMsalProvider",
    "DelegatedMsalProvider",
    "SandboxTokenProvider",
    "StaticTokenProvider",
    "TokenProvider",
    "build_token_provider",
    "cached_accounts",
    "login",
    "logout",
    "open_token_cache",
    "resolve_mode",
    "status",
]

logger = logging.getLogger(__name__)

Mode = Literal["sandbox", "token", "certificate", "client_secret", "device_code", "browser"]
_NETWORK_ERRORS = (OSError,)  # requests' RequestException is an OSError; naming it would import requests at start


class _CredentialType:  # msal.TokenCache.CredentialType, read at first use (naming it would import msal at start)
    def __getattr__(self, name: str) -> str:
        return str(getattr(msal.TokenCache.CredentialType, name))


_CT = _CredentialType()
_REFRESH_MARGIN_S = 300  # hand out a memoized token only while it has 5 more minutes


class SandboxTokenProvider:
    """Tokens of the sandbox's own scheme; no secret involved."""

    def __init__(self, user: str | None = None, app_only: bool = False) -> None:
        self.user, self.app_only = user, app_only
        self.description = "sandbox, app-only" if app_only else f"sandbox as {user or 'the default user'}"

    async def get_token(self, *, force_refresh: bool = False) -> str:
        if self.app_only:
            return "sandbox-app"
        return f"sandbox:{self.user}" if self.user else "sandbox"


def _jwt_claims(token: str) -> dict[str, Any]:
    """Unverified claims of a JWT (for display and app-only detection only); {} when not a JWT."""
    try:
        payload = token.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}


class StaticTokenProvider:
    """A bearer token given by the user; it cannot be refreshed."""

    def __init__(self, token: SecretStr, *, app_only: bool | None = None) -> None:
        self._token = token
        claims = _jwt_claims(token.get_secret_value())
        self.expires_at: int | None = claims.get("exp") if isinstance(claims.get("exp"), int) else None
        self.subject: str | None = (
            claims.get("upn") or claims.get("preferred_username") or claims.get("app_displayname")
        )
        self.app_only = (
            app_only
            if app_only is not None
            else (claims.get("idtyp") == "app" or ("roles" in claims and "scp" not in claims))
        )
        self.description = "static bearer token" + (f" for {self.subject}" if self.subject else "")

    async def get_token(self, *, force_refresh: bool = False) -> str:
        return self._token.get_secret_value()


# --- the token cache -------------------------------------------------------------------
def _secure_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if os.name == "posix":
        os.chmod(path, 0o700)


def _first_line(exc: BaseException | str, limit: int = 200) -> str:
    text = str(exc).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    return line if len(line) <= limit else line[: limit - 1] + "…"


@functools.cache
def _announce(kind: str, path: Path, reason: str = "") -> None:
    """Say once per process which token store is in use (logging goes to stderr)."""
    logger.info("token cache: %s at %s%s", kind, path, f" ({reason})" if reason else "")


def open_token_cache(settings: Settings) -> msal.SerializableTokenCache:
    """The persisted msal cache: OS-encrypted where available, else a 0600 file (see ``token_cache_encryption``)."""
    path = settings.token_cache_path
    _secure_dir(path.parent)
    reason = "disabled by OUTLOOK_MCP_TOKEN_CACHE_ENCRYPTION=off"
    if settings.token_cache_encryption != "off":
        try:
            persistence = msal_extensions.build_encrypted_persistence(str(path))
        except Exception as exc:  # ImportError (no gi), keyring not running, unsupported platform...
            if settings.token_cache_encryption == "require":
                raise ConfigurationError(
                    f"The OS-encrypted token store is unavailable ({_first_line(exc)}). "
                    "Set OUTLOOK_MCP_TOKEN_CACHE_ENCRYPTION=auto to allow a file readable only by you."
                ) from exc
            reason = f"OS encryption unavailable: {_first_line(exc)}"
        else:
            _announce(f"encrypted ({type(persistence).__name__})", path)
            return msal_extensions.PersistedTokenCache(persistence)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)
    if os.name == "posix":
        os.chmod(path, 0o600)
    _announce("plaintext file (mode 0600)", path, reason)
    return msal_extensions.PersistedTokenCache(msal_extensions.FilePersistence(str(path)))


def cache_kind(cache: msal.SerializableTokenCache) -> str:
    return "encrypted by the OS" if getattr(cache, "is_encrypted", False) else "plaintext file (mode 0600)"


def cached_accounts(settings: Settings) -> list[dict]:
    """Accounts saved by ``auth login``; reads the cache only if it exists (no network, no file created)."""
    if not settings.token_cache_path.exists():
        return []
    return _accounts(open_token_cache(settings))


def _accounts(cache: msal.SerializableTokenCache) -> list[dict]:
    return list(cache.find(_CT.ACCOUNT))


# --- msal applications -------------------------------------------------------------------
def _unreachable(settings: Settings, exc: BaseException) -> str:
    text = str(exc)
    errno = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", text)
    reason = errno.group(1).strip() if errno else ("timed out" if "timed out" in text else type(exc).__name__)
    return (
        f"Could not reach the Microsoft sign-in service at {settings.authority_host} ({reason}). "
        "Check the network or proxy settings (or OUTLOOK_MCP_AUTHORITY_HOST)."
    )


def _build_app(settings: Settings, factory: Any, **kwargs: Any) -> Any:
    """Create an msal app (it fetches the authority's metadata) with our errors on failure."""
    standard = settings.authority_host == "https://login.microsoftonline.com"  # else skip instance discovery
    try:
        return factory(
            settings.client_id,
            authority=settings.authority,
            timeout=settings.timeout_s,
            instance_discovery=None if standard else False,
            app_name="outlook-calendar-mcp",
            app_version=__version__,
            **kwargs,
        )
    except _NETWORK_ERRORS as exc:
        raise GraphTransportError(_unreachable(settings, exc), code="signInServiceUnreachable") from exc
    except ValueError as exc:
        raise ConfigurationError(
            f"Microsoft sign-in rejected the authority {settings.authority}: {_first_line(exc)} "
            "Check OUTLOOK_MCP_TENANT_ID (a tenant GUID or domain, or 'common')."
        ) from exc


def _describe(result: dict) -> str:
    return f"{result.get('error', 'error')}: {_first_line(result.get('error_description') or 'no description')}"


class DelegatedMsalProvider:
    """The signed-in user's tokens, from the persisted cache; msal refreshes them silently."""

    app_only = False

    def __init__(self, settings: Settings, *, cache: msal.SerializableTokenCache | None = None) -> None:
        self._settings = settings
        self._cache = cache if cache is not None else open_token_cache(settings)
        self._app: msal.PublicClientApplication | None = None
        self._lock = threading.Lock()
        self._memo: tuple[str, float] | None = None
        who = "Microsoft Graph Command Line Tools" if settings.client_id == DEFAULT_CLIENT_ID else settings.client_id
        self.description = f"delegated sign-in ({who}, tenant {settings.tenant_id})"

    async def get_token(self, *, force_refresh: bool = False) -> str:
        if not force_refresh and self._memo and self._memo[1] - time.monotonic() > _REFRESH_MARGIN_S:
            return self._memo[0]
        token, expires_in = await anyio.to_thread.run_sync(self._acquire, force_refresh)
        self._memo = (token, time.monotonic() + expires_in) if expires_in else None
        return token

    def _acquire(self, force_refresh: bool) -> tuple[str, float | None]:
        if not _accounts(self._cache):  # checked first: no network when nobody is signed in
            raise AuthenticationRequired()
        with self._lock:
            if self._app is None:
                self._app = _build_app(self._settings, msal.PublicClientApplication, token_cache=self._cache)
            app = self._app
        try:
            accounts = app.get_accounts()
            if not accounts:
                raise AuthenticationRequired()
            result = app.acquire_token_silent_with_error(
                self._settings.graph_scopes(), account=accounts[0], force_refresh=force_refresh
            )
        except _NETWORK_ERRORS as exc:
            raise GraphTransportError(_unreachable(self._settings, exc), code="signInServiceUnreachable") from exc
        who = accounts[0].get("username") or "the saved account"
        if not result or "access_token" not in result:
            why = f" ({_describe(result)})" if result else ""
            raise AuthenticationRequired(f"The saved sign-in for {who} has expired{why}. {SIGN_IN_HELP}")
        return result["access_token"], result.get("expires_in")


class AppMsalProvider:
    """App-only tokens (client credentials grant) with a client secret or a certificate."""

    app_only = True

    def __init__(self, settings: Settings, credential: Literal["client_secret", "certificate"] | None = None) -> None:
        kind = credential or ("certificate" if settings.certificate_path else "client_secret")
        for wrong, message in (
            (
                not settings.mailbox,
                "App-only access has no signed-in user, so there is no /me: set "
                "OUTLOOK_MCP_MAILBOX to the mailbox to work on (e.g. alice@contoso.com).",
            ),
            (
                settings.tenant_is_generic,
                f"App-only access needs your tenant, not '{settings.tenant_id}': set "
                "OUTLOOK_MCP_TENANT_ID to its GUID or domain (e.g. contoso.onmicrosoft.com).",
            ),
            (
                settings.client_id == DEFAULT_CLIENT_ID,
                "App-only access needs your own app registration: set OUTLOOK_MCP_CLIENT_ID to its application id.",
            ),
            (
                kind == "certificate" and not settings.certificate_path,
                "auth_mode certificate needs OUTLOOK_MCP_CERTIFICATE_PATH.",
            ),
            (
                kind == "client_secret" and not settings.client_secret,
                "auth_mode client_secret needs OUTLOOK_MCP_CLIENT_SECRET.",
            ),
        ):
            if wrong:
                raise ConfigurationError(message)
        self._credential: Any = (
            certificate_credential(settings) if kind == "certificate" else settings.client_secret.get_secret_value()  # type: ignore[union-attr]
        )
        self._settings = settings
        self._app: msal.ConfidentialClientApplication | None = None
        self._lock = threading.Lock()
        self.description = (
            f"app-only ({kind.replace('_', ' ')}, tenant {settings.tenant_id}, mailbox {settings.mailbox})"
        )

    def __repr__(self) -> str:
        return f"AppMsalProvider({self.description!r})"

    async def get_token(self, *, force_refresh: bool = False) -> str:
        return await anyio.to_thread.run_sync(self._acquire, force_refresh)

    def _acquire(self, force_refresh: bool) -> str:
        with self._lock:
            if self._app is None:
                self._app = _build_app(
                    self._settings, msal.ConfidentialClientApplication, client_credential=self._credential
                )
            app = self._app
        if force_refresh:  # msal answers from its in-memory cache first; drop the refused token
            for entry in list(app.token_cache.search(_CT.ACCESS_TOKEN)):
                app.token_cache.remove_at(entry)
        try:
            result = app.acquire_token_for_client(scopes=self._settings.app_only_scope())
        except _NETWORK_ERRORS as exc:
            raise GraphTransportError(_unreachable(self._settings, exc), code="signInServiceUnreachable") from exc
        if "access_token" not in result:
            raise AuthenticationFailed(f"Microsoft refused the app's credentials ({_describe(result)}).")
        return result["access_token"]


# --- credentials and the backend ------------------------------------------------------------
_PEM_KEY = re.compile(r"-----BEGIN ([A-Z ]*)PRIVATE KEY-----.+?-----END \1PRIVATE KEY-----", re.S)
_PEM_CERT = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)


def certificate_credential(settings: Settings) -> dict[str, str]:
    """msal's ``client_credential`` for ``certificate_path``: a PFX path, or a PEM key with its SHA-1 thumbprint."""
    path = settings.certificate_path
    if path is None or not path.is_file():
        raise ConfigurationError(f"OUTLOOK_MCP_CERTIFICATE_PATH points to {path}, which is not a readable file.")
    password = {"passphrase": settings.certificate_password.get_secret_value()} if settings.certificate_password else {}
    if path.suffix.lower() in {".pfx", ".p12"}:
        return {"private_key_pfx_path": str(path), **password}
    pem = path.read_text(encoding="utf-8", errors="replace")
    key = _PEM_KEY.search(pem)
    if not key:
        raise ConfigurationError(f"{path} holds no PEM private key; give a PEM with key and certificate, or a PFX.")
    thumbprint = settings.certificate_thumbprint
    if not thumbprint:
        cert = _PEM_CERT.search(pem)
        if not cert:
            raise ConfigurationError(
                f"{path} holds no certificate to compute the thumbprint from: append it, "
                "or set OUTLOOK_MCP_CERTIFICATE_THUMBPRINT."
            )
        thumbprint = x509.load_pem_x509_certificate(cert.group(0).encode()).fingerprint(hashes.SHA1()).hex().upper()
    return {"private_key": key.group(0), "thumbprint": thumbprint, **password}


def has_graph_credentials(settings: Settings) -> bool:
    """A static token, client secret or certificate is configured, or the token cache holds an account."""
    if settings.access_token or settings.client_secret or settings.certificate_path:
        return True
    try:
        return bool(cached_accounts(settings))
    except Exception as exc:  # an unreadable cache means "no usable account", not a crash
        logger.warning("could not read the token cache at %s: %s", settings.token_cache_path, exc)
        return False


def effective_backend(settings: Settings) -> Literal["sandbox", "graph"]:
    """Resolve ``backend="auto"``: an explicit auth mode or sandbox URL decides, else whether credentials exist."""
    if settings.backend != "auto":
        return settings.backend
    if settings.auth_mode == "sandbox" or settings.sandbox_url:
        return "sandbox"
    if settings.auth_mode != "auto":
        return "graph"
    return "graph" if has_graph_credentials(settings) else "sandbox"


def resolve_mode(settings: Settings) -> Mode:
    """Which credentials the server will use; raises ConfigurationError for combinations that cannot work."""
    backend, mode = effective_backend(settings), settings.auth_mode
    if backend == "sandbox":
        if mode in ("auto", "sandbox"):
            return "sandbox"
        raise ConfigurationError(
            f"auth_mode '{mode}' signs in to Microsoft, but the backend is the sandbox, which takes only "
            "sandbox tokens. Use --backend graph, or leave OUTLOOK_MCP_AUTH_MODE unset."
        )
    if mode == "sandbox":
        raise ConfigurationError("auth_mode 'sandbox' works only with --backend sandbox.")
    required = {
        "token": ("access_token", "OUTLOOK_MCP_ACCESS_TOKEN"),
        "certificate": ("certificate_path", "OUTLOOK_MCP_CERTIFICATE_PATH"),
        "client_secret": ("client_secret", "OUTLOOK_MCP_CLIENT_SECRET"),
    }
    if mode in ("token", "certificate", "client_secret"):
        field, env = required[mode]
        if not getattr(settings, field):
            raise ConfigurationError(f"auth_mode '{mode}' needs {env}.")
        return mode
    if mode in ("device_code", "browser"):
        return mode
    if settings.access_token:
        return "token"
    if settings.certificate_path:
        return "certificate"
    if settings.client_secret:
        return "client_secret"
    return "device_code"  # the saved account; AuthenticationRequired at first use if there is none


def build_token_provider(settings: Settings) -> TokenProvider:
    mode = resolve_mode(settings)
    if mode == "sandbox":
        return SandboxTokenProvider(settings.sandbox_user)
    if mode == "token":
        assert settings.access_token is not None
        return StaticTokenProvider(settings.access_token)
    if mode in ("certificate", "client_secret"):
        return AppMsalProvider(settings, mode)
    return DelegatedMsalProvider(settings)


# --- auth login | status | logout ----------------------------------------------------------
def login(
    settings: Settings, method: Literal["device_code", "browser"] = "device_code", *, out: TextIO | None = None
) -> dict[str, Any]:
    """Sign in interactively and keep only that account in the cache; prompts go to ``out`` (stderr)."""
    out = out if out is not None else sys.stderr
    if method not in ("device_code", "browser"):
        raise ValueError(f"unknown sign-in method {method!r}")
    cache = open_token_cache(settings)
    try:
        app = _build_app(settings, msal.PublicClientApplication, token_cache=cache)
    except GraphTransportError as exc:
        raise AuthenticationFailed(f"Sign-in failed. {exc.message}", code="signInServiceUnreachable") from exc
    scopes = settings.graph_scopes()
    try:
        if method == "device_code":
            flow = app.initiate_device_flow(scopes=scopes)
            if "user_code" not in flow:
                raise AuthenticationFailed(f"Microsoft did not start a device code sign-in ({_describe(flow)}).")
            print(flow["message"], file=out, flush=True)
            result = app.acquire_token_by_device_flow(flow)
        else:

            def announce(ui: str = "browser", **_: Any) -> None:
                print(f"Opening a {ui} window to sign in to Microsoft 365...", file=out, flush=True)

            result = app.acquire_token_interactive(scopes, prompt="select_account", on_before_launching_ui=announce)
    except _NETWORK_ERRORS as exc:
        raise AuthenticationFailed(f"Sign-in failed. {_unreachable(settings, exc)}") from exc
    if "access_token" not in result:
        raise AuthenticationFailed(f"Sign-in failed ({_describe(result)}).")
    claims = result.get("id_token_claims") or {}
    username = claims.get("preferred_username") or claims.get("upn") or claims.get("email")
    kept = None
    for account in app.get_accounts():  # one signed-in account at a time: forget earlier ones
        if kept is None and username and account.get("username", "").lower() == username.lower():
            kept = account
        elif username:
            app.remove_account(account)
    print(f"Signed in as {username or 'an unnamed account'}.", file=out, flush=True)
    return {
        "username": username,
        "name": claims.get("name"),
        "tenant_id": claims.get("tid"),
        "home_account_id": kept.get("home_account_id") if kept else None,
    }


def _iso(epoch: float | int | str | None) -> str | None:
    return _dt.datetime.fromtimestamp(int(epoch), _dt.UTC).isoformat() if epoch not in (None, "") else None


def status(settings: Settings) -> dict[str, Any]:
    """What the server would use, without network and without any token or secret."""
    info: dict[str, Any] = {
        "backend": None,
        "mode": None,
        "signed_in": False,
        "account": None,
        "tenant": settings.tenant_id,
        "client_id": settings.client_id,
        "authority": settings.authority,
        "mailbox": settings.mailbox,
        "cache_path": str(settings.token_cache_path),
        "cache_kind": None,
        "token_expires_at": None,
    }
    try:
        info["backend"] = effective_backend(settings)
        info["mode"] = resolve_mode(settings)
    except ConfigurationError as exc:
        info["error"] = exc.message
    cache = open_token_cache(settings)
    info["cache_kind"] = cache_kind(cache)
    accounts = _accounts(cache)
    info["accounts"] = [a.get("username") for a in accounts]
    mode = info["mode"]
    if mode == "token" and settings.access_token:
        provider = StaticTokenProvider(settings.access_token)
        info.update(signed_in=True, account=provider.subject, token_expires_at=_iso(provider.expires_at))
    elif mode in ("certificate", "client_secret"):
        info.update(signed_in=True, account=f"app {settings.client_id}")
    elif mode == "sandbox":
        info.update(signed_in=True, account=settings.sandbox_user or "sandbox default user")
    elif accounts:
        home = accounts[0].get("home_account_id")
        expiries = [e.get("expires_on") for e in cache.find(_CT.ACCESS_TOKEN) if e.get("home_account_id") == home]
        info.update(
            signed_in=True,
            account=accounts[0].get("username"),
            token_expires_at=_iso(max(int(e) for e in expiries)) if expiries else None,
        )
    return info


def logout(settings: Settings) -> bool:
    """Forget every saved account and its tokens; True if there was one."""
    if not settings.token_cache_path.exists():
        return False
    cache = open_token_cache(settings)
    accounts = _accounts(cache)
    removers = (
        (_CT.REFRESH_TOKEN, cache.remove_rt),
        (_CT.ACCESS_TOKEN, cache.remove_at),
        (_CT.ID_TOKEN, cache.remove_idt),
        (_CT.ACCOUNT, cache.remove_account),
    )
    for credential_type, remove in removers:
        for entry in list(cache.find(credential_type)):
            remove(entry)
    if accounts:
        logger.info("signed out %s", ", ".join(a.get("username") or "?" for a in accounts))
    return bool(accounts)
