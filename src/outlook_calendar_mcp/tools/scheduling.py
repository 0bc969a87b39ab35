"""Finding time: find_meeting_times, get_schedule, list_rooms, list_room_lists."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal
from urllib.parse import quote

from pydantic import Field

from .. import timezones as tz
from ..calendar import InputError, Services
from ..calendar.people import MAX_WINDOW, iso_duration, parse_duration, rooms_that_fit, zone_and_meeting
from ..calendar.targets import ADDRESS
from ..calendar.times import parse_time
from ..graph import NotFound
from ..views import Compact
from .common import READ_ONLY, Mailbox, TimeZoneArg, Toolbox, tool
from .policy import Policy


class Availability(Compact):
    email: str
    availability: str


class Suggestion(Compact):
    start: str
    end: str
    confidence: float
    organizer: str | None = Field(None, description="The organizer's availability, when not free")
    attendees: list[Availability] | None = Field(None, description="Attendees who are not free")
    rooms: list[str] | None = None
    reason: str | None = None


class MeetingTimes(Compact):
    time_zone: str
    now: str  # the local time now: no slot starts before it
    duration_minutes: int
    attendees: list[str]
    reason: str | None = None  # why these slots, when it is the same for every one
    suggestions: list[Suggestion]
    empty_reason: str | None = None


class Busy(Compact):
    start: str
    end: str
    status: str
    subject: str | None = None
    location: str | None = None


class PersonSchedule(Compact):
    email: str
    availability_view: str | None = Field(
        None, description="One digit per interval: 0 free 1 tentative 2 busy 3 away 4 elsewhere"
    )
    busy: list[Busy] | None = None
    working_hours: str | None = None
    error: str | None = None


class Schedules(Compact):
    time_zone: str
    interval_minutes: int
    schedules: list[PersonSchedule]


class Room(Compact):
    name: str
    email: str
    capacity: int | None = None
    building: str | None = None
    floor: int | None = None
    device: str | None = None
    wheelchair_accessible: bool | None = None


class Rooms(Compact):
    rooms: list[Room]
    more: bool | None = None


class RoomList(Compact):
    name: str
    email: str


class RoomLists(Compact):
    room_lists: list[RoomList]


def register(box: Toolbox, svc: Services, enabled: Policy | None = None) -> None:
    """Add this module's tools to ``box``."""
    g = svc.graph

    @tool(box, READ_ONLY, enabled=enabled, name="find_meeting_times")
    async def find_meeting_times(
        attendees: Annotated[
            list[str] | None, Field(description="Names or addresses of required people; none: your own free time")
        ] = None,
        duration: Annotated[str | int, Field(description="Minutes (60), '1h', '90m' or 'PT1H'")] = 30,
        start: Annotated[str | None, Field(description="Window start, ISO 8601; default now")] = None,
        end: Annotated[str | None, Field(description="Window end; default 7 days after start")] = None,
        optional_attendees: list[str] | None = None,
        rooms: Annotated[list[str] | None, Field(description="Room addresses or names; one must be free")] = None,
        suggest_room: Annotated[bool, Field(strict=True, description="Let the service suggest a free room")] = False,
        room_capacity: Annotated[
            int | None, Field(ge=1, le=1000, strict=True, description="Seats needed in a free room")
        ] = None,
        building: Annotated[str | None, Field(description="Rooms in this building only")] = None,
        hours: Annotated[
            Literal["work", "personal", "unrestricted"], Field(description="work: each attendee's working hours")
        ] = "work",
        max_candidates: Annotated[int, Field(ge=1, le=100, strict=True)] = 10,
        minimum_attendee_percentage: Annotated[int | None, Field(ge=0, le=100, strict=True)] = None,
        time_zone: TimeZoneArg = None,
        mailbox: Mailbox = None,
    ) -> MeetingTimes:
        """Use to find when people (and a room) are free to meet, or your own free time. Returns ranked slots with who is busy."""
        if (room_capacity is not None or building) and rooms:
            raise InputError("rooms: give rooms, or room_capacity/building to search every room that fits, not both.")
        # The zone and every name and the room list (one JSON batch) in flight together: see calendar/people.py.
        people = [(attendees or [], "attendees"), (optional_attendees or [], "optional_attendees")]
        (zone_name, zone), lookups = await zone_and_meeting(svc, mailbox, time_zone, people, rooms)
        length = parse_duration(duration)
        begin = parse_time(start, zone, "start") if start else svc.clock.now(zone)
        finish = parse_time(end, zone, "end") if end else begin + dt.timedelta(days=7)
        if finish <= begin:
            raise InputError(f"end: {end} is not after start {start or 'now'}; give a later end.")
        now = svc.clock.now(zone)
        if finish <= now:
            which = "end" if end else "start"
            raise InputError(
                f"{which}: the window {tz.format_local(begin, zone)} to {tz.format_local(finish, zone)} "
                f"is entirely in the past (it is {tz.format_local(now, zone)}); give a window from now "
                "on."
            )
        if finish - begin > MAX_WINDOW:
            raise InputError(f"end: the window can span at most {MAX_WINDOW.days} days; search a shorter window.")
        if finish - begin < length:
            raise InputError(
                f"duration: {iso_duration(length)} does not fit in the window "
                f"{tz.format_local(begin, zone)} to {tz.format_local(finish, zone)}; widen the window "
                "or shorten the meeting."
            )
        (required, optional), places = lookups.result()
        if building and room_capacity is None:
            room_capacity = 1
        if room_capacity is not None:
            places = await rooms_that_fit(svc, room_capacity, building)
        body: dict[str, Any] = {
            "attendees": [{"type": "required", "emailAddress": p} for p in required]
            + [{"type": "optional", "emailAddress": p} for p in optional],
            "timeConstraint": {
                "activityDomain": hours,
                "timeSlots": [{"start": tz.to_graph(begin, zone_name), "end": tz.to_graph(finish, zone_name)}],
            },
            "meetingDuration": iso_duration(length),
            "maxCandidates": max_candidates,
            "returnSuggestionReasons": True,
        }
        if minimum_attendee_percentage is not None:
            body["minimumAttendeePercentage"] = minimum_attendee_percentage
        if places or suggest_room:
            body["locationConstraint"] = {
                "isRequired": bool(places),
                "suggestLocation": suggest_room,
                "locations": [
                    {"displayName": r["name"], "locationEmailAddress": r["address"], "resolveAvailability": True}
                    for r in places
                ],
            }
        result = await g.post(
            f"{svc.mb(mailbox)}/findMeetingTimes", json=body, prefer=svc.prefer(zone_name), retry_post=True
        )
        suggestions = []
        for s in (result or {}).get("meetingTimeSuggestions") or []:
            slot = s.get("meetingTimeSlot") or {}
            busy = [
                Availability(email=a["attendee"]["emailAddress"]["address"], availability=a["availability"])
                for a in s.get("attendeeAvailability") or []
                if a.get("availability") != "free"
            ]
            names = [loc.get("displayName") for loc in s.get("locations") or [] if loc.get("displayName")]
            organizer = s.get("organizerAvailability")
            suggestions.append(
                Suggestion(
                    start=_local(slot.get("start"), zone),
                    end=_local(slot.get("end"), zone),
                    confidence=s.get("confidence", 0),
                    organizer=organizer if organizer not in (None, "free") else None,
                    attendees=busy or None,
                    rooms=names or None,
                    reason=s.get("suggestionReason") or None,
                )
            )
        reasons = {s.reason for s in suggestions}
        shared = reasons.pop() if len(reasons) == 1 and len(suggestions) > 1 else None
        if shared:  # said once, not per slot
            for s in suggestions:
                s.reason = None
        return MeetingTimes(
            time_zone=tz.iana_name(zone_name),
            now=svc.now_text(zone),
            reason=shared,
            duration_minutes=int(length.total_seconds() // 60),
            attendees=[p["address"] for p in required + optional],
            suggestions=suggestions,
            empty_reason=(result or {}).get("emptySuggestionsReason") or None,
        )

    @tool(box, READ_ONLY, enabled=enabled, name="get_schedule")
    async def get_schedule(
        people: Annotated[
            list[str], Field(min_length=1, max_length=100, description="Names or addresses of people or rooms")
        ],
        start: Annotated[str, Field(description="ISO 8601")],
        end: Annotated[str, Field(description="ISO 8601")],
        interval_minutes: Annotated[int, Field(ge=5, le=1440, strict=True)] = 30,
        time_zone: TimeZoneArg = None,
        mailbox: Mailbox = None,
    ) -> Schedules:
        """Use to see when people or rooms are busy (free/busy) in a window. Returns busy blocks and working hours per person."""
        (zone_name, zone), lookups = await zone_and_meeting(svc, mailbox, time_zone, [(people, "people")])
        begin = parse_time(start, zone, "start")
        finish = parse_time(end, zone, "end")
        if finish <= begin:
            raise InputError(f"end: {end} is not after start {start}; give a later end.")
        if finish - begin > MAX_WINDOW:
            raise InputError(f"end: a schedule window can span at most {MAX_WINDOW.days} days; ask for less.")
        addresses = [p["address"] for p in lookups.result()[0][0]]
        result = await g.post(
            f"{svc.mb(mailbox)}/calendar/getSchedule",
            prefer=svc.prefer(zone_name),
            retry_post=True,
            json={
                "schedules": addresses,
                "availabilityViewInterval": interval_minutes,
                "startTime": tz.to_graph(begin, zone_name),
                "endTime": tz.to_graph(finish, zone_name),
            },
        )
        schedules = []
        for item in (result or {}).get("value") or []:
            if item.get("error"):
                schedules.append(
                    PersonSchedule(
                        email=item.get("scheduleId", ""), error=item["error"].get("message") or "unavailable"
                    )
                )
                continue
            busy = [
                Busy(
                    start=_local(b.get("start"), zone),
                    end=_local(b.get("end"), zone),
                    status=b.get("status", ""),
                    subject=b.get("subject") or None,
                    location=b.get("location") or None,
                )
                for b in item.get("scheduleItems") or []
                if b.get("status") != "free"
            ]
            wh = item.get("workingHours") or {}
            hours = None
            if wh.get("daysOfWeek"):
                days = ",".join(d[:3] for d in wh["daysOfWeek"])
                hours = (
                    f"{days} {(wh.get('startTime') or '')[:5]}-{(wh.get('endTime') or '')[:5]} "
                    f"{tz.iana_name((wh.get('timeZone') or {}).get('name') or 'UTC')}"
                )
            schedules.append(
                PersonSchedule(
                    email=item.get("scheduleId", ""),
                    availability_view=item.get("availabilityView"),
                    busy=busy or None,
                    working_hours=hours,
                )
            )
        return Schedules(time_zone=tz.iana_name(zone_name), interval_minutes=interval_minutes, schedules=schedules)

    @tool(box, READ_ONLY, enabled=enabled, name="list_room_lists")
    async def list_room_lists() -> RoomLists:
        """Use to see the buildings or groups of meeting rooms. Returns room lists (pass one to list_rooms)."""
        page = await g.get_all("places/microsoft.graph.roomlist")
        return RoomLists(
            room_lists=[
                RoomList(name=r.get("displayName") or "", email=r.get("emailAddress") or "") for r in page.items
            ]
        )

    @tool(box, READ_ONLY, enabled=enabled, name="list_rooms")
    async def list_rooms(
        room_list: Annotated[str | None, Field(description="Room list address (from list_room_lists)")] = None,
        min_capacity: Annotated[int | None, Field(ge=1, le=1000, strict=True)] = None,
        max_results: Annotated[int, Field(ge=1, le=500, strict=True)] = 100,
    ) -> Rooms:
        """Use to find meeting rooms (by building or size). Returns rooms with capacity, building, floor and equipment."""
        if room_list:
            if not ADDRESS.match(room_list.strip()):
                raise InputError(f"room_list: '{room_list}' is not a room list address; get one from list_room_lists.")
            path = f"places/{quote(room_list.strip(), safe='@')}/microsoft.graph.roomlist/rooms"
        else:
            path = "places/microsoft.graph.room"
        try:
            # Capacity is filtered here (not every tenant filters places), so read the whole list first.
            page = await g.get_all(path, max_items=max_results if min_capacity is None else 1000)
        except NotFound:
            raise InputError(
                f"room_list: '{room_list}' is not a room list of your organization; list_room_lists "
                "shows them (or leave room_list out for every room)."
            ) from None
        rooms = [
            Room(
                name=r.get("displayName") or "",
                email=r.get("emailAddress") or "",
                capacity=r.get("capacity"),
                building=r.get("building"),
                floor=r.get("floorNumber"),
                device=r.get("displayDeviceName"),
                wheelchair_accessible=r.get("isWheelChairAccessible"),
            )
            for r in page.items
            if min_capacity is None or (r.get("capacity") or 0) >= min_capacity
        ]
        return Rooms(rooms=rooms[:max_results], more=(page.more or len(rooms) > max_results) or None)


def _local(dtz: dict[str, Any] | None, zone) -> str:
    if not dtz:
        return ""
    return tz.format_local(tz.from_graph(dtz, "time"), zone)
