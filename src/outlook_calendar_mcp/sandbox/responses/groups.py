"""Microsoft 365 groups and their calendars: ``/groups``.

A group is a mailbox of kind ``group`` (its doc: displayName, description,
visibility Public|Private, members: addresses) with one calendar. Graph's
group calendar API is delegated-only, and this one too: an app-only token gets
403. Members read and write the group's calendar; other people in the
organization read a public group's calendar (see :mod:`.sharing`)::

    GET  /groups                                   the organization's groups ($filter, $select, $top, $skip)
    GET  /groups/{id}                              one group
    GET  /groups/{id}/calendar                     its calendar; /events, /calendarView[/delta], /calendarPermissions
    GET  /groups/{id}/calendarView                 as /me/calendarView  (and /calendarView/delta)
    GET  /groups/{id}/events  POST                 as /me/events; events/{id} GET PATCH DELETE, /instances ...

Events created in a group calendar are organized by the group itself.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

from ..ctx import Ctx
from ..errors import GraphHTTPError
from ..models import odata
from ..models.rows import MailboxRow
from .common import parse_query, respond_docs

GROUP_PROPERTIES = {
    "id",
    "displayName",
    "description",
    "mail",
    "mailNickname",
    "mailEnabled",
    "securityEnabled",
    "groupTypes",
    "visibility",
}
APP_ONLY = (
    "Access is denied. Check credentials and try again. Group calendars are reached with delegated "
    "permissions only (sign in as a member); application permissions are not supported."
)


def render_group(row: MailboxRow) -> dict[str, Any]:
    doc = json.loads(row["doc"])
    return {
        "id": row["id"],
        "displayName": doc["displayName"],
        "description": doc.get("description"),
        "mail": row["address"],
        "mailNickname": row["address"].split("@")[0],
        "mailEnabled": True,
        "securityEnabled": False,
        "groupTypes": ["Unified"],
        "visibility": doc.get("visibility") or "Public",
    }


def group_not_found(key: str) -> GraphHTTPError:
    return GraphHTTPError(
        404,
        "Request_ResourceNotFound",
        f"Resource '{key}' does not exist or one of its queried reference-property objects are not present.",
    )


def list_groups(ctx: Ctx) -> Response:
    query = parse_query(
        ctx, {"$select", "$filter", "$top", "$skip", "$count", "$orderby"}, GROUP_PROPERTIES, "microsoft.graph.group"
    )
    return respond_docs(ctx, [render_group(r) for r in ctx.store.mailboxes("group")], query, "groups", default_page=100)


def get_group(ctx: Ctx, row: MailboxRow) -> Response:
    query = parse_query(ctx, {"$select"}, GROUP_PROPERTIES, "microsoft.graph.group")
    return ctx.respond(
        {"@odata.context": ctx.context_url("groups/$entity"), **odata.project(render_group(row), query.select)}
    )
