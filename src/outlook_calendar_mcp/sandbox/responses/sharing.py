"""HTTP handlers of calendarPermissions (list, create, get, update, delete), and redacting event responses."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import JSONResponse, Response

from ..ctx import Ctx
from ..errors import bad_request, not_found, unknown_property
from ..models import odata
from ..models.rows import CalendarRow
from ..models.sharing import (
    MY_ORGANIZATION,
    MY_ORGANIZATION_ID,
    OWNER,
    PERMISSION_PROPERTIES,
    ROLES,
    Access,
    access,
    find_permission,
    grant,
    permissions,
    redact,
    require,
)
from .common import parse_query, respond_docs


def redact_response(response: Response, got: Access) -> Response:
    """A JSON response of events (one, or a collection in ``value``) redacted for ``got``."""
    if got.full or response.status_code != 200 or not getattr(response, "body", None):
        return response
    body = json.loads(bytes(response.body))
    if isinstance(body.get("value"), list):
        body["value"] = [redact(e, got) if isinstance(e, dict) else e for e in body["value"]]
    elif "id" in body:
        body = redact(body, got)
    headers = {k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "content-type")}
    return JSONResponse(body, status_code=response.status_code, headers=headers)


def _body(ctx: Ctx) -> dict[str, Any]:
    body = ctx.json()
    if not isinstance(body, dict):
        raise bad_request(
            "The request body must be a JSON object describing a microsoft.graph.calendarPermission.", "BadRequest"
        )
    for key in body:
        if key not in PERMISSION_PROPERTIES and not key.startswith("@odata."):
            raise unknown_property(key, "calendarPermission")
    if "role" in body and body["role"] not in (*ROLES, "custom"):
        raise bad_request(
            f"Cannot convert the literal '{body['role']}' to the expected type "
            f"'microsoft.graph.calendarRoleType': use one of {', '.join(ROLES)}.",
            "BadRequest",
        )
    return body


def _context(ctx: Ctx) -> str:
    return ctx.context_url(
        "/".join(
            ctx.segments[: ctx.segments.index(next(s for s in ctx.segments if s.lower() == "calendarpermissions")) + 1]
        )
    )


def list_permissions(ctx: Ctx, calendar: CalendarRow) -> Response:
    query = parse_query(
        ctx,
        {"$select", "$filter", "$top", "$skip", "$count"},
        PERMISSION_PROPERTIES,
        "microsoft.graph.calendarPermission",
    )
    docs = permissions(ctx, calendar) if access(ctx, calendar).owner else []  # a sharee sees none, as in Graph
    return respond_docs(ctx, docs, query, _context(ctx).split("#", 1)[1], default_page=100)


def _owner_only(ctx: Ctx, calendar: CalendarRow) -> None:
    require(ctx, calendar, OWNER)


def create_permission(ctx: Ctx, calendar: CalendarRow) -> Response:
    _owner_only(ctx, calendar)
    body = _body(ctx)
    email = body.get("emailAddress")
    if not isinstance(email, dict) or not isinstance(email.get("address"), str) or "@" not in email["address"]:
        raise bad_request(
            "emailAddress.address is required: the SMTP address of the person to share the calendar "
            'with, e.g. {"emailAddress": {"address": "dana@contoso.com"}, "role": "read"}.',
            "ErrorInvalidParameter",
        )
    if not body.get("role"):
        raise bad_request(
            "role is required: one of freeBusyRead, limitedRead, read, write, "
            "delegateWithoutPrivateEventAccess, delegateWithPrivateEventAccess.",
            "ErrorInvalidParameter",
        )
    created = grant(ctx, calendar, email["address"].strip(), body["role"], email.get("name"))
    return ctx.respond({"@odata.context": f"{_context(ctx)}/$entity", **created}, 201)


def get_permission(ctx: Ctx, calendar: CalendarRow, pid: str) -> Response:
    query = parse_query(ctx, {"$select"}, PERMISSION_PROPERTIES, "microsoft.graph.calendarPermission")
    if not access(ctx, calendar).owner:
        raise not_found()
    return ctx.respond(
        {
            "@odata.context": f"{_context(ctx)}/$entity",
            **odata.project(find_permission(ctx, calendar, pid), query.select),
        }
    )


def patch_permission(ctx: Ctx, calendar: CalendarRow, pid: str) -> Response:
    _owner_only(ctx, calendar)
    body = _body(ctx)
    current = find_permission(ctx, calendar, pid)
    others = [k for k in body if k != "role" and not k.startswith("@odata.")]
    if others:
        raise bad_request(
            f"Only 'role' can be updated on a calendarPermission (not {', '.join(others)}); to share "
            "with someone else, delete this permission and create another.",
            "ErrorInvalidParameter",
        )
    role = body.get("role")
    if not role:
        raise bad_request(
            'role is required: the new calendarRoleType, e.g. {"role": "write"}.', "ErrorInvalidParameter"
        )
    if role not in current["allowedRoles"]:
        raise bad_request(
            f"The role '{role}' is not one of this permission's allowedRoles: {', '.join(current['allowedRoles'])}.",
            "ErrorInvalidParameter",
        )
    if pid == MY_ORGANIZATION_ID:
        ctx.store.add_permission(
            f"{calendar['id']}|{pid}", calendar["id"], MY_ORGANIZATION, role, {"id": pid}, replace=True
        )
    else:
        ctx.store.set_permission_role(f"{calendar['id']}|{pid}", role)
    return ctx.respond({"@odata.context": f"{_context(ctx)}/$entity", **find_permission(ctx, calendar, pid)})


def delete_permission(ctx: Ctx, calendar: CalendarRow, pid: str) -> Response:
    _owner_only(ctx, calendar)
    find_permission(ctx, calendar, pid)
    if pid == MY_ORGANIZATION_ID:
        raise bad_request(
            'The "My Organization" permission can\'t be removed (isRemovable is false); set its role to none instead.',
            "ErrorCannotDeleteObject",
        )
    ctx.store.delete_permission(f"{calendar['id']}|{pid}")
    return ctx.respond(None, 204)
