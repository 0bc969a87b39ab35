"""The protected resource in process (no child processes): JwtVerifier and protect() on tokens signed by the
sandbox's identity platform, the edge cases the end-to-end tests do not reach."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from starlette.testclient import TestClient

from outlook_calendar_mcp.clock import Clock
from outlook_calendar_mcp.remote.resource import JwtVerifier, Refused, ResourceConfig, caller_token, protect
from outlook_calendar_mcp.sandbox.identity import GRAPH, SERVER_APP_ID, SERVER_APP_URI, Keys, Platform
from outlook_calendar_mcp.state import user_key
from tests.instants import suite_instant

ORIGIN = "https://id.test"
TID = "5f1c2a9e-3b7d-4e08-9c61-2d4a8b0e7f13"
DANA = {"oid": "181712cd-5754-7f5c-0582-02495422b8a2", "scp": "access_as_user", "idtyp": "user",
        "preferred_username": "dana@contoso.com"}


@pytest.fixture
def platform() -> Platform:
    return Platform(lambda _: None, clock=Clock(suite_instant(), frozen=True), keys=Keys())


@pytest.fixture
def verifier(platform: Platform) -> JwtVerifier:
    config = ResourceConfig(issuer=platform.issuer(ORIGIN), audiences=(SERVER_APP_ID, SERVER_APP_URI),
                            scope="access_as_user", resource="https://mcp.test/mcp",
                            scopes_supported=(f"{SERVER_APP_URI}/access_as_user",))
    v = JwtVerifier(config, clock=Clock(suite_instant(), frozen=True))
    v.load_keys({"keys": [platform.keys.jwk]})
    return v


def test_a_good_token_names_its_person(platform: Platform, verifier: JwtVerifier) -> None:
    caller = verifier.verify(platform.mint(ORIGIN, SERVER_APP_ID, "client-1", DANA))
    assert caller.user_key == f"{TID}:{DANA['oid']}" and caller.username == "dana@contoso.com"
    assert verifier.verify(platform.mint(ORIGIN, SERVER_APP_URI, "client-1", DANA)).client_id == "client-1"


@pytest.mark.parametrize(("case", "why"), [
    ("not yet valid", "not valid yet"),
    ("expired", "expired"),
    ("app token", "application token"),
    ("no oid", "names no tenant"),
    ("graph", "another audience"),
    ("hs256 with the public key", "RS256"),
    ("alg none", "RS256"),
])
def test_refused(platform: Platform, verifier: JwtVerifier, case: str, why: str) -> None:
    now = suite_instant().timestamp()
    if case == "not yet valid":
        token = platform.mint(ORIGIN, SERVER_APP_ID, "c", DANA, now=now + 3600)
    elif case == "expired":
        token = platform.mint(ORIGIN, SERVER_APP_ID, "c", DANA, now=now - 3700)
    elif case == "app token":
        token = platform.mint(ORIGIN, SERVER_APP_ID, "c", {"oid": "app", "roles": ["x"], "idtyp": "app"})
    elif case == "no oid":
        token = platform.mint(ORIGIN, SERVER_APP_ID, "c", {**DANA, "oid": None})
    elif case == "graph":
        token = platform.mint(ORIGIN, GRAPH, "c", DANA)
    else:  # algorithm confusion: the public key used as an HMAC secret, or no signature at all
        good = platform.mint(ORIGIN, SERVER_APP_ID, "c", DANA)
        header = {"alg": "HS256" if "hs256" in case else "none", "kid": platform.keys.kid, "typ": "JWT"}
        head = base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"=").decode()
        body = good.split(".")[1]
        secret = json.dumps(platform.keys.jwk).encode()
        sig = base64.urlsafe_b64encode(hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()).rstrip(b"=")
        token = f"{head}.{body}.{sig.decode() if 'hs256' in case else ''}"
    with pytest.raises(Refused, match=why):
        verifier.verify(token)


def test_protect_runs_each_request_as_its_person(platform: Platform, verifier: JwtVerifier) -> None:
    seen: list[tuple[str, str | None]] = []

    async def app(scope, receive, send) -> None:
        seen.append((user_key(), caller_token()))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    http = TestClient(protect(app, verifier), base_url="https://mcp.test")
    token = platform.mint(ORIGIN, SERVER_APP_ID, "c", DANA)
    assert http.post("/mcp", headers={"Authorization": f"Bearer {token}"}).text == "ok"
    assert seen == [(f"{TID}:{DANA['oid']}", token)]
    assert user_key() == "local" and caller_token() is None  # nothing leaks past the request
    meta = http.get("/.well-known/oauth-protected-resource/mcp").json()
    assert meta["resource"] == "https://mcp.test/mcp" and meta["scopes_supported"] == [f"{SERVER_APP_URI}/access_as_user"]
    missing = http.post("/mcp")
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == (
        'Bearer resource_metadata="https://mcp.test/.well-known/oauth-protected-resource/mcp", '
        f'scope="{SERVER_APP_URI}/access_as_user"')
    own_origin = http.post("/mcp", headers={"Authorization": f"Bearer {token}", "Origin": "https://mcp.test"})
    assert own_origin.status_code == 200
    assert http.post("/mcp", headers={"Origin": "https://elsewhere.test"}).status_code == 403
    assert len(seen) == 2
