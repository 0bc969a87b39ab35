"""Remote mode end to end: `sandbox serve` (Graph + the identity platform over HTTPS) and
`serve --transport http --auth oauth` configured from it alone; an MCP client doing the OAuth flow by itself,
then calling tools as that person; tokens the server must refuse, each with the right WWW-Authenticate."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest

from outlook_calendar_mcp.sandbox.identity import GRAPH, SERVER_APP_ID, TENANT_ID, Keys, Platform
from tests.remote.oauth_client import Person
from tests.remote.services import Child, RemoteSandbox, child, events_of, oauth_env, remote_sandbox
from tests.servers import free_port

pytestmark = [pytest.mark.slow, pytest.mark.anyio]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RemoteSandbox, Child, str]]:
    tmp = tmp_path_factory.mktemp("oauth")
    with remote_sandbox(tmp) as sandbox:
        port = free_port()
        with child(["serve", "--transport", "http", "--auth", "oauth", "--port", str(port)], oauth_env(sandbox), port,
                   tmp / "server.log") as server:
            yield sandbox, server, f"http://127.0.0.1:{port}/mcp"


def test_metadata_and_the_401_that_starts_discovery(stack: tuple[RemoteSandbox, Child, str]) -> None:
    sandbox, _, url = stack
    answer = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
    assert answer.status_code == 401
    challenge = answer.headers["www-authenticate"]
    assert challenge.startswith("Bearer ") and 'error="invalid_token"' not in challenge  # no token: no error code
    metadata_url = "http://127.0.0.1:" + url.split(":")[2].split("/")[0] + "/.well-known/oauth-protected-resource/mcp"
    assert f'resource_metadata="{metadata_url}"' in challenge
    prm = httpx.get(metadata_url).json()
    assert prm["resource"] == url
    assert prm["authorization_servers"] == [f"{sandbox.https}/{TENANT_ID}/v2.0"]
    assert prm["scopes_supported"] == [f"api://{SERVER_APP_ID}/access_as_user"]
    assert httpx.get(metadata_url.removesuffix("/mcp")).json() == prm


async def test_a_client_signs_in_by_itself_and_acts_as_that_person(stack: tuple[RemoteSandbox, Child, str]) -> None:
    sandbox, server, url = stack
    dana = Person("dana@contoso.com", url, sandbox.ssl())
    async with dana.client() as client:
        settings = await client.call_tool("get_mailbox_settings", {})
        assert not settings.is_error, settings.content
        made = await client.call_tool("create_event", {"subject": "Made over remote OAuth", "start": "2027-03-20T10:00",
                                                       "end": "2027-03-20T10:30"})
        assert not made.is_error, made.content
    # the flow really ran: registration, PKCE S256, the server's scope
    assert dana.storage.client is not None and dana.storage.client.client_id
    authorize = dana.authorize_urls[0]
    assert "code_challenge_method=S256" in authorize and "access_as_user" in authorize
    claims = jwt.decode(dana.storage.tokens.access_token, options={"verify_signature": False})
    assert claims["aud"] == SERVER_APP_ID and claims["upn"] == "dana@contoso.com"
    # the event is in Dana's calendar, and nobody else's
    assert len(events_of(sandbox.db, "Made over remote OAuth", "dana@contoso.com")) == 1
    assert events_of(sandbox.db, "Made over remote OAuth", "adele@contoso.com") == []
    # the client's token never reached a log
    assert dana.storage.tokens.access_token not in server.output() + sandbox.child.output()


def _mint(sandbox: RemoteSandbox, *, aud: str = SERVER_APP_ID, origin: str | None = None, keys: Keys | None = None,
          age_s: int = 0, **claims: object) -> str:
    """A token as the sandbox's identity platform would sign it (its own key, read from its data dir)."""
    from outlook_calendar_mcp.clock import Clock
    from tests.instants import suite_instant

    folder = Path(sandbox.env["OUTLOOK_MCP_DATA_DIR"]) / "sandbox-identity"
    platform = Platform(lambda _: None, clock=Clock(suite_instant()), keys=keys or Keys(folder))
    person = {"oid": "281e6c84-7d85-01ee-3d79-9243e4c9f188", "scp": "access_as_user", "idtyp": "user", **claims}
    return platform.mint(origin or sandbox.https, aud, "client", person, now=suite_instant().timestamp() - age_s)


@pytest.mark.parametrize("case", ["wrong audience", "graph token", "expired", "unknown key", "other issuer",
                                  "no scope", "not a jwt"])
def test_tokens_the_server_refuses(stack: tuple[RemoteSandbox, Child, str], case: str) -> None:
    sandbox, server, url = stack
    token = {
        "wrong audience": lambda: _mint(sandbox, aud="api://some-other-api"),
        "graph token": lambda: _mint(sandbox, aud=GRAPH, scp="Calendars.ReadWrite"),
        "expired": lambda: _mint(sandbox, age_s=7200),
        "unknown key": lambda: _mint(sandbox, keys=Keys()),
        "other issuer": lambda: _mint(sandbox, origin="https://login.example.org"),
        "no scope": lambda: _mint(sandbox, scp="User.Read"),
        "not a jwt": lambda: "sandbox:dana@contoso.com",
    }[case]()
    answer = httpx.post(url, headers={"Authorization": f"Bearer {token}"},
                        json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
    challenge = answer.headers["www-authenticate"]
    assert "/.well-known/oauth-protected-resource/mcp" in challenge
    if case == "no scope":
        assert answer.status_code == 403 and 'error="insufficient_scope"' in challenge
    else:
        assert answer.status_code == 401 and 'error="invalid_token"' in challenge, (answer.status_code, challenge)
    assert json.loads(answer.text)["error"] in ("invalid_token", "insufficient_scope")
    assert token not in server.output()


def test_origin_is_checked(stack: tuple[RemoteSandbox, Child, str]) -> None:
    _, _, url = stack
    answer = httpx.post(url, headers={"Origin": "https://evil.example"}, json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
    assert answer.status_code == 403 and "evil.example" in answer.text


async def test_missing_consent_tells_what_to_do(stack: tuple[RemoteSandbox, Child, str]) -> None:
    sandbox, _, url = stack
    withheld = httpx.post(f"{sandbox.https}/sandbox/identity/consent", verify=sandbox.ssl(),
                          json={"user": "alex@contoso.com", "granted": False})
    assert withheld.json() == {"user": "alex@contoso.com", "granted": False}
    try:
        async with Person("alex@contoso.com", url, sandbox.ssl()).client() as client:
            answer = await client.call_tool("calendar_view", {})
    finally:
        httpx.post(f"{sandbox.https}/sandbox/identity/consent", verify=sandbox.ssl(),
                   json={"user": "alex@contoso.com", "granted": True})
    assert answer.is_error
    text = answer.content[0].text
    assert "AADSTS65001" in text and "Grant admin consent" in text and SERVER_APP_ID in text


async def test_sse_transport_is_protected_too(stack: tuple[RemoteSandbox, Child, str], tmp_path: Path) -> None:
    sandbox, _, _ = stack
    port = free_port()
    with child(["serve", "--transport", "sse", "--auth", "oauth", "--port", str(port)], oauth_env(sandbox), port,
               tmp_path / "sse.log"):
        url = f"http://127.0.0.1:{port}/sse"
        refused = httpx.get(url)
        assert refused.status_code == 401
        assert f'resource_metadata="http://127.0.0.1:{port}/.well-known/oauth-protected-resource/sse"' in (
            refused.headers["www-authenticate"])
        async with Person("megan@contoso.com", url, sandbox.ssl()).sse() as client:
            made = await client.call_tool("create_event", {"subject": "Megan over SSE", "start": "2027-03-21T10:00",
                                                           "end": "2027-03-21T10:30"})
            assert not made.is_error, made.content
    assert len(events_of(sandbox.db, "Megan over SSE", "megan@contoso.com")) == 1


async def test_graph_tokens_are_refreshed_silently(stack: tuple[RemoteSandbox, Child, str]) -> None:
    """Graph tokens living 60 s (under msal's 5-minute margin): every call after the first refreshes the
    cached token with its refresh token; the caller's token is exchanged on-behalf-of only once."""
    sandbox, _, url = stack
    stats = f"{sandbox.https}/sandbox/identity/stats"
    httpx.post(stats, verify=sandbox.ssl(), json={"access_token_lifetime_s": 60})
    try:
        async with Person("pavel@contoso.com", url, sandbox.ssl()).client() as client:
            for _ in range(3):
                answer = await client.call_tool("list_calendars", {})  # not cached: every call reaches Graph
                assert not answer.is_error, answer.content
    finally:
        counts = httpx.post(stats, verify=sandbox.ssl(), json={"access_token_lifetime_s": 3600}).json()
    assert counts["on_behalf_of"]["pavel@contoso.com"] == 1, counts
    assert counts["refreshed"]["pavel@contoso.com"] >= 2


async def test_a_refused_server_credential_says_which_setting(stack: tuple[RemoteSandbox, Child, str],
                                                              tmp_path: Path) -> None:
    sandbox, _, _ = stack
    port = free_port()
    env = oauth_env(sandbox, OUTLOOK_MCP_CLIENT_ID=SERVER_APP_ID, OUTLOOK_MCP_CLIENT_SECRET="an expired secret")
    with child(["serve", "--transport", "http", "--auth", "oauth", "--port", str(port)], env, port,
               tmp_path / "server.log") as server:
        async with Person("fanny@contoso.com", f"http://127.0.0.1:{port}/mcp", sandbox.ssl()).client() as client:
            answer = await client.call_tool("calendar_view", {})
    assert answer.is_error
    text = answer.content[0].text
    assert "AADSTS7000215" in text and "OUTLOOK_MCP_CLIENT_SECRET" in text and "an expired secret" not in text
    assert "an expired secret" not in server.output()
