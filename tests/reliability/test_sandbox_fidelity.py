"""The sandbox answers as Graph does, each point with the Graph documentation page it follows.

Through the server's own GraphClient (and, where a tool shows the point, through the MCP client) against
the in-process sandbox; a second user's client acts as the organizer or the owner.
"""

from __future__ import annotations

import json

import httpx
import pytest

from outlook_calendar_mcp.auth import SandboxTokenProvider
from outlook_calendar_mcp.graph import BadRequest, GraphClient
from outlook_calendar_mcp.server import SANDBOX_ORIGIN
from tests.e2e.conftest import Harness, open_harness

pytestmark = [pytest.mark.anyio, pytest.mark.clock]  # on the suite's instant

ME, DANA = "adele@contoso.com", "dana@contoso.com"


def as_user(h: Harness, address: str) -> GraphClient:
    return GraphClient(base_url=f"{SANDBOX_ORIGIN}/v1.0", token_provider=SandboxTokenProvider(address),
                       transport=h.sandbox.transport(), clock=h.clock)


def at(day: str, hour: str) -> dict[str, str]:
    return {"dateTime": f"{day}T{hour}:00", "timeZone": "Pacific Standard Time"}


async def mine(h: Harness, subject: str) -> dict:
    page = await h.graph.get("me/events", params={"$filter": f"subject eq '{subject}'"})
    [event] = page["value"]
    return event


async def test_an_invitees_copy_is_not_responded_until_they_answer(tmp_path):
    # https://learn.microsoft.com/graph/api/resources/responsestatus: response is "notResponded" for an invitee
    # who has not answered; "none" is what the organizer sees of them.
    async with open_harness(tmp_path) as h, as_user(h, DANA) as dana:
        sent = await dana.post("me/events", json={"subject": "Fidelity invite", "start": at("2027-03-08", "10:00"),
                                                  "end": at("2027-03-08", "11:00"),
                                                  "attendees": [{"emailAddress": {"address": ME}}]})
        copy = await mine(h, "Fidelity invite")
        assert copy["responseStatus"]["response"] == "notResponded"
        organizers = await dana.get(f"me/events/{sent['id']}")
        assert organizers["attendees"][0]["status"]["response"] == "none"
        shown = await h.call("get_event", {"event": copy["id"]})
        assert shown["event"]["my_response"] == "notResponded"
        await h.call("accept_event", {"event": copy["id"]})
        assert (await mine(h, "Fidelity invite"))["responseStatus"]["response"] == "accepted"


async def test_occurrences_and_exceptions_carry_their_original_start(tmp_path):
    # https://learn.microsoft.com/graph/api/resources/event: originalStart, "the start time of an event when it
    # is initially created as an occurrence or exception in a recurring series".
    async with open_harness(tmp_path) as h:
        series = await h.graph.post("me/events", json={
            "subject": "Fidelity series", "start": at("2027-03-01", "09:00"), "end": at("2027-03-01", "09:30"),
            "recurrence": {"pattern": {"type": "daily", "interval": 1},
                           "range": {"type": "numbered", "startDate": "2027-03-01", "numberOfOccurrences": 3}}})
        window = {"startDateTime": "2027-03-01T00:00:00Z", "endDateTime": "2027-03-05T00:00:00Z"}
        first = (await h.graph.get(f"me/events/{series['id']}/instances", params=window))["value"]
        assert [o["originalStart"] for o in first] == [
            "2027-03-01T17:00:00Z", "2027-03-02T17:00:00Z", "2027-03-03T17:00:00Z"]
        moved = first[1]
        await h.graph.patch(f"me/events/{moved['id']}", json={"start": at("2027-03-02", "15:00"),
                                                               "end": at("2027-03-02", "15:30")})
        after = (await h.graph.get(f"me/events/{series['id']}/instances", params=window))["value"]
        exception = next(o for o in after if o["type"] == "exception")
        assert exception["originalStart"] == "2027-03-02T17:00:00Z"
        assert "originalStart" not in series or series.get("originalStart") is None


async def test_an_all_day_event_with_start_and_end_in_different_zones_is_a_400(tmp_path):
    # https://learn.microsoft.com/graph/api/resources/event (isAllDay): "start and end time must be set to
    # midnight and be in the same time zone".
    async with open_harness(tmp_path) as h:
        with pytest.raises(BadRequest, match="same time zone"):
            await h.graph.post("me/events", json={
                "subject": "Fidelity all day", "isAllDay": True,
                "start": {"dateTime": "2027-03-09T00:00:00", "timeZone": "Pacific Standard Time"},
                "end": {"dateTime": "2027-03-10T00:00:00", "timeZone": "Eastern Standard Time"}})
        ok = await h.graph.post("me/events", json={
            "subject": "Fidelity all day", "isAllDay": True,
            "start": {"dateTime": "2027-03-09T00:00:00", "timeZone": "Pacific Standard Time"},
            "end": {"dateTime": "2027-03-10T00:00:00", "timeZone": "America/Los_Angeles"}})  # the same zone
        assert ok["isAllDay"] is True


async def test_an_upload_range_of_4_mb_or_more_is_refused(tmp_path):
    # https://learn.microsoft.com/graph/outlook-large-attachments: "the maximum bytes in any given request is
    # less than 4 MB".
    async with open_harness(tmp_path) as h:
        event = await h.graph.post("me/events", json={"subject": "Fidelity upload", "start": at("2027-03-10", "09:00"),
                                                      "end": at("2027-03-10", "10:00")})
        size = 5 * 1024 * 1024
        session = await h.graph.post(f"me/events/{event['id']}/attachments/createUploadSession", json={
            "AttachmentItem": {"attachmentType": "file", "name": "big.bin", "size": size}})
        too_big = 4 * 1024 * 1024
        with pytest.raises(BadRequest, match="less than 4 MB"):
            await h.graph.request("PUT", session["uploadUrl"], auth=False, content=b"x" * too_big,
                                  headers={"Content-Type": "application/octet-stream",
                                           "Content-Range": f"bytes 0-{too_big - 1}/{size}"})
        fine = too_big - 1
        answer = await h.graph.request("PUT", session["uploadUrl"], auth=False, content=b"x" * fine,
                                       headers={"Content-Type": "application/octet-stream",
                                                "Content-Range": f"bytes 0-{fine - 1}/{size}"})
        assert answer.json()["nextExpectedRanges"][0].startswith(str(fine))


async def test_a_json_body_sent_as_another_content_type_is_refused(tmp_path):
    # https://learn.microsoft.com/graph/use-the-api (request headers: Content-Type for a request body); Graph
    # answers 400 BadRequest "Unable to read JSON request payload. Please ensure Content-Type header is set..."
    # (microsoftgraph/microsoft-graph-docs#6259).
    async with open_harness(tmp_path) as h:
        body = json.dumps({"name": "Fidelity content type"})
        for media in ("text/plain", "application/x-www-form-urlencoded", None):
            headers = {"Content-Type": media} if media else {}
            with pytest.raises(BadRequest, match="Unable to read JSON request payload"):
                await h.graph.request("POST", "me/calendars", content=body, headers=headers)
        made = await h.graph.request("POST", "me/calendars", content=body,
                                     headers={"Content-Type": "application/json; charset=utf-8"})
        assert made.json()["name"] == "Fidelity content type"


async def test_get_schedule_shows_subjects_only_to_limited_read_or_more(tmp_path):
    # https://learn.microsoft.com/graph/api/calendar-getschedule: scheduleItems carry subject and location
    # when the caller may see them; https://learn.microsoft.com/graph/api/resources/calendarpermission:
    # freeBusyRead (the organization's default) sees times only, limitedRead also subject and location.
    async with open_harness(tmp_path) as h, as_user(h, DANA) as dana:
        await dana.post("me/events", json={"subject": "Dana private plans", "start": at("2027-03-11", "10:00"),
                                           "end": at("2027-03-11", "11:00"),
                                           "location": {"displayName": "Room 7"}})
        ask = {"schedules": [DANA], "startTime": at("2027-03-11", "00:00"), "endTime": at("2027-03-12", "00:00")}

        async def items() -> list[dict]:
            answer = await h.graph.post("me/calendar/getSchedule", json=ask)
            return [i for i in answer["value"][0]["scheduleItems"] if i["status"] != "free"]

        before = await items()
        assert before and all("subject" not in i and "location" not in i for i in before)
        shown = await h.call("get_schedule", {"people": [DANA], "start": "2027-03-11", "end": "2027-03-12"})
        assert "Dana private plans" not in json.dumps(shown)

        await dana.post("me/calendar/calendarPermissions", json={
            "emailAddress": {"address": ME, "name": "Adele"}, "role": "limitedRead"})
        after = await items()
        assert any(i.get("subject") == "Dana private plans" and i.get("location") == "Room 7" for i in after)


async def test_a_forwarded_copy_shows_the_rooms_real_response(tmp_path):
    # https://learn.microsoft.com/graph/api/event-forward and resources/attendee: the room's status in the
    # meeting is its booking answer, which the recipient of a forwarded copy sees as it is.
    async with open_harness(tmp_path) as h, as_user(h, DANA) as dana:
        rooms = (await h.graph.get("places/microsoft.graph.room"))["value"]
        room = rooms[0]["emailAddress"]
        await h.graph.post("me/events", json={
            "subject": "Fidelity room", "start": at("2027-03-12", "13:00"), "end": at("2027-03-12", "14:00"),
            "attendees": [{"emailAddress": {"address": room}, "type": "resource"}],
            "location": {"displayName": rooms[0]["displayName"], "locationEmailAddress": room}})
        organizers = await mine(h, "Fidelity room")
        booked = next(a for a in organizers["attendees"] if a["emailAddress"]["address"] == room)
        assert booked["status"]["response"] == "accepted"
        await h.call("forward_event", {"event": organizers["id"], "to": [DANA]})
        page = await dana.get("me/events", params={"$filter": "subject eq 'Fidelity room'"})
        [copy] = page["value"]
        seen = next(a for a in copy["attendees"] if a["emailAddress"]["address"] == room)
        assert seen["status"]["response"] == "accepted"


async def test_graph_names_every_answer(tmp_path):
    # https://learn.microsoft.com/graph/best-practices-concept: every response carries request-id.
    async with open_harness(tmp_path) as h:
        answer = await h.graph.request("GET", "me/calendars")
        assert answer.request_id and httpx.Headers(answer.headers).get("client-request-id")
