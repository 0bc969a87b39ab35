"""msal itself (the library the server signs in with) against the sandbox's identity platform over HTTPS:
device code and client credentials, and the sandbox's Graph accepting what msal got."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import msal
import pytest

from outlook_calendar_mcp.remote.obo import CaSession
from outlook_calendar_mcp.sandbox.identity import TENANT_ID
from tests.remote.services import RemoteSandbox, remote_sandbox

pytestmark = pytest.mark.slow
GRAPH_SCOPES = ["https://graph.microsoft.com/Calendars.ReadWrite"]


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RemoteSandbox]:
    with remote_sandbox(tmp_path_factory.mktemp("msal")) as s:
        yield s


def session(sandbox: RemoteSandbox) -> CaSession:
    s = CaSession()
    s.verify = str(sandbox.ca)
    return s


def me(sandbox: RemoteSandbox, token: str) -> httpx.Response:
    return httpx.get(f"{sandbox.graph_url}/me", headers={"Authorization": f"Bearer {token}"}, verify=sandbox.ssl())


def test_device_code_with_msal(sandbox: RemoteSandbox) -> None:
    registered = httpx.post(f"{sandbox.https}/{TENANT_ID}/oauth2/v2.0/register", verify=sandbox.ssl(),
                            json={"redirect_uris": ["http://localhost"], "token_endpoint_auth_method": "none",
                                  "client_name": "a CLI"}).json()
    app = msal.PublicClientApplication(registered["client_id"], authority=f"{sandbox.https}/{TENANT_ID}",
                                       http_client=session(sandbox), instance_discovery=False)
    flow = app.initiate_device_flow(scopes=GRAPH_SCOPES)
    assert flow["user_code"] and flow["message"].startswith("To sign in")
    page = httpx.post(flow["verification_uri"], verify=sandbox.ssl(),
                      data={"user_code": flow["user_code"], "user": "kenji@contoso.com"})
    assert "Signed in" in page.text
    result = app.acquire_token_by_device_flow(flow)
    assert "access_token" in result, result
    assert me(sandbox, result["access_token"]).json()["userPrincipalName"] == "kenji@contoso.com"
    assert [a["username"] for a in app.get_accounts()] == ["kenji@contoso.com"]
    silent = app.acquire_token_silent(GRAPH_SCOPES, account=app.get_accounts()[0], force_refresh=True)
    assert silent and silent["access_token"] != result["access_token"]  # refreshed with the refresh token


def test_client_credentials_with_msal(sandbox: RemoteSandbox) -> None:
    settings = httpx.get(f"{sandbox.https}/sandbox/identity", verify=sandbox.ssl()).json()
    app = msal.ConfidentialClientApplication(settings["client_id"], client_credential=settings["client_secret"],
                                             authority=settings["authority"], http_client=session(sandbox),
                                             instance_discovery=False)
    result = app.acquire_token_for_client(scopes=["https://graph.microsoft.com/.default"])
    assert "access_token" in result, result
    events = httpx.get(f"{sandbox.graph_url}/users/priya@contoso.com/events", verify=sandbox.ssl(),
                       headers={"Authorization": f"Bearer {result['access_token']}"})
    assert events.status_code == 200 and "value" in events.json()
    wrong = msal.ConfidentialClientApplication(settings["client_id"], client_credential="not the secret",
                                               authority=settings["authority"], http_client=session(sandbox),
                                               instance_discovery=False)
    refused = wrong.acquire_token_for_client(scopes=["https://graph.microsoft.com/.default"])
    assert refused["error"] == "invalid_client" and "AADSTS7000215" in refused["error_description"]


def test_the_ca_is_made_once_and_kept(sandbox: RemoteSandbox) -> None:
    folder = Path(sandbox.env["OUTLOOK_MCP_DATA_DIR"]) / "sandbox-identity"
    assert sorted(p.name for p in folder.iterdir()) == ["ca.pem", "server-app.json", "signing-key.pem", "tls-cert.pem",
                                                         "tls-key.pem"]
    assert (folder / "signing-key.pem").stat().st_mode & 0o077 == 0 and (folder / "tls-key.pem").stat().st_mode & 0o077 == 0
