"""The sandbox as the demo tenant's Microsoft identity platform: metadata, JWKS, each grant, DCR, and the
sandbox's Graph accepting (only) the Graph tokens it issued. In process (starlette's TestClient on https)."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from starlette.testclient import TestClient

from outlook_calendar_mcp.sandbox import Sandbox
from outlook_calendar_mcp.sandbox.identity import GRAPH, SERVER_APP_ID, SERVER_SCOPE, TENANT_ID
from tests.sandbox.conftest import NOW

ORIGIN = "https://sandbox.test"
ROOT = f"/{TENANT_ID}/oauth2/v2.0"
REDIRECT = "http://127.0.0.1:33418/callback"
GRAPH_SCOPES = "https://graph.microsoft.com/Calendars.ReadWrite https://graph.microsoft.com/User.Read"


@pytest.fixture
def sandbox(clock) -> Sandbox:
    clock.set(NOW)
    return Sandbox(":memory:", clock=clock)


@pytest.fixture
def http(sandbox: Sandbox) -> TestClient:
    return TestClient(sandbox.app, base_url=ORIGIN, follow_redirects=False)


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def register(http: TestClient) -> str:
    made = http.post(f"{ROOT}/register", json={"redirect_uris": [REDIRECT], "client_name": "Test client",
                                               "token_endpoint_auth_method": "none"})
    assert made.status_code == 201, made.text
    assert "client_secret" not in made.json()
    return made.json()["client_id"]


def sign_in(http: TestClient, client_id: str, who: str, scope: str = f"{SERVER_SCOPE} offline_access") -> dict:
    verifier, challenge = pkce()
    answer = http.get(f"{ROOT}/authorize", params={
        "client_id": client_id, "redirect_uri": REDIRECT, "response_type": "code", "scope": scope, "state": "s1",
        "code_challenge": challenge, "code_challenge_method": "S256", "login_hint": who, "prompt": "none"})
    assert answer.status_code == 302, answer.text
    query = parse_qs(urlsplit(answer.headers["location"]).query)
    assert query["state"] == ["s1"]
    tokens = http.post(f"{ROOT}/token", data={"grant_type": "authorization_code", "client_id": client_id,
                                              "code": query["code"][0], "redirect_uri": REDIRECT, "code_verifier": verifier})
    assert tokens.status_code == 200, tokens.text
    return tokens.json()


def server_secret(http: TestClient) -> str:
    return http.get("/sandbox/identity").json()["client_secret"]


def claims(token: str, sandbox: Sandbox) -> dict:
    return jwt.decode(token, sandbox.platform.keys.private.public_key(), algorithms=["RS256"],
                      options={"verify_aud": False, "verify_exp": False, "verify_iat": False, "verify_nbf": False})


def test_metadata_and_keys_verify_the_tokens(http: TestClient, sandbox: Sandbox) -> None:
    meta = http.get(f"/{TENANT_ID}/v2.0/.well-known/openid-configuration").json()
    assert meta["issuer"] == f"{ORIGIN}/{TENANT_ID}/v2.0"
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert http.get(f"/.well-known/oauth-authorization-server/{TENANT_ID}/v2.0").json() == meta
    jwks = http.get(urlsplit(meta["jwks_uri"]).path).json()
    tokens = sign_in(http, register(http), "dana@contoso.com")
    key = jwt.PyJWK(jwks["keys"][0]).key
    got = jwt.decode(tokens["access_token"], key, algorithms=["RS256"], audience=SERVER_APP_ID,
                     options={"verify_exp": False, "verify_iat": False, "verify_nbf": False})
    assert got["iss"] == meta["issuer"] and got["scp"] == "access_as_user" and got["tid"] == TENANT_ID
    assert got["preferred_username"] == "dana@contoso.com" and got["exp"] == int(NOW.timestamp()) + 3600
    assert tokens["refresh_token"].startswith("rt.")


def test_sign_in_page_lists_the_demo_people(http: TestClient) -> None:
    client_id = register(http)
    verifier, challenge = pkce()
    params = {"client_id": client_id, "redirect_uri": REDIRECT, "response_type": "code", "scope": SERVER_SCOPE,
              "code_challenge": challenge, "code_challenge_method": "S256", "state": "x"}
    page = http.get(f"{ROOT}/authorize", params=params)
    assert page.status_code == 200 and "Adele Vance" in page.text and "dana@contoso.com" in page.text
    chosen = http.post(f"{ROOT}/authorize", params=params, data={**params, "user": "alex@contoso.com"})
    code = parse_qs(urlsplit(chosen.headers["location"]).query)["code"][0]
    token = http.post(f"{ROOT}/token", data={"grant_type": "authorization_code", "client_id": client_id, "code": code,
                                             "redirect_uri": REDIRECT, "code_verifier": verifier}).json()["access_token"]
    assert jwt.decode(token, options={"verify_signature": False})["upn"] == "alex@contoso.com"


def test_authorize_errors(http: TestClient) -> None:
    client_id = register(http)
    unknown = http.get(f"{ROOT}/authorize", params={"client_id": "nope", "redirect_uri": REDIRECT, "response_type": "code"})
    assert unknown.status_code == 400 and "AADSTS700016" in unknown.text
    wrong = http.get(f"{ROOT}/authorize", params={"client_id": client_id, "redirect_uri": "https://evil.example/cb",
                                                   "response_type": "code"})
    assert wrong.status_code == 400 and "AADSTS50011" in wrong.text and "location" not in wrong.headers
    silent = http.get(f"{ROOT}/authorize", params={"client_id": client_id, "redirect_uri": REDIRECT, "response_type": "code",
                                                    "scope": SERVER_SCOPE, "prompt": "none", "code_challenge": "x" * 43,
                                                    "code_challenge_method": "S256"})
    assert parse_qs(urlsplit(silent.headers["location"]).query)["error"] == ["login_required"]
    no_pkce = http.get(f"{ROOT}/authorize", params={"client_id": client_id, "redirect_uri": REDIRECT, "response_type": "code",
                                                     "scope": SERVER_SCOPE, "prompt": "none", "login_hint": "dana@contoso.com"})
    assert "AADSTS9002325" in parse_qs(urlsplit(no_pkce.headers["location"]).query)["error_description"][0]


def test_code_is_single_use_and_needs_the_verifier(http: TestClient) -> None:
    client_id = register(http)
    _, challenge = pkce()
    answer = http.get(f"{ROOT}/authorize", params={
        "client_id": client_id, "redirect_uri": REDIRECT, "response_type": "code", "scope": SERVER_SCOPE,
        "code_challenge": challenge, "code_challenge_method": "S256", "login_hint": "dana@contoso.com", "prompt": "none"})
    code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
    form = {"grant_type": "authorization_code", "client_id": client_id, "code": code, "redirect_uri": REDIRECT,
            "code_verifier": "wrong" * 10}
    bad = http.post(f"{ROOT}/token", data=form)
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_grant" and "AADSTS501481" in bad.json()["error_description"]
    again = http.post(f"{ROOT}/token", data=form)
    assert "AADSTS70000" in again.json()["error_description"]


def test_refresh_rotates(http: TestClient) -> None:
    client_id = register(http)
    first = sign_in(http, client_id, "dana@contoso.com")
    form = {"grant_type": "refresh_token", "client_id": client_id, "refresh_token": first["refresh_token"]}
    second = http.post(f"{ROOT}/token", data=form)
    assert second.status_code == 200 and second.json()["refresh_token"] != first["refresh_token"]
    assert http.post(f"{ROOT}/token", data=form).json()["error"] == "invalid_grant"


def test_on_behalf_of_gives_graph_tokens_the_graph_accepts(http: TestClient, sandbox: Sandbox) -> None:
    user_token = sign_in(http, register(http), "dana@contoso.com")["access_token"]
    obo = {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "client_id": SERVER_APP_ID,
           "client_secret": server_secret(http), "assertion": user_token, "scope": GRAPH_SCOPES,
           "requested_token_use": "on_behalf_of"}
    answer = http.post(f"{ROOT}/token", data=obo)
    assert answer.status_code == 200, answer.text
    graph_token = answer.json()["access_token"]
    assert claims(graph_token, sandbox)["aud"] == GRAPH
    me = http.get("/v1.0/me", headers={"Authorization": f"Bearer {graph_token}"})
    assert me.status_code == 200 and me.json()["userPrincipalName"] == "dana@contoso.com"
    # the client's own token (audience: the MCP server) is refused by Graph: no passthrough works
    refused = http.get("/v1.0/me", headers={"Authorization": f"Bearer {user_token}"})
    assert refused.status_code == 401 and "Audience validation failed" in refused.json()["error"]["message"]
    # a wrong secret, and a Graph token as the assertion, are refused with Entra's codes
    assert http.post(f"{ROOT}/token", data={**obo, "client_secret": "x"}).status_code == 401
    wrong = http.post(f"{ROOT}/token", data={**obo, "assertion": graph_token}).json()
    assert wrong["error"] == "invalid_grant" and "AADSTS500131" in wrong["error_description"]


def test_on_behalf_of_without_consent_says_aadsts65001(http: TestClient, sandbox: Sandbox) -> None:
    user_token = sign_in(http, register(http), "alex@contoso.com")["access_token"]
    assert http.post("/sandbox/identity/consent", json={"user": "alex@contoso.com", "granted": False}).json()["granted"] is False
    answer = http.post(f"{ROOT}/token", data={
        "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "client_id": SERVER_APP_ID,
        "client_secret": server_secret(http), "assertion": user_token, "scope": GRAPH_SCOPES,
        "requested_token_use": "on_behalf_of"}).json()
    assert answer["error"] == "invalid_grant" and answer["suberror"] == "consent_required"
    assert answer["error_description"].startswith("AADSTS65001")


def test_client_credentials_is_app_only_on_graph(http: TestClient) -> None:
    answer = http.post(f"{ROOT}/token", data={"grant_type": "client_credentials", "client_id": SERVER_APP_ID,
                                              "client_secret": server_secret(http), "scope": f"{GRAPH}/.default"})
    token = answer.json()["access_token"]
    assert http.get("/v1.0/me", headers={"Authorization": f"Bearer {token}"}).status_code == 400  # app-only: no /me
    assert http.get("/v1.0/users/dana@contoso.com/events", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_device_code(http: TestClient) -> None:
    client_id = register(http)
    started = http.post(f"{ROOT}/devicecode", data={"client_id": client_id, "scope": GRAPH_SCOPES}).json()
    poll = {"grant_type": "urn:ietf:params:oauth:grant-type:device_code", "client_id": client_id,
            "device_code": started["device_code"]}
    assert http.post(f"{ROOT}/token", data=poll).json()["error"] == "authorization_pending"
    page = http.post(urlsplit(started["verification_uri"]).path, data={"user_code": started["user_code"], "user": "dana@contoso.com"})
    assert page.status_code == 200 and "Signed in" in page.text
    token = http.post(f"{ROOT}/token", data=poll).json()["access_token"]
    assert http.get("/v1.0/me", headers={"Authorization": f"Bearer {token}"}).json()["userPrincipalName"] == "dana@contoso.com"


def test_graph_refuses_expired_and_foreign_tokens(http: TestClient, sandbox: Sandbox) -> None:
    p = sandbox.platform
    person = {"oid": sandbox.store.mailbox("dana@contoso.com")["id"], "scp": "Calendars.ReadWrite", "idtyp": "user"}
    expired = p.mint(ORIGIN, GRAPH, "x", person, now=NOW.timestamp() - 7200)
    answer = http.get("/v1.0/me", headers={"Authorization": f"Bearer {expired}"})
    assert answer.status_code == 401 and "expired" in answer.json()["error"]["message"]
    other_key = Sandbox(":memory:", clock=sandbox.clock).platform.mint(ORIGIN, GRAPH, "x", person)
    assert http.get("/v1.0/me", headers={"Authorization": f"Bearer {other_key}"}).status_code == 401
    assert http.get("/v1.0/me", headers={"Authorization": "Bearer sandbox:dana@contoso.com"}).status_code == 200
