"""The identity platform's HTTP face, at Entra's paths (``/{tenant}/v2.0/...``, ``/{tenant}/oauth2/v2.0/...``).

::

    /{tenant}/v2.0/.well-known/openid-configuration      GET   OpenID configuration (also at the RFC 8414
    /.well-known/{oauth-authorization-server,openid-configuration}/{tenant}/v2.0     and path-inserted forms)
    /{tenant}/discovery/v2.0/keys                        GET   JWKS
    /{tenant}/oauth2/v2.0/authorize                      GET POST  code + PKCE; the sign-in page; login_hint+prompt=none
    /{tenant}/oauth2/v2.0/token                          POST  authorization_code, refresh_token, client_credentials,
                                                               jwt-bearer (on-behalf-of), device_code
    /{tenant}/oauth2/v2.0/devicecode                     POST  starts a device code sign-in
    /{tenant}/oauth2/v2.0/deviceauth                     GET POST  where a person enters the code
    /{tenant}/oauth2/v2.0/register                       POST  Dynamic Client Registration (RFC 7591), for MCP clients
    /sandbox/identity                                    GET   remote-mode settings for a server on this machine
    /sandbox/identity/consent                            POST  withhold or grant a person's consent (tests, demos)
    /sandbox/identity/stats                              GET POST  exchanges and refreshes per person; POST sets
                                                               the access tokens' lifetime (tests, demos)

``{tenant}`` is the demo tenant's id, ``contoso.com``, ``common`` or ``organizations``.
"""

from __future__ import annotations

import base64
import ipaddress
import json
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from . import pages
from .platform import (
    GRAPH,
    SERVER_APP_ID,
    SERVER_APP_URI,
    SERVER_SCOPE,
    TENANT_ALIASES,
    TENANT_ID,
    IdentityError,
    Platform,
)

__all__ = ["routes"]

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code"


def origin_of(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _tenant(request: Request) -> None:
    tenant = request.path_params.get("tenant", TENANT_ID)
    if tenant.lower() not in TENANT_ALIASES:
        raise IdentityError(
            "invalid_tenant",
            f"AADSTS90002: Tenant '{tenant}' not found. The sandbox's tenant is {TENANT_ID} (contoso.com).",
        )


def _oauth_error(e: IdentityError) -> JSONResponse:
    return JSONResponse(e.body(), status_code=e.status, headers={"Cache-Control": "no-store"})


def _is_loopback(request: Request) -> bool:
    host = request.client.host if request.client else ""
    try:
        return host == "testclient" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def routes(platform: Platform) -> list[Route]:
    """The Starlette routes of ``platform`` (listed before the Graph tree's catch-all)."""

    def metadata(request: Request) -> Response:
        try:
            _tenant(request)
        except IdentityError as e:
            return _oauth_error(e)
        root = f"{origin_of(request)}/{TENANT_ID}"
        return JSONResponse(
            {
                "issuer": platform.issuer(origin_of(request)),
                "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
                "token_endpoint": f"{root}/oauth2/v2.0/token",
                "device_authorization_endpoint": f"{root}/oauth2/v2.0/devicecode",
                "registration_endpoint": f"{root}/oauth2/v2.0/register",
                "jwks_uri": f"{root}/discovery/v2.0/keys",
                "response_types_supported": ["code"],
                "response_modes_supported": ["query"],
                "grant_types_supported": [
                    "authorization_code",
                    "refresh_token",
                    "client_credentials",
                    JWT_BEARER,
                    DEVICE_CODE,
                ],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic", "none"],
                "scopes_supported": ["openid", "profile", "email", "offline_access", SERVER_SCOPE],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "claims_supported": ["sub", "iss", "aud", "exp", "iat", "name", "oid", "tid", "preferred_username"],
                "tenant_region_scope": "NA",
            }
        )

    def keys(request: Request) -> Response:
        return JSONResponse({"keys": [platform.keys.jwk]})

    def people() -> list[dict[str, Any]]:
        return platform.users.all()

    async def authorize(request: Request) -> Response:
        params = dict(request.query_params)
        if request.method == "POST":
            params |= {k: str(v) for k, v in (await request.form()).items()}
        try:
            _tenant(request)
            app = platform.app(params.get("client_id"))
            redirect_uri = platform.check_redirect(app, params.get("redirect_uri"))
        except IdentityError as e:  # no trusted redirect URI: say it on a page, as Entra does
            return HTMLResponse(pages.error(e.description), status_code=400)

        def back(**answer: str) -> Response:
            if params.get("state") is not None:
                answer["state"] = params["state"]
            glue = "&" if "?" in redirect_uri else "?"
            return RedirectResponse(f"{redirect_uri}{glue}{urlencode(answer)}", status_code=302)

        if params.get("response_type") != "code":
            return back(
                error="unsupported_response_type", error_description="AADSTS700054: response_type must be 'code'."
            )
        if params.get("code_challenge") and params.get("code_challenge_method", "plain") != "S256":
            return back(error="invalid_request", error_description="AADSTS501491: code_challenge_method must be S256.")
        chosen = params.pop("user", None)
        if chosen is None and params.get("prompt") == "none":
            if not params.get("login_hint"):
                return back(
                    error="login_required",
                    error_description="AADSTS50058: A silent sign-in request was sent but no user is signed in: send login_hint.",
                )
            chosen = params["login_hint"]
        if chosen is None:
            visible = {k: v for k, v in params.items() if k != "user"}
            return HTMLResponse(pages.sign_in(app.name, visible, people()))
        try:
            user = platform.user(chosen)
            code = platform.issue_code(
                app, user, params.get("scope") or "openid", redirect_uri, params.get("code_challenge")
            )
        except IdentityError as e:
            return back(
                error="login_required" if "50034" in e.description else e.error, error_description=e.description
            )
        return back(code=code)

    async def token(request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        client_id, secret = form.get("client_id"), form.get("client_secret")
        basic = request.headers.get("authorization", "")
        if basic.lower().startswith("basic "):
            try:
                client_id, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
            except ValueError:
                return _oauth_error(IdentityError("invalid_client", "AADSTS7000216: malformed Basic credentials.", 401))
        origin = origin_of(request)
        grant = form.get("grant_type")
        try:
            _tenant(request)
            app = platform.authenticate_client(client_id, secret)
            if grant == "authorization_code":
                out = platform.redeem_code(
                    app, form.get("code", ""), form.get("redirect_uri"), form.get("code_verifier"), origin
                )
            elif grant == "refresh_token":
                out = platform.redeem_refresh(app, form.get("refresh_token", ""), form.get("scope"), origin)
            elif grant == "client_credentials":
                out = platform.client_credentials(app, form.get("scope", ""), origin)
            elif grant == JWT_BEARER:
                if form.get("requested_token_use") != "on_behalf_of":
                    raise IdentityError("invalid_request", "AADSTS900144: requested_token_use must be 'on_behalf_of'.")
                out = platform.on_behalf_of(app, form.get("assertion", ""), form.get("scope", ""), origin)
            elif grant == DEVICE_CODE:
                out = platform.redeem_device(app, form.get("device_code", ""), origin)
            else:
                raise IdentityError(
                    "unsupported_grant_type", f"AADSTS70003: The app requested an unsupported grant type '{grant}'."
                )
        except IdentityError as e:
            return _oauth_error(e)
        return JSONResponse(out, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    async def devicecode(request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        try:
            _tenant(request)
            app = platform.app(form.get("client_id"))
            started = platform.start_device(
                app, form.get("scope", ""), f"{origin_of(request)}/{TENANT_ID}/oauth2/v2.0/deviceauth"
            )
        except IdentityError as e:
            return _oauth_error(e)
        return JSONResponse(started)

    async def deviceauth(request: Request) -> Response:
        if request.method == "GET":
            return HTMLResponse(pages.device(people()))
        form = {k: str(v) for k, v in (await request.form()).items()}
        try:
            platform.approve_device(form.get("user_code", ""), platform.user(form.get("user", "")))
        except IdentityError as e:
            return HTMLResponse(pages.device(people(), e.description, error=True), status_code=400)
        return HTMLResponse(pages.device(people(), "Signed in. You can close this page and go back to your device."))

    async def register(request: Request) -> Response:
        try:
            doc = json.loads(await request.body() or b"{}")
            if not isinstance(doc, dict):
                raise ValueError
        except ValueError:
            return _oauth_error(IdentityError("invalid_client_metadata", "The body must be a JSON object (RFC 7591)."))
        try:
            app = platform.register(doc)
        except IdentityError as e:
            return _oauth_error(e)
        return JSONResponse(app.registered, status_code=201)

    def remote_settings(request: Request) -> Response:
        """What `serve --auth oauth` needs, for a server on this machine (the demo tenant's server secret)."""
        if not _is_loopback(request):
            return JSONResponse({"error": "forbidden", "error_description": "only from this machine"}, status_code=403)
        origin = origin_of(request)
        return JSONResponse(
            {
                "tenant_id": TENANT_ID,
                "issuer": platform.issuer(origin),
                "authority": f"{origin}/{TENANT_ID}",
                "audience": [SERVER_APP_ID, SERVER_APP_URI],
                "scope": "access_as_user",
                "client_id": SERVER_APP_ID,
                "client_secret": platform.keys.server_secret,
                "graph_url": f"{origin}/v1.0",
                "graph_resource": GRAPH,
            },
            headers={"Cache-Control": "no-store"},
        )

    async def consent(request: Request) -> Response:
        if not _is_loopback(request):
            return JSONResponse({"error": "forbidden"}, status_code=403)
        doc = json.loads(await request.body() or b"{}")
        try:
            user = platform.user(str(doc.get("user", "")))
        except IdentityError as e:
            return _oauth_error(e)
        if doc.get("granted", True):
            platform.consent_withheld.discard(user["id"])
        else:
            platform.consent_withheld.add(user["id"])
        return JSONResponse({"user": user["address"], "granted": user["id"] not in platform.consent_withheld})

    async def stats(request: Request) -> Response:
        if not _is_loopback(request):
            return JSONResponse({"error": "forbidden"}, status_code=403)
        if request.method == "POST":  # {"access_token_lifetime_s": 60}: short-lived tokens, to watch refreshes
            doc = json.loads(await request.body() or b"{}")
            platform.access_ttl_s = int(doc.get("access_token_lifetime_s") or platform.access_ttl_s)
        return JSONResponse(
            {
                "on_behalf_of": dict(platform.exchanges),
                "refreshed": dict(platform.refreshes),
                "access_token_lifetime_s": platform.access_ttl_s,
            }
        )

    return [
        Route("/{tenant}/v2.0/.well-known/openid-configuration", metadata),
        Route("/.well-known/openid-configuration/{tenant}/v2.0", metadata),
        Route("/.well-known/oauth-authorization-server/{tenant}/v2.0", metadata),
        Route("/{tenant}/discovery/v2.0/keys", keys),
        Route("/{tenant}/oauth2/v2.0/authorize", authorize, methods=["GET", "POST"]),
        Route("/{tenant}/oauth2/v2.0/token", token, methods=["POST"]),
        Route("/{tenant}/oauth2/v2.0/devicecode", devicecode, methods=["POST"]),
        Route("/{tenant}/oauth2/v2.0/deviceauth", deviceauth, methods=["GET", "POST"]),
        Route("/{tenant}/oauth2/v2.0/register", register, methods=["POST"]),
        Route("/sandbox/identity", remote_settings),
        Route("/sandbox/identity/consent", consent, methods=["POST"]),
        Route("/sandbox/identity/stats", stats, methods=["GET", "POST"]),
    ]
