"""Rooms and room lists: Graph's ``/places`` API over the sandbox's room mailboxes.

::

    GET /places/microsoft.graph.room                               every room
    GET /places/microsoft.graph.roomlist                           every room list
    GET /places/{room-list address}/microsoft.graph.roomlist/rooms the rooms of one list
    GET /places/{id | address}                                     one place (room or room list, with @odata.type)
    GET /places/{id | address}/microsoft.graph.room | .roomlist    the same, cast (404 when it is the other kind)

Rooms are mailboxes of kind ``room`` whose ``place`` data (capacity, building,
floor, devices, accessibility, ``roomList``) is kept in the mailbox document;
room lists are mailboxes of kind ``roomList``. Collections take ``$filter
$select $orderby $top $skip $count`` and page by 100, as Graph does. Type-cast
segments match case-insensitively (Graph's docs write ``roomlist``, its model
``roomList``). Any signed-in user or the app may read places.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from starlette.responses import Response

from ..ctx import Ctx
from ..errors import not_found, unknown_segment
from ..models import odata
from ..models.rows import MailboxRow
from .common import parse_query, respond_docs

ROOM = "microsoft.graph.room"
ROOM_LIST = "microsoft.graph.roomlist"
PLACE_PROPERTIES = {
    "id",
    "displayName",
    "address",
    "geoCoordinates",
    "phone",
    "emailAddress",
    "label",
    "tags",
    "isWheelChairAccessible",
    "placeId",
    "parentId",
}
ROOM_PROPERTIES = PLACE_PROPERTIES | {
    "nickname",
    "building",
    "floorNumber",
    "floorLabel",
    "capacity",
    "bookingType",
    "audioDeviceName",
    "videoDeviceName",
    "displayDeviceName",
}
LIST_OPTIONS = {"$select", "$filter", "$orderby", "$top", "$skip", "$count"}
PAGE = 100


def render_room(row: MailboxRow) -> dict[str, Any]:
    doc = json.loads(row["doc"])
    place = doc.get("place") or {}
    return {
        "id": row["id"],
        "emailAddress": row["address"],
        "displayName": doc["displayName"],
        "nickname": place.get("nickname") or doc["displayName"],
        "address": place.get("address") or doc.get("address"),
        "geoCoordinates": place.get("geoCoordinates"),
        "phone": place.get("phone"),
        "label": place.get("label"),
        "building": place.get("building"),
        "floorNumber": place.get("floorNumber"),
        "floorLabel": place.get("floorLabel"),
        "capacity": place.get("capacity"),
        "bookingType": place.get("bookingType") or "standard",
        "isWheelChairAccessible": bool(place.get("isWheelChairAccessible", False)),
        "audioDeviceName": place.get("audioDeviceName"),
        "videoDeviceName": place.get("videoDeviceName"),
        "displayDeviceName": place.get("displayDeviceName"),
        "tags": list(place.get("tags") or []),
    }


def render_room_list(row: MailboxRow) -> dict[str, Any]:
    doc = json.loads(row["doc"])
    place = doc.get("place") or {}
    return {
        "id": row["id"],
        "emailAddress": row["address"],
        "displayName": doc["displayName"],
        "address": doc.get("address") or place.get("address"),
        "geoCoordinates": place.get("geoCoordinates"),
        "phone": place.get("phone"),
        "tags": list(place.get("tags") or []),
    }


def rooms_of(ctx: Ctx, room_list: Any | None) -> list[Any]:
    rows = ctx.store.mailboxes("room")
    if room_list is None:
        return rows
    address = room_list["address"].lower()
    return [r for r in rows if ((json.loads(r["doc"]).get("place") or {}).get("roomList") or "").lower() == address]


def _find(ctx: Ctx, key: str) -> Any:
    row = ctx.store.mailbox(key)
    if row is None or row["kind"] not in ("room", "roomList"):
        raise not_found(
            f"The place '{key}' was not found: give a room's or a room list's id or email address "
            "(GET /places/microsoft.graph.room lists the rooms)."
        )
    return row


def _collection(ctx: Ctx, docs: list[dict[str, Any]], properties: set[str], type_name: str, context: str) -> Response:
    query = parse_query(ctx, LIST_OPTIONS, properties, type_name)
    return respond_docs(ctx, docs, query, context, default_page=PAGE)


def _entity(ctx: Ctx, doc: dict[str, Any], properties: set[str], type_name: str, odata_type: bool) -> Response:
    query = parse_query(ctx, {"$select"}, properties, type_name)
    body = odata.project(doc, query.select)
    head: dict[str, Any] = {"@odata.context": ctx.context_url(f"places/{type_name}/$entity")}
    if odata_type:
        head["@odata.type"] = f"#{type_name}"
    return ctx.respond({**head, **body})


def get_places(ctx: Ctx, rest: list[str]) -> Response:
    if not rest:
        return _collection(
            ctx,
            [render_room_list(r) for r in ctx.store.mailboxes("roomList")]
            + [render_room(r) for r in ctx.store.mailboxes("room")],
            PLACE_PROPERTIES,
            "microsoft.graph.place",
            "places",
        )
    head = rest[0].lower()
    if head == ROOM and len(rest) == 1:
        return _collection(
            ctx,
            [render_room(r) for r in rooms_of(ctx, None)],
            ROOM_PROPERTIES,
            "microsoft.graph.room",
            "places/microsoft.graph.room",
        )
    if head == ROOM_LIST and len(rest) == 1:
        return _collection(
            ctx,
            [render_room_list(r) for r in ctx.store.mailboxes("roomList")],
            PLACE_PROPERTIES,
            "microsoft.graph.roomList",
            "places/microsoft.graph.roomList",
        )
    row = _find(ctx, rest[0])
    tail = [s.lower() for s in rest[1:]]
    if not tail:
        if row["kind"] == "room":
            return _entity(ctx, render_room(row), ROOM_PROPERTIES, "microsoft.graph.room", True)
        return _entity(ctx, render_room_list(row), PLACE_PROPERTIES, "microsoft.graph.roomList", True)
    if tail[0] == ROOM and len(tail) == 1:
        if row["kind"] != "room":
            raise not_found(f"'{rest[0]}' is a room list, not a room.")
        return _entity(ctx, render_room(row), ROOM_PROPERTIES, "microsoft.graph.room", False)
    if tail[0] == ROOM_LIST and len(tail) <= 2:
        if row["kind"] != "roomList":
            raise not_found(
                f"'{rest[0]}' is a room, not a room list: rooms of a list are reached through the list's "
                "email address, e.g. /places/building1@contoso.com/microsoft.graph.roomlist/rooms."
            )
        if len(tail) == 1:
            return _entity(ctx, render_room_list(row), PLACE_PROPERTIES, "microsoft.graph.roomList", False)
        if tail[1] == "rooms":
            return _collection(
                ctx,
                [render_room(r) for r in rooms_of(ctx, row)],
                ROOM_PROPERTIES,
                "microsoft.graph.room",
                f"places('{quote(row['address'], safe='')}')/microsoft.graph.roomList/rooms",
            )
    raise unknown_segment(rest[-1])
