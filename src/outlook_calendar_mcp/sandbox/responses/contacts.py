"""``{mb}/contacts``: the mailbox's personal contacts (GET with $filter, $top, $skip, $select, $orderby; POST).

Graph's list contacts documents ``$filter=emailAddresses/any(a:a/address eq '...')``; ``$search`` is not among
the options contacts take (the people API, ``{mb}/people``, is the one that searches), so it is refused.
Someone else's contacts are theirs: only they (or an app-only caller) read or add them.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

from ..ctx import Ctx
from ..errors import GraphHTTPError
from ..models import odata
from ..models.contacts import CONTACT_PROPERTIES, add_contact
from .common import mailbox_context, parse_query, respond_docs


def render(contact_id: str, doc: dict[str, Any]) -> dict[str, Any]:
    return {"@odata.etag": f'W/"{doc["changeKey"]}"', "id": contact_id, **doc}


def _require_owner(ctx: Ctx) -> None:
    if not ctx.principal.app_only and ctx.principal.mailbox["id"] != ctx.mailbox["id"]:
        raise GraphHTTPError(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")


def list_contacts(ctx: Ctx) -> Response:
    _require_owner(ctx)
    query = parse_query(
        ctx,
        {"$select", "$filter", "$orderby", "$top", "$skip", "$count"},
        CONTACT_PROPERTIES,
        "microsoft.graph.contact",
    )
    docs = [render(r["id"], json.loads(r["doc"])) for r in ctx.store.contacts_of(ctx.mailbox["id"])]
    return respond_docs(ctx, docs, query, f"{mailbox_context(ctx)}/contacts")


def create_contact(ctx: Ctx) -> Response:
    _require_owner(ctx)
    query = parse_query(ctx, {"$select"}, CONTACT_PROPERTIES, "microsoft.graph.contact")
    contact_id, doc = add_contact(ctx.store, ctx.mailbox["id"], ctx.json(), ctx.now)
    body = odata.project(render(contact_id, doc), query.select)
    return ctx.respond(
        {"@odata.context": ctx.context_url(f"{mailbox_context(ctx)}/contacts/$entity"), **body},
        201,
        {"Location": f"{ctx.base_url()}/{ctx.path_prefix}/contacts('{contact_id}')"},
    )
