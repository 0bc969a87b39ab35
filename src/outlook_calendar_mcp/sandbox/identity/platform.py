"""The Microsoft identity platform of the demo tenant, without HTTP: apps, sign-ins, grants, signed tokens.

Tokens are RS256 JWTs in the shape Entra gives v2.0 access tokens (``iss`` = ``{origin}/{tenant}/v2.0``,
``aud``, ``tid``, ``oid``, ``scp`` or ``roles``, ``azp``, ``preferred_username``...), signed with
:class:`.keys.Keys` and published as JWKS. Two resources exist: Microsoft Graph (``aud`` =
``https://graph.microsoft.com``) and the MCP server's API (``aud`` = its client id, scope
``api://{client id}/access_as_user``). Refresh tokens, codes and device codes are opaque and kept here,
in memory: restarting the sandbox signs everyone out (its keys stay, see ``keys.py``).

Errors carry Entra's codes in ``error_description`` (``AADSTS65001`` consent missing, ``AADSTS700016``
unknown app, ``AADSTS50011`` redirect URI mismatch, ``AADSTS70008`` expired code, ...).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import jwt

from ...clock import Clock
from .keys import Keys

__all__ = [
    "GRAPH",
    "SERVER_APP_ID",
    "SERVER_SCOPE",
    "TENANT_ID",
    "App",
    "IdentityError",
    "Platform",
]

TENANT_ID = "5f1c2a9e-3b7d-4e08-9c61-2d4a8b0e7f13"  # the demo organization (contoso.com)
TENANT_ALIASES = {TENANT_ID, "contoso.com", "contoso.onmicrosoft.com", "common", "organizations"}
GRAPH = "https://graph.microsoft.com"
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
SERVER_APP_ID = "6e3b8d21-0c4f-4a7e-b5d9-1f2a3c4e5d60"  # the MCP server's app registration in the demo tenant
SERVER_APP_URI = f"api://{SERVER_APP_ID}"
SERVER_SCOPE = f"{SERVER_APP_URI}/access_as_user"
GRAPH_DELEGATED = (
    "Calendars.ReadWrite", "Calendars.ReadWrite.Shared", "MailboxSettings.Read", "People.Read", "User.ReadBasic.All",
    "Place.Read.All", "User.Read",
)  # fmt: skip
ACCESS_TTL_S = 3600
CODE_TTL_S = 300
DEVICE_TTL_S = 900
OIDC = {"openid", "profile", "offline_access", "email"}


class IdentityError(Exception):
    """An OAuth error answer: ``error`` (RFC 6749) and Entra's ``AADSTS`` description."""

    def __init__(self, error: str, description: str, status: int = 400, **extra: Any) -> None:
        super().__init__(description)
        self.error, self.description, self.status, self.extra = error, description, status, extra

    def body(self) -> dict[str, Any]:
        return {"error": self.error, "error_description": self.description, **self.extra}


@dataclass
class App:
    client_id: str
    name: str
    redirect_uris: list[str] = field(default_factory=list)
    secret: str | None = None  # None: a public client (PKCE required)
    registered: dict[str, Any] = field(default_factory=dict)  # the DCR document


@dataclass
class Grant:
    """What a code, a refresh token or a device code stands for."""

    client_id: str
    user: dict[str, Any]
    scopes: list[str]
    expires: float
    redirect_uri: str | None = None
    challenge: str | None = None
    approved: bool = True


def _parse_scopes(scope: str) -> tuple[str, list[str], list[str]]:
    """(resource audience, resource scopes, OIDC scopes) of a v2.0 ``scope``; one resource per request."""
    oidc: list[str] = []
    resources: dict[str, list[str]] = {}
    for s in scope.split():
        if s in OIDC:
            oidc.append(s)
            continue
        if s.startswith((SERVER_APP_URI + "/", SERVER_APP_ID + "/")):
            resources.setdefault(SERVER_APP_ID, []).append(s.rsplit("/", 1)[1])
        elif s.startswith((GRAPH + "/", GRAPH_APP_ID + "/")):
            resources.setdefault(GRAPH, []).append(s.rsplit("/", 1)[1])
        elif "/" not in s and "://" not in s:
            resources.setdefault(GRAPH, []).append(s)  # bare scopes are Graph's, as in Entra
        else:
            raise IdentityError(
                "invalid_scope",
                f"AADSTS500011: The resource principal named {s.rsplit('/', 1)[0]} was not found in the tenant "
                f"{TENANT_ID}. The demo tenant has Microsoft Graph and the MCP server ({SERVER_APP_URI}).",
            )
    if len(resources) > 1:
        raise IdentityError(
            "invalid_scope",
            "AADSTS70011: The provided request must include a 'scope' input parameter for one resource only; "
            f"got scopes of {', '.join(sorted(resources))}.",
        )
    if not resources:
        return GRAPH, ["User.Read"], oidc
    ((aud, scopes),) = resources.items()
    return aud, scopes, oidc


class Platform:
    """Apps, people's sign-ins and the tokens of the demo tenant. Thread-safe; time from ``clock``."""

    def __init__(self, users: Any, *, clock: Clock, keys: Keys | None = None) -> None:
        self.users = users  # (address or id) -> {"id", "address", "name"} | None; and .all() -> list
        self.clock = clock
        self.keys = keys or Keys()
        self.apps: dict[str, App] = {
            SERVER_APP_ID: App(SERVER_APP_ID, "Outlook Calendar MCP (demo)", secret=self.keys.server_secret),
        }
        self.consent_withheld: set[str] = set()  # user ids without (admin or user) consent for the server app
        self._codes: dict[str, Grant] = {}
        self._refresh: dict[str, Grant] = {}
        self._devices: dict[str, Grant] = {}  # device_code -> grant (approved when the person enters the code)
        self._user_codes: dict[str, str] = {}  # user_code -> device_code
        self._lock = threading.Lock()
        # for tests and demos: exchanges and refreshes per person (address); the lifetime of access tokens
        self.exchanges: Counter[str] = Counter()
        self.refreshes: Counter[str] = Counter()
        self.access_ttl_s = ACCESS_TTL_S

    # -- names ---------------------------------------------------------------------------------
    @staticmethod
    def issuer(origin: str) -> str:
        return f"{origin.rstrip('/')}/{TENANT_ID}/v2.0"

    def now(self) -> float:
        return self.clock.now().timestamp()

    # -- apps ----------------------------------------------------------------------------------
    def app(self, client_id: str | None) -> App:
        found = self.apps.get(client_id or "")
        if found is None:
            raise IdentityError(
                "unauthorized_client",
                f"AADSTS700016: Application with identifier '{client_id}' was not found in the directory "
                f"'{TENANT_ID}'. Register it first (POST /{TENANT_ID}/oauth2/v2.0/register).",
            )
        return found

    def authenticate_client(self, client_id: str | None, secret: str | None) -> App:
        app = self.app(client_id)
        if app.secret is not None and not (secret and secrets.compare_digest(secret, app.secret)):
            raise IdentityError(
                "invalid_client",
                f"AADSTS7000215: Invalid client secret provided for app '{client_id}'.",
                status=401,
            )
        return app

    def register(self, doc: dict[str, Any]) -> App:
        uris = doc.get("redirect_uris")
        if not isinstance(uris, list) or not uris or not all(isinstance(u, str) for u in uris):
            raise IdentityError("invalid_redirect_uri", "redirect_uris: give at least one redirect URI.")
        for uri in uris:
            if not (
                uri.startswith("https://") or uri.startswith(("http://127.0.0.1", "http://localhost", "http://[::1]"))
            ):
                raise IdentityError(
                    "invalid_redirect_uri", f"redirect_uris: {uri} must be https or a loopback http URI."
                )
        method = doc.get("token_endpoint_auth_method", "client_secret_basic")
        if method not in ("none", "client_secret_post", "client_secret_basic"):
            raise IdentityError("invalid_client_metadata", f"token_endpoint_auth_method {method} is not supported.")
        client_id = str(uuid.uuid4())
        secret = None if method == "none" else secrets.token_urlsafe(32)
        registered = {
            **{k: v for k, v in doc.items() if k in ("client_name", "grant_types", "response_types", "scope")},
            "client_id": client_id,
            "client_id_issued_at": int(self.now()),
            "redirect_uris": uris,
            "token_endpoint_auth_method": method,
            "grant_types": doc.get("grant_types") or ["authorization_code", "refresh_token"],
            "response_types": doc.get("response_types") or ["code"],
        }
        if secret:
            registered |= {"client_secret": secret, "client_secret_expires_at": 0}
        app = App(client_id, str(doc.get("client_name") or "MCP client"), list(uris), secret, registered)
        with self._lock:
            self.apps[client_id] = app
        return app

    # -- people --------------------------------------------------------------------------------
    def user(self, hint: str) -> dict[str, Any]:
        found = self.users(hint)
        if found is None:
            raise IdentityError(
                "invalid_grant", f"AADSTS50034: The user account {hint} does not exist in the {TENANT_ID} directory."
            )
        return found

    # -- authorization code --------------------------------------------------------------------
    def check_redirect(self, app: App, redirect_uri: str | None) -> str:
        if not redirect_uri or redirect_uri not in app.redirect_uris:
            raise IdentityError(
                "invalid_request",
                f"AADSTS50011: The redirect URI '{redirect_uri}' specified in the request does not match the "
                f"redirect URIs configured for the application '{app.client_id}'.",
            )
        return redirect_uri

    def issue_code(self, app: App, user: dict[str, Any], scope: str, redirect_uri: str, challenge: str | None) -> str:
        _parse_scopes(scope)  # a bad scope fails at the authorize step, as in Entra
        if app.secret is None and not challenge:
            raise IdentityError(
                "invalid_request", "AADSTS9002325: Proof Key for Code Exchange is required for cross-origin "
                "and public clients: send code_challenge with code_challenge_method=S256."
            )  # fmt: skip
        code = "code." + secrets.token_urlsafe(32)
        with self._lock:
            self._codes[code] = Grant(
                app.client_id, user, scope.split(), self.now() + CODE_TTL_S, redirect_uri, challenge
            )
        return code

    def redeem_code(
        self, app: App, code: str, redirect_uri: str | None, verifier: str | None, origin: str
    ) -> dict[str, Any]:
        with self._lock:
            grant = self._codes.pop(code, None)
        if grant is None or grant.client_id != app.client_id:
            raise IdentityError(
                "invalid_grant", "AADSTS70000: The provided authorization code is invalid or was already used."
            )
        if grant.expires <= self.now():
            raise IdentityError("invalid_grant", "AADSTS70008: The provided authorization code has expired.")
        if redirect_uri != grant.redirect_uri:
            raise IdentityError(
                "invalid_grant", "AADSTS500112: The redirect_uri does not match the one of the authorization request."
            )
        if grant.challenge:
            digest = base64.urlsafe_b64encode(hashlib.sha256((verifier or "").encode()).digest()).rstrip(b"=").decode()
            if not verifier or not secrets.compare_digest(digest, grant.challenge):
                raise IdentityError(
                    "invalid_grant", "AADSTS501481: The code_verifier does not match the code_challenge."
                )
        return self._tokens(app, grant.user, " ".join(grant.scopes), origin)

    # -- refresh, client credentials, device code -----------------------------------------------
    def redeem_refresh(self, app: App, token: str, scope: str | None, origin: str) -> dict[str, Any]:
        with self._lock:
            grant = self._refresh.pop(token, None)
        if grant is None or grant.client_id != app.client_id or grant.expires <= self.now():
            raise IdentityError(
                "invalid_grant", "AADSTS700082: The refresh token has expired or is invalid. Sign in again."
            )
        with self._lock:
            self.refreshes[grant.user["address"]] += 1
        return self._tokens(app, grant.user, scope or " ".join(grant.scopes), origin)

    def client_credentials(self, app: App, scope: str, origin: str) -> dict[str, Any]:
        if app.secret is None:
            raise IdentityError(
                "invalid_client", "AADSTS7000218: client_credentials needs a confidential client (a secret)."
            )
        if not scope.endswith("/.default"):
            raise IdentityError(
                "invalid_scope",
                "AADSTS1002012: The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier.",
            )
        aud = GRAPH if scope.startswith((GRAPH, GRAPH_APP_ID)) else None
        if aud is None:
            raise IdentityError(
                "invalid_scope", f"AADSTS500011: The resource principal {scope} was not found in the tenant."
            )
        claims = {"roles": ["Calendars.ReadWrite", "MailboxSettings.Read", "User.Read.All", "Place.Read.All"],
                  "idtyp": "app", "oid": app.client_id, "sub": app.client_id}  # fmt: skip
        return {
            "token_type": "Bearer",
            "expires_in": ACCESS_TTL_S,
            "access_token": self.mint(origin, aud, app.client_id, claims),
        }

    def start_device(self, app: App, scope: str, verification_uri: str) -> dict[str, Any]:
        _parse_scopes(scope)
        device_code = "device." + secrets.token_urlsafe(32)
        user_code = "".join(secrets.choice("BCDFGHJKLMNPQRSTVWXZ") for _ in range(8))
        with self._lock:
            self._devices[device_code] = Grant(
                app.client_id, {}, scope.split(), self.now() + DEVICE_TTL_S, approved=False
            )
            self._user_codes[user_code] = device_code
        return {
            "device_code": device_code, "user_code": user_code, "verification_uri": verification_uri,
            "expires_in": DEVICE_TTL_S, "interval": 1,
            "message": f"To sign in, use a web browser to open the page {verification_uri} and enter the code "
            f"{user_code} to authenticate.",
        }  # fmt: skip

    def approve_device(self, user_code: str, user: dict[str, Any]) -> None:
        with self._lock:
            grant = self._devices.get(self._user_codes.pop(user_code.strip().upper(), ""))
            if grant is None or grant.expires <= self.now():
                raise IdentityError("invalid_grant", "AADSTS70019: The code was not found or has expired. Start again.")
            grant.user, grant.approved = user, True

    def redeem_device(self, app: App, device_code: str, origin: str) -> dict[str, Any]:
        with self._lock:
            grant = self._devices.get(device_code)
            if grant is None or grant.client_id != app.client_id:
                raise IdentityError("invalid_grant", "AADSTS70000: The device code is invalid.")
            if grant.expires <= self.now():
                self._devices.pop(device_code, None)
                raise IdentityError("expired_token", "AADSTS70020: The device code has expired.")
            if not grant.approved:
                raise IdentityError(
                    "authorization_pending",
                    "AADSTS70016: OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
                )
            self._devices.pop(device_code, None)
        return self._tokens(app, grant.user, " ".join(grant.scopes), origin)

    # -- on-behalf-of --------------------------------------------------------------------------
    def on_behalf_of(self, app: App, assertion: str, scope: str, origin: str) -> dict[str, Any]:
        try:
            claims = self.verify(assertion)
        except IdentityError as e:
            raise IdentityError(
                "invalid_grant", f"AADSTS50013: Assertion failed signature validation. ({e.description})"
            ) from None
        if claims.get("aud") not in (app.client_id, f"api://{app.client_id}"):
            raise IdentityError(
                "invalid_grant",
                "AADSTS500131: Assertion audience does not match the Client app presenting the assertion. The audience "
                f"in the assertion was '{claims.get('aud')}' and the expected audience is '{app.client_id}'.",
            )
        if claims.get("idtyp") == "app" or "scp" not in claims:
            raise IdentityError("invalid_grant", "AADSTS50034: on-behalf-of needs a user's token, not an app's.")
        user = self.user(claims["oid"])
        aud, _, _ = _parse_scopes(scope)
        if aud == GRAPH and user["id"] in self.consent_withheld:
            raise IdentityError(
                "invalid_grant",
                f"AADSTS65001: The user or administrator has not consented to use the application with ID "
                f"'{app.client_id}' named '{app.name}'. Send an interactive authorization request for this user "
                "and resource.",
                suberror="consent_required",
                error_codes=[65001],
            )
        with self._lock:
            self.exchanges[user["address"]] += 1
        return self._tokens(app, user, scope, origin, refresh=True)

    # -- tokens --------------------------------------------------------------------------------
    def _tokens(self, app: App, user: dict[str, Any], scope: str, origin: str, refresh: bool = False) -> dict[str, Any]:
        aud, scopes, oidc = _parse_scopes(scope)
        claims = {
            "scp": " ".join(scopes), "oid": user["id"], "sub": hashlib.sha256(f"{user['id']}:{app.client_id}".encode()).hexdigest()[:43],
            "preferred_username": user["address"], "upn": user["address"], "name": user["name"], "idtyp": "user",
        }  # fmt: skip
        out: dict[str, Any] = {
            "token_type": "Bearer",
            "scope": " ".join(f"{SERVER_APP_URI}/{s}" if aud == SERVER_APP_ID else s for s in scopes),
            "expires_in": self.access_ttl_s,
            "ext_expires_in": self.access_ttl_s,
            "access_token": self.mint(origin, aud, app.client_id, claims, lifetime_s=self.access_ttl_s),
        }
        info = {"uid": user["id"], "utid": TENANT_ID}  # msal keys its accounts on these, as with Entra
        out["client_info"] = base64.urlsafe_b64encode(json.dumps(info).encode()).rstrip(b"=").decode()
        if "openid" in oidc:
            id_claims = {
                "oid": user["id"],
                "sub": claims["sub"],
                "preferred_username": user["address"],
                "name": user["name"],
            }
            out["id_token"] = self.mint(origin, app.client_id, app.client_id, id_claims)
        if "offline_access" in oidc or refresh:
            rt = "rt." + secrets.token_urlsafe(48)
            with self._lock:
                self._refresh[rt] = Grant(app.client_id, user, scope.split(), self.now() + 90 * 86400)
            out["refresh_token"] = rt
        return out

    def mint(self, origin: str, aud: str, azp: str, claims: dict[str, Any], *, lifetime_s: int = ACCESS_TTL_S,
             now: float | None = None) -> str:  # fmt: skip
        """A signed access token (tests use it directly for expired and odd tokens)."""
        iat = int(self.now() if now is None else now)
        body = {"iss": self.issuer(origin), "aud": aud, "tid": TENANT_ID, "azp": azp, "ver": "2.0",
                "iat": iat, "nbf": iat, "exp": iat + lifetime_s, "uti": secrets.token_urlsafe(16), **claims}  # fmt: skip
        return jwt.encode(body, self.keys.private, algorithm="RS256", headers={"kid": self.keys.kid, "typ": "JWT"})

    def verify(self, token: str, audience: str | None = None) -> dict[str, Any]:
        """The claims of a token this tenant signed (signature, lifetime on the sandbox clock, ``aud``)."""
        try:
            header = jwt.get_unverified_header(token)
            if header.get("kid") != self.keys.kid:
                raise IdentityError(
                    "invalid_token", "IDX10503: Signature validation failed: the signing key is unknown.", 401
                )
            claims = jwt.decode(token, self.keys.private.public_key(), algorithms=["RS256"],
                                options={"verify_exp": False, "verify_nbf": False, "verify_iat": False, "verify_aud": False})  # fmt: skip
        except jwt.PyJWTError as e:
            raise IdentityError("invalid_token", f"IDX10511: Signature validation failed ({e}).", 401) from None
        now = self.now()
        if not str(claims.get("iss", "")).endswith(f"/{TENANT_ID}/v2.0") or claims.get("tid") != TENANT_ID:
            raise IdentityError("invalid_token", "IDX10205: Issuer validation failed.", 401)
        if int(claims.get("exp", 0)) <= now:
            raise IdentityError("invalid_token", "IDX10223: Lifetime validation failed. The token is expired.", 401)
        if int(claims.get("nbf", 0)) > now + 300:
            raise IdentityError(
                "invalid_token", "IDX10222: Lifetime validation failed. The token is not yet valid.", 401
            )
        if audience is not None and claims.get("aud") != audience:
            raise IdentityError(
                "invalid_token", f"IDX10214: Audience validation failed. Audience: '{claims.get('aud')}'.", 401
            )
        return claims
