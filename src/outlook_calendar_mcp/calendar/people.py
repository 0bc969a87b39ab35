"""People and rooms by name or address, and meeting lengths: what finding a time for a meeting reads (and
find_people's search)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

import anyio

from ..graph import BatchRequest, Forbidden, GraphError, GraphResponse, Page, Prefer
from .errors import InputError
from .services import Services
from .targets import ADDRESS
from .together import Pending, capture

__all__ = [
    "MAX_WINDOW",
    "find_people",
    "iso_duration",
    "parse_duration",
    "resolve_meeting",
    "resolve_people",
    "resolve_rooms",
    "rooms_that_fit",
    "zone_and_meeting",
]

_ISO_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$", re.I)
_PLAIN_DURATION = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*(h|hr|hrs|hour|hours|m|min|mins|minute|minutes)?\s*$", re.I)
MAX_WINDOW = dt.timedelta(days=62)  # Graph's limit for findMeetingTimes and getSchedule


def parse_duration(value: str | int, label: str = "duration") -> dt.timedelta:
    """'1h', '90m', '1.5 hours', 'PT1H30M', or a number of minutes."""
    if isinstance(value, bool):
        raise InputError(f"{label}: give minutes (60), '1h', '90m' or ISO 8601 'PT1H'.")
    if isinstance(value, (int, float)):
        minutes = float(value)
    else:
        text = value.strip()
        iso = _ISO_DURATION.match(text)
        plain = _PLAIN_DURATION.match(text)
        if iso and text.upper() not in ("P", "PT"):
            d, h, m, s = (int(x or 0) for x in iso.groups())
            minutes = d * 1440 + h * 60 + m + s / 60
        elif plain:
            number, unit = float(plain.group(1)), (plain.group(2) or "m").lower()
            minutes = number * 60 if unit.startswith("h") else number
        else:
            raise InputError(f"{label}: '{value}' is not a duration; give minutes (60), '1h', '90m' or 'PT1H'.")
    if minutes <= 0:
        raise InputError(f"{label}: must be longer than zero, e.g. 30 (minutes) or '1h'.")
    if minutes > 24 * 60 * 7:
        raise InputError(f"{label}: at most a week; split longer blocks.")
    return dt.timedelta(minutes=minutes)


def iso_duration(delta: dt.timedelta) -> str:
    """A duration as ISO 8601 ('PT1H30M'), as Graph takes meetingDuration."""
    minutes = int(delta.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    return "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes or not hours else "")


async def zone_and_meeting(
    svc: Services,
    mailbox: str | None,
    time_zone: str | None,
    people: list[tuple[list[str], str]],
    rooms: list[str] | None = None,
) -> tuple[tuple[str, ZoneInfo], Pending[tuple[list[list[dict[str, str]]], list[dict[str, str]]]]]:
    """The zone to read times in and :func:`resolve_meeting`'s lookups, in flight together: two independent
    Graph round trips (the mailbox's settings, the batch of names) cost one wait. The lookups' outcome is
    read after the caller has checked its times (``.result()`` raises their error then)."""
    zone: Pending[tuple[str, ZoneInfo]] = Pending()
    found: Pending[tuple[list[list[dict[str, str]]], list[dict[str, str]]]] = Pending()
    async with anyio.create_task_group() as tg:
        tg.start_soon(capture, found, resolve_meeting(svc, people, rooms))
        await capture(zone, svc.zone(mailbox, time_zone))
    return zone.result(), found


async def resolve_people(svc: Services, people: list[str], label: str) -> list[dict[str, str]]:
    """Names or addresses → [{'address', 'name'}]; a name must match exactly one person."""
    (found,), _ = await resolve_meeting(svc, [(people, label)])
    return found


async def resolve_rooms(svc: Services, rooms: list[str], label: str = "rooms") -> list[dict[str, str]]:
    """Room addresses or names → [{'address', 'name'}], checked against the organization's rooms.

    Without permission to read places (Place.Read.All), addresses are passed on unchecked.
    """
    _, found = await resolve_meeting(svc, [], rooms, label)
    return found


async def resolve_meeting(
    svc: Services, people: list[tuple[list[str], str]], rooms: list[str] | None = None, rooms_label: str = "rooms"
) -> tuple[list[list[dict[str, str]]], list[dict[str, str]]]:
    """Each ``(names or addresses, label)`` group of people, and ``rooms``, resolved in one Graph round trip:
    every name's directory lookup and the room list go in one JSON batch (one plain request when only one is
    needed). Names must match exactly one person; rooms must be the organization's (unchecked addresses when
    places cannot be read)."""
    names: list[str] = []
    for group, label in people:
        for i, who in enumerate(group):
            text = who.strip()
            if not text:
                raise InputError(f"{label}[{i}]: empty; give a name or an address.")
            if not ADDRESS.match(text):
                names.append(text)
    unique = list(dict.fromkeys(names))
    answers = await _send(svc, [_directory_lookup(text) for text in unique] + ([ROOM_LIST] if rooms else []))
    found: dict[str, list[dict[str, Any]]] = {}
    for text, answer in zip(unique, answers, strict=False):
        if isinstance(answer, GraphError):
            raise answer
        found[text] = (answer.json() or {}).get("value") or []
    missing = [text for text in unique if not any(u.get("mail") for u in found[text])]
    if missing and not svc.app_only:  # not colleagues: people the user meets (outside guests)? One more batch.
        for text, answer in zip(missing, await _send(svc, [_people_lookup(t) for t in missing]), strict=False):
            if isinstance(answer, GraphError):
                raise answer
            found[text] = [
                {"displayName": p.get("displayName"), "mail": p["scoredEmailAddresses"][0]["address"]}
                for p in (answer.json() or {}).get("value") or []
                if p.get("scoredEmailAddresses")
            ]
    resolved = [[_person(who, found, label, i) for i, who in enumerate(group)] for group, label in people]
    places: list[dict[str, str]] = []
    if rooms:
        places = await _rooms(svc, rooms, rooms_label, answers[-1])
    return resolved, places


ROOM_LIST = BatchRequest("GET", "places/microsoft.graph.room", prefer=Prefer(max_page_size=100))
_ROOM_LIMIT = 1000


def _directory_lookup(text: str) -> BatchRequest:
    escaped = text.replace("'", "''")
    return BatchRequest(
        "GET",
        "users",
        params={"$filter": f"startswith(displayName,'{escaped}') or startswith(givenName,'{escaped}')", "$top": 10},
    )


def _people_lookup(text: str) -> BatchRequest:
    """The user's relevant people (Graph's /me/people ranking: contacts, people they meet) matching ``text``."""
    return BatchRequest("GET", "me/people", params={"$search": f'"{text}"', "$top": 10})


async def _send(svc: Services, requests: list[BatchRequest]) -> list[GraphResponse | GraphError]:
    if len(requests) != 1:
        return await svc.graph.batch(requests) if requests else []
    (one,) = requests
    try:
        return [await svc.graph.request(one.method, one.path, params=one.params, prefer=one.prefer)]
    except GraphError as e:
        return [e]


def _person(who: str, found: dict[str, list[dict[str, Any]]], label: str, i: int) -> dict[str, str]:
    text = who.strip()
    if ADDRESS.match(text):
        return {"address": text, "name": text}
    matches = [u for u in found[text] if u.get("mail")]
    exact = [u for u in matches if (u.get("displayName") or "").lower() == text.lower()]
    matches = exact or matches
    if not matches:
        raise InputError(
            f"{label}[{i}]: nobody called '{text}' in the directory; check the spelling or give "
            "the email address (find_people searches by name)."
        )
    if len(matches) > 1:
        names = ", ".join(f"{u['displayName']} <{u['mail']}>" for u in matches[:5])
        raise InputError(f"{label}[{i}]: '{text}' matches several people ({names}); give the email address.")
    return {"address": matches[0]["mail"], "name": matches[0].get("displayName") or matches[0]["mail"]}


async def _rooms(
    svc: Services, rooms: list[str], label: str, answer: GraphResponse | GraphError
) -> list[dict[str, str]]:
    known: list[dict[str, Any]] | None
    if isinstance(answer, Forbidden):
        known = None
    elif isinstance(answer, GraphError):
        raise answer
    else:
        body = answer.json() or {}
        known = list(body.get("value") or [])
        if body.get("@odata.nextLink"):  # more rooms than one page: the rest, as a listing
            rest = await svc.graph.get_all(body["@odata.nextLink"], max_items=_ROOM_LIMIT - len(known))
            known += rest.items
    out = []
    for i, given in enumerate(rooms):
        text = given.strip()
        if not text:
            raise InputError(f"{label}[{i}]: empty; give a room's address or name (list_rooms shows them).")
        if known is None:
            if not ADDRESS.match(text):
                raise InputError(f"{label}[{i}]: '{text}' is not a room address; list_rooms shows them.")
            out.append({"address": text, "name": text})
            continue
        low = text.lower()
        matches = (
            [r for r in known if (r.get("emailAddress") or "").lower() == low]
            or [r for r in known if low in ((r.get("displayName") or "").lower(), (r.get("nickname") or "").lower())]
            or [r for r in known if not ADDRESS.match(text) and low in (r.get("displayName") or "").lower()]
        )
        if not matches:
            raise InputError(
                f"{label}[{i}]: '{text}' is not a meeting room of your organization; list_rooms shows "
                "the rooms (list_room_lists the buildings)."
            )
        if len(matches) > 1:
            names = ", ".join(f"{r.get('displayName')} <{r.get('emailAddress')}>" for r in matches[:5])
            raise InputError(f"{label}[{i}]: '{text}' matches several rooms ({names}); give the room's address.")
        out.append(
            {"address": matches[0]["emailAddress"], "name": matches[0].get("displayName") or matches[0]["emailAddress"]}
        )
    return out


async def rooms_that_fit(svc: Services, capacity: int, building: str | None) -> list[dict[str, str]]:
    """Every room seating ``capacity`` (in ``building``, matched by its name or the room's address or list),
    smallest first: the rooms a meeting for that many can take."""
    try:
        known = (await svc.graph.get_all("places/microsoft.graph.room", max_items=1000)).items
    except Forbidden:
        raise InputError(
            "room_capacity: reading your organization's rooms needs the Place.Read.All permission; add it "
            "(OUTLOOK_MCP_SCOPES) or give rooms by address."
        ) from None
    want = (building or "").strip().lower()
    fits = [
        r
        for r in known
        if (r.get("capacity") or 0) >= capacity
        and r.get("emailAddress")
        and (not want or want in " ".join(str(r.get(k) or "") for k in ("building", "displayName")).lower())
    ]
    if not fits:
        where = f" in '{building}'" if building else ""
        buildings = sorted({str(r.get("building")) for r in known if r.get("building")})
        raise InputError(
            f"room_capacity: no room{where} seats {capacity}; buildings: {', '.join(buildings) or 'none listed'} "
            "(list_rooms shows every room)."
        )
    fits.sort(key=lambda r: (r.get("capacity") or 0, r.get("displayName") or ""))
    return [{"address": r["emailAddress"], "name": r.get("displayName") or r["emailAddress"]} for r in fits]


async def find_people(svc: Services, query: str, max_results: int) -> list[dict[str, Any]]:
    """People and rooms whose name (or address) matches ``query``: the signed-in user's relevant people first,
    as Graph ranks them (/me/people: the people they meet, outside guests and contacts included; none with
    app-only sign-in), then the directory; each {name, email, job_title, office, kind}."""
    text = query.strip().replace('"', "")
    if not text:
        raise InputError("query: give a name, e.g. 'Dana'.")
    escaped = text.replace("'", "''")
    directory = svc.graph.get_page(
        "users",
        params={
            "$filter": f"startswith(displayName,'{escaped}') or startswith(mail,'{escaped}')",
            "$top": max_results,
        },
    )
    # Both lists in flight together (one wait); the directory's is used when the relevant people are too few.
    relevant: Pending[Page] = Pending()
    listed: Pending[Page] = Pending()
    async with anyio.create_task_group() as tg:
        if not svc.app_only:
            tg.start_soon(
                capture, relevant, svc.graph.get_page("me/people", params={"$search": f'"{text}"', "$top": max_results})
            )
        await capture(listed, directory)
    found: dict[str, dict[str, Any]] = {}
    if not svc.app_only:
        for p in relevant.result().items:
            emails = p.get("scoredEmailAddresses") or []
            if emails:
                subclass = (p.get("personType") or {}).get("subclass")
                kind = {"Room": "room", "ImplicitContact": "external", "PersonalContact": "contact"}.get(subclass or "")
                found.setdefault(
                    emails[0]["address"].lower(),
                    {
                        "name": p.get("displayName") or emails[0]["address"],
                        "email": emails[0]["address"],
                        "job_title": p.get("jobTitle"),
                        "office": p.get("officeLocation"),
                        "kind": kind,
                    },
                )
    if len(found) < max_results:
        for u in listed.result().items:
            address = u.get("mail") or u.get("userPrincipalName")
            if address:
                found.setdefault(
                    address.lower(),
                    {
                        "name": u.get("displayName") or address,
                        "email": address,
                        "job_title": u.get("jobTitle"),
                        "office": u.get("officeLocation"),
                    },
                )
    return list(found.values())[:max_results]
