"""Each ambiguous outcome, one at a time: what the tool answers when Graph's reply is lost, throttled or late.

A scripted transport in front of the in-process sandbox misbehaves on exactly the request named
(method and path ending), once; everything else passes. Through the MCP client, each test checks the
answer against what the sandbox really holds and what it "mailed" (its outbox).
"""

from __future__ import annotations

import json
import re

import httpx
import pytest

from tests.instants import BEFORE_MARCH_2027, clock_at

from .workload import ME, Faulty, faulty_server, invitations

pytestmark = pytest.mark.anyio


class Scripted(httpx.AsyncBaseTransport):
    """Misbehaves once on the first request matching each (method, path regex, fault) of ``plan``.

    Faults: ``drop`` (applied, reply lost), ``reset`` (not applied, connection reset), ``504-applied``,
    ``504``, ``429`` (Retry-After 2), ``503``."""

    def __init__(self, inner: httpx.AsyncBaseTransport, plan: list[tuple[str, str, str]]) -> None:
        self.inner, self.plan = inner, list(plan)
        self.seen: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(f"{request.method} {request.url.path}")
        for i, (method, path, fault) in enumerate(self.plan):
            if request.method == method and re.search(path, request.url.path):
                fault, _, nth = fault.partition("@")  # "drop@2": the second matching request
                if nth and int(nth) > 1:
                    self.plan[i] = (method, path, f"{fault}@{int(nth) - 1}")
                    break
                del self.plan[i]
                return await self._misbehave(request, fault)
        return await self.inner.handle_async_request(request)

    async def _misbehave(self, request: httpx.Request, fault: str) -> httpx.Response:
        if fault == "reset":
            raise httpx.ReadError("Connection reset by peer", request=request)
        if fault in ("429", "503", "504"):
            headers = {"Retry-After": "2"} if fault == "429" else {}
            return httpx.Response(int(fault), headers=headers, json={"error": {"code": "x", "message": fault}})
        response = await self.inner.handle_async_request(request)
        await response.aread()
        if fault == "drop":
            raise httpx.ReadError("Server disconnected without sending a complete response", request=request)
        return httpx.Response(504, json={"error": {"code": "GatewayTimeout", "message": "late"}})  # 504-applied


def scripted(tmp_path, *plan: tuple[str, str, str]):
    holder: dict[str, Scripted] = {}

    def wrap(inner: httpx.AsyncBaseTransport) -> httpx.AsyncBaseTransport:
        holder["t"] = Scripted(inner, list(plan))
        return holder["t"]

    return faulty_server(tmp_path, {}, 0, clock_at(BEFORE_MARCH_2027), wrap=wrap), holder


def text(result) -> str:
    return " ".join(getattr(c, "text", "") for c in result.content)


def doc(h: Faulty, event_id: str) -> dict | None:
    row = h.sandbox.store.db.execute("SELECT doc FROM events WHERE id = ?", (event_id,)).fetchone()
    return json.loads(row[0]) if row else None


def responses_mailed(h: Faulty) -> list[str]:
    """The answers adele mailed to organizers ("accepted", ...), from the outbox's subjects."""
    words = {"Accepted": "accepted", "Tentative": "tentativelyAccepted", "Declined": "declined"}
    return [words[m["subject"].split(":", 1)[0]] for m in h.sandbox.store.outbox()
            if m["sender"] == ME and m["kind"] == "response"]


async def create(h: Faulty, subject: str = "Lost replies") -> str:
    result = await h.client.call_tool("create_event", {"subject": subject, "start": "2027-03-02T10:00",
                                                       "end": "2027-03-02T11:00"})
    assert not result.is_error, text(result)
    return h.handles.resolve("event", result.structured_content["event"]["handle"], argument="t")


async def test_delete_whose_reply_was_lost_is_retried_into_404_and_reported_done(tmp_path):
    server, _ = scripted(tmp_path, ("DELETE", r"/events/", "drop"))
    async with server as h:
        event_id = await create(h)
        result = await h.client.call_tool("delete_event", {"event": event_id})
        assert not result.is_error, text(result)
        assert "done; Graph's reply was lost" in text(result) and "the change is there" in text(result)
        assert doc(h, event_id) is None


@pytest.mark.parametrize("fault", ["drop", "504-applied"])
async def test_accept_whose_reply_was_lost_is_read_back_and_reported_done_once(tmp_path, fault):
    # Graph: the invitee's copy answers responseStatus (https://learn.microsoft.com/graph/api/event-accept)
    server, _ = scripted(tmp_path, ("POST", r"/accept$", fault))
    async with server as h:
        [invite] = await invitations(h.sandbox, 1)
        result = await h.client.call_tool("accept_event", {"event": invite, "comment": "yes"})
        assert not result.is_error, text(result)
        assert "reply was lost" in text(result) and "accepted" in text(result)
        assert doc(h, invite)["responseStatus"]["response"] == "accepted"
        assert responses_mailed(h).count("accepted") == 1  # read back, never sent twice


async def test_accept_that_never_arrived_is_sent_again_once(tmp_path):
    server, holder = scripted(tmp_path, ("POST", r"/accept$", "reset"))
    async with server as h:
        [invite] = await invitations(h.sandbox, 1)
        result = await h.client.call_tool("accept_event", {"event": invite})
        assert not result.is_error, text(result)
        assert "reply was lost" not in text(result)
        assert doc(h, invite)["responseStatus"]["response"] == "accepted"
        assert responses_mailed(h).count("accepted") == 1
        assert sum(1 for s in holder["t"].seen if s.endswith("/accept")) == 2


async def test_update_whose_reply_was_lost_carries_if_match_and_reads_back(tmp_path):
    server, holder = scripted(tmp_path, ("PATCH", r"/events/", "504-applied"))
    async with server as h:
        event_id = await create(h)
        result = await h.client.call_tool("update_event", {"event": event_id, "subject": "Renamed"})
        assert not result.is_error, text(result)
        assert "reply was lost" in text(result) and result.structured_content["event"]["subject"] == "Renamed"
        assert doc(h, event_id)["subject"] == "Renamed"
        patches = [s for s in holder["t"].seen if s.startswith("PATCH")]
        assert len(patches) == 2  # the retry went with the old etag, got 412, and the read-back found the change


async def test_update_never_overwrites_a_newer_change(tmp_path):
    server, _ = scripted(tmp_path)
    async with server as h:
        event_id = await create(h)
        stale = doc(h, event_id)["changeKey"]
        other = await h.client.call_tool("update_event", {"event": event_id, "subject": "Someone else's"})
        assert not other.is_error
        result = await h.client.call_tool("update_event", {"event": event_id, "subject": "Mine",
                                                           "etag": f'W/"{stale}"'})
        assert result.is_error
        assert "changed since it was read" in text(result) and "Someone else's" in text(result)
        assert doc(h, event_id)["subject"] == "Someone else's"


@pytest.mark.parametrize("fault", ["429", "503"])
async def test_throttled_and_unavailable_writes_are_retried_for_every_method(tmp_path, fault):
    server, holder = scripted(tmp_path, ("POST", r"/accept$", fault), ("PATCH", r"/events/", fault),
                              ("POST", r"/calendars$", fault))
    async with server as h:
        [invite] = await invitations(h.sandbox, 1)
        event_id = await create(h)
        assert not (await h.client.call_tool("accept_event", {"event": invite})).is_error
        assert not (await h.client.call_tool("update_event", {"event": event_id, "subject": "Again"})).is_error
        assert not (await h.client.call_tool("create_calendar", {"name": "Retried"})).is_error
        assert holder["t"].plan == []  # every scripted fault happened, and was retried past
        assert responses_mailed(h).count("accepted") == 1 and doc(h, event_id)["subject"] == "Again"
        if fault == "429":
            assert h.sleeps.count(2.0) == 3  # Retry-After: 2, honoured each time


async def test_create_calendar_whose_reply_was_lost_is_found_not_doubled(tmp_path):
    server, _ = scripted(tmp_path, ("POST", r"/calendars$", "drop"))
    async with server as h:
        result = await h.client.call_tool("create_calendar", {"name": "Found again"})
        assert not result.is_error, text(result)
        assert "reply was lost" in text(result) and result.structured_content["calendar"]["name"] == "Found again"
        count = h.sandbox.store.db.execute(
            "SELECT COUNT(*) FROM calendars WHERE json_extract(doc, '$.name') = 'Found again'").fetchone()[0]
        assert count == 1


async def test_share_whose_reply_was_lost_is_found(tmp_path):
    server, _ = scripted(tmp_path, ("POST", r"/calendarPermissions$", "drop"))
    async with server as h:
        result = await h.client.call_tool("share_calendar", {"share_with": "megan@contoso.com", "role": "read"})
        assert not result.is_error, text(result)
        assert "reply was lost" in text(result) and "megan@contoso.com" in json.dumps(result.structured_content)


async def test_forward_whose_reply_was_lost_says_it_may_have_gone(tmp_path):
    # Graph keeps no trace of a forward its sender can read back: the answer must say so, never "failed".
    server, _ = scripted(tmp_path, ("POST", r"/forward$", "drop"))
    async with server as h:
        [invite] = await invitations(h.sandbox, 1)
        result = await h.client.call_tool("forward_event", {"event": invite, "to": ["megan@contoso.com"]})
        assert result.is_error
        assert "may have been applied" in text(result) and "Check before trying again" in text(result)
        assert len([m for m in h.sandbox.store.outbox() if m["recipient"] == "megan@contoso.com"]) == 1


async def test_a_reset_before_a_create_leaves_one_event(tmp_path):
    server, _ = scripted(tmp_path, ("POST", r"/events$", "drop"), ("POST", r"/events$", "504"))
    async with server as h:
        await create(h, "Exactly once")
        count = h.sandbox.store.db.execute(
            "SELECT COUNT(*) FROM events WHERE json_extract(doc, '$.subject') = 'Exactly once'").fetchone()[0]
        assert count == 1  # transactionId: the retried POST finds the first one


class LostThenUnreadable(Scripted):
    """The accept is applied and its reply lost; then every read of the event is reset (Graph unreachable)."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(f"{request.method} {request.url.path}")
        if request.method == "POST" and request.url.path.endswith("/accept"):
            response = await self.inner.handle_async_request(request)
            await response.aread()
            raise httpx.ReadError("Server disconnected without sending a complete response", request=request)
        if request.method == "GET" and any(s.endswith("/accept") for s in self.seen):
            raise httpx.ReadError("Connection reset by peer", request=request)
        return await self.inner.handle_async_request(request)


async def test_a_lost_reply_that_cannot_be_read_back_says_it_may_have_been_applied(tmp_path):
    server = faulty_server(tmp_path, {}, 0, clock_at(BEFORE_MARCH_2027), wrap=lambda inner: LostThenUnreadable(inner, []))
    async with server as h:
        [invite] = await invitations(h.sandbox, 1)
        result = await h.client.call_tool("accept_event", {"event": invite})
        assert result.is_error
        assert "may have been applied" in text(result) and "reading it back failed too" in text(result)
        assert doc(h, invite)["responseStatus"]["response"] == "accepted"  # it was: and the answer said it may be


async def test_a_large_upload_whose_last_reply_was_lost_is_found_on_the_event(tmp_path):
    server, holder = scripted(tmp_path, ("PUT", r"^/api/", "drop@2"))  # the last of two ranges
    async with server as h:
        event_id = await create(h, "Big file")
        folder = tmp_path / "attachments"
        folder.mkdir(exist_ok=True)
        (folder / "big.bin").write_bytes(b"z" * (4 * 1024 * 1024))  # over 3 MB: an upload session, 2 ranges
        result = await h.client.call_tool("add_file_attachment", {"event": event_id, "path": "big.bin"})
        stored = h.sandbox.store.db.execute("SELECT COUNT(*) FROM attachments WHERE name = 'big.bin'").fetchone()[0]
        assert not result.is_error, text(result)
        assert stored == 1 and "reply was lost" in text(result) and "big.bin" in text(result)
        assert holder["t"].plan == [] and sum(s.startswith("PUT") for s in holder["t"].seen) >= 2


async def test_a_failure_after_the_write_succeeded_says_the_change_may_be_there(tmp_path):
    # update_event moves the event (PATCH applied), then reading what it now overlaps fails: not "nothing happened".
    view = r"/calendarView$"
    server, _ = scripted(tmp_path, ("GET", view, "reset@2"), *[("GET", view, "reset")] * 4)
    async with server as h:
        event_id = await create(h)
        result = await h.client.call_tool("update_event", {"event": event_id, "start": "2027-03-02T12:00",
                                                           "end": "2027-03-02T13:00"})
        assert result.is_error
        assert "may have been applied" in text(result) and "PATCH" in text(result)
        start = doc(h, event_id)["start"]
        assert start["dateTime"][:16] in ("2027-03-02T12:00", "2027-03-02T20:00"), start  # moved (Pacific or UTC)
