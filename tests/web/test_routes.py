"""The week view's routes without a browser: the page and its files, the three read-only /_sandbox/ routes
(state, outbox newest first, the request log and whom it names), and ``serve --transport http`` mounting the
in-process sandbox at /sandbox/ on loopback."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx
import pytest

from outlook_calendar_mcp.clock import Clock
from outlook_calendar_mcp.sandbox import Sandbox
from tests.sandbox.conftest import Client
from tests.servers import spawned

NOW = dt.datetime(2026, 3, 4, 23, 30, tzinfo=dt.UTC)  # Wednesday 15:30 in Seattle, Thursday 08:30 in Tokyo


@pytest.fixture
def sandbox():
    s = Sandbox(":memory:", clock=Clock(NOW, frozen=True))
    yield s
    s.close()


def test_the_page_and_its_files(sandbox):
    web = Client(sandbox.app, None, base_url="http://sandbox/")
    page = web.get("")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'src="_sandbox/web/app.js"' in page.text  # relative: the page works under a mount too
    assert web.get("_sandbox/web/app.js").headers["content-type"].startswith("text/javascript")
    assert web.get("_sandbox/web/style.css").status_code == 200
    assert web.get("_sandbox/web/secrets.txt").status_code == 404


def test_state_is_the_sandbox_clock_in_the_zone_asked(sandbox):
    web = Client(sandbox.app, None, base_url="http://sandbox/")
    seattle = web.get("_sandbox/state", params={"zone": "Pacific Standard Time"}).json()
    tokyo = web.get("_sandbox/state", params={"zone": "Asia/Tokyo"}).json()
    assert (seattle["today"], seattle["time"], seattle["zone"]) == ("2026-03-04", "15:30", "America/Los_Angeles")
    assert (tokyo["today"], tokyo["time"]) == ("2026-03-05", "08:30")
    assert seattle["now"] == "2026-03-04T23:30:00Z"
    assert web.get("_sandbox/state", params={"zone": "Mars"}).status_code == 400
    before = seattle["changes"]
    adele = Client(sandbox.app, "sandbox")
    r = adele.post("me/events", json={"subject": "x", "start": {"dateTime": "2026-03-05T09:00:00", "timeZone": "UTC"},
                                      "end": {"dateTime": "2026-03-05T10:00:00", "timeZone": "UTC"}})
    assert r.status_code == 201
    assert web.get("_sandbox/state").json()["changes"] > before


def test_outbox_newest_first_and_the_request_log(sandbox):
    web = Client(sandbox.app, None, base_url="http://sandbox/")
    adele = Client(sandbox.app, "sandbox")
    body = {"subject": "Hello", "start": {"dateTime": "2026-03-05T09:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2026-03-05T10:00:00", "timeZone": "UTC"},
            "attendees": [{"emailAddress": {"address": "dana@contoso.com"}},
                          {"emailAddress": {"address": "fanny@contoso.com"}}]}
    assert adele.post("me/events", json=body).status_code == 201
    assert Client(sandbox.app, "eyJhbGciOi.secret.token").get("me").status_code == 401
    adele.get("me/events", headers={"X-Sandbox-View": "1"})  # the page's own read: not logged
    outbox = web.get("_sandbox/outbox").json()["value"]
    assert [m["recipient"] for m in outbox] == ["fanny@contoso.com", "dana@contoso.com"]  # newest first
    assert [m["recipient"] for m in sandbox.store.outbox()] == ["dana@contoso.com", "fanny@contoso.com"]
    log = web.get("_sandbox/requests").json()["value"]
    assert [(q["method"], q["path"], q["status"], q["caller"]) for q in log] == [
        ("GET", "/v1.0/me", 401, "other"), ("POST", "/v1.0/me/events", 201, "sandbox")]
    assert "secret" not in str(log)  # a token's value is never shown
    assert len(web.get("_sandbox/outbox", params={"limit": "1"}).json()["value"]) == 1


def test_serve_over_http_mounts_the_sandbox_page_on_loopback(tmp_path: Path):
    with spawned(tmp_path, "http") as server:
        root = server.url.rsplit("/mcp", 1)[0]
        page = httpx.get(f"{root}/sandbox/", timeout=10)
        assert page.status_code == 200 and "Sandbox calendars" in page.text
        assert httpx.get(f"{root}/sandbox", timeout=10).status_code == 307
        me = httpx.get(f"{root}/sandbox/v1.0/me", headers={"Authorization": "Bearer sandbox"}, timeout=10)
        assert me.json()["mail"] == "adele@contoso.com"
        users = httpx.get(f"{root}/sandbox/v1.0/users", params={"$top": "2"},
                          headers={"Authorization": "Bearer sandbox-app"}, timeout=10).json()
        assert users["@odata.nextLink"].startswith(f"{root}/sandbox/v1.0/users")  # links stay under the mount
        assert "week view at http://127.0.0.1:" in server.stderr.read_text()
