"""Directory endpoints: users, me, people, mailboxSettings."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from starlette.responses import Response

from ... import timezones as tz
from ..ctx import Ctx
from ..errors import GraphHTTPError, bad_request
from ..models import odata
from ..models.bodies import MAILBOX_SETTINGS, check
from ..models.people import Relevant, relevant_people
from ..models.rows import MailboxRow
from .common import parse_query, respond_docs

USER_PROPERTIES = {
    "id",
    "displayName",
    "givenName",
    "surname",
    "mail",
    "userPrincipalName",
    "jobTitle",
    "officeLocation",
    "businessPhones",
    "mobilePhone",
    "preferredLanguage",
}
PERSON_PROPERTIES = {
    "id",
    "displayName",
    "givenName",
    "surname",
    "jobTitle",
    "officeLocation",
    "department",
    "scoredEmailAddresses",
    "personType",
    "userPrincipalName",
    "companyName",
}
USER_SEARCH_FIELDS = ("displayName", "mail", "userPrincipalName", "givenName", "surname")


def render_user(row: MailboxRow) -> dict[str, Any]:
    doc = json.loads(row["doc"])
    given, _, surname = doc["displayName"].partition(" ")
    return {
        "id": row["id"],
        "displayName": doc["displayName"],
        "givenName": doc.get("givenName", given or None),
        "surname": doc.get("surname", surname or None),
        "mail": row["address"],
        "userPrincipalName": row["address"],
        "jobTitle": doc.get("jobTitle"),
        "officeLocation": doc.get("officeLocation"),
        "businessPhones": doc.get("businessPhones", []),
        "mobilePhone": doc.get("mobilePhone"),
        "preferredLanguage": doc.get("preferredLanguage", "en-US"),
    }


def get_user(ctx: Ctx) -> Response:
    query = parse_query(ctx, {"$select"}, USER_PROPERTIES, "microsoft.graph.user")
    body = odata.project(render_user(ctx.mailbox), query.select)
    return ctx.respond({"@odata.context": ctx.context_url("users/$entity"), **body})


def list_users(ctx: Ctx) -> Response:
    query = parse_query(
        ctx,
        {"$select", "$filter", "$orderby", "$top", "$skip", "$count", "$search"},
        USER_PROPERTIES,
        "microsoft.graph.user",
    )
    docs = [render_user(r) for r in ctx.store.mailboxes() if r["kind"] in ("user", "room")]
    if query.search is not None:
        if (ctx.request.headers.get("consistencylevel") or "").lower() != "eventual":
            raise GraphHTTPError(
                400,
                "Request_BadRequest",
                "Request with $search query parameter only works through MSGraph with a special "
                "request header: 'ConsistencyLevel: eventual'",
            )
        docs = [d for d in docs if _search(query.search, d, USER_SEARCH_FIELDS)]
    return respond_docs(ctx, docs, query, "users", default_page=100)


def _search(text: str, doc: dict[str, Any], fields: tuple[str, ...]) -> bool:
    """Graph's directory $search: "displayName:Da" scopes the words to one property; clauses join with OR/AND."""
    text = text.strip().strip('"')
    for clause in re.split(r'"\s+OR\s+"', text):
        clause = clause.strip('"')
        prop, sep, words = clause.partition(":")
        scoped = [f for f in fields if f.lower() == prop.strip().lower()] if sep else []
        if sep and not scoped:
            raise GraphHTTPError(
                400,
                "Request_UnsupportedQuery",
                f"$search on property '{prop}' is not supported; use one of {', '.join(fields)}.",
            )
        if _prefix_match(words if sep else clause, doc, tuple(scoped) or fields):
            return True
    return False


def _prefix_match(words: str, doc: dict[str, Any], fields: tuple[str, ...]) -> bool:
    """Directory search is tokenized: every word must start a token of one of the fields (or the field itself:
    'olivia.chen' finds olivia.chen@woodgrovebank.com)."""
    values = [str(doc.get(f) or "").lower() for f in fields]
    tokens = [t for v in values for t in re.split(r"[\s@._\-]+", v) if t] + [v for v in values if v]
    return all(any(t.startswith(w) for t in tokens) for w in words.lower().split())


def list_people(ctx: Ctx) -> Response:
    """People relevant to the signed-in user (:mod:`..models.people`): who they meet, most and latest first,
    outside guests included, then their personal contacts, then the rest of the directory."""
    _require_self(ctx)
    query = parse_query(
        ctx, {"$select", "$filter", "$top", "$skip", "$search"}, PERSON_PROPERTIES, "microsoft.graph.person"
    )
    docs = [_person(p) for p in relevant_people(ctx.store, ctx.mailbox, ctx.now)]
    if query.search is not None:  # people search matches the starts of names and addresses
        fields = ("displayName", "givenName", "surname", "address")
        words = query.search.strip().strip('"')
        docs = [
            d for d in docs if _prefix_match(words, {**d, "address": d["scoredEmailAddresses"][0]["address"]}, fields)
        ]
    return respond_docs(ctx, docs, query, f"users('{ctx.mailbox['id']}')/people")


def _person(p: Relevant) -> dict[str, Any]:
    """A microsoft.graph.person: a directory user or room, a personal contact, or an outside guest."""
    scored = [{"address": p.address, "relevanceScore": p.score, "selectionLikelihood": "notSpecified"}]
    if p.row is None and p.contact is not None:
        c = p.contact
        return {
            "id": p.contact_id,
            "displayName": c.get("displayName") or p.address,
            "givenName": c.get("givenName"),
            "surname": c.get("surname"),
            "jobTitle": c.get("jobTitle"),
            "officeLocation": c.get("officeLocation"),
            "department": c.get("department"),
            "companyName": c.get("companyName"),
            "userPrincipalName": None,
            "scoredEmailAddresses": scored,
            "personType": {"class": "Person", "subclass": "PersonalContact"},
        }
    if p.row is None:
        given, _, surname = p.name.partition(" ")
        domain = p.address.rpartition("@")[2]
        return {
            "id": "ext-" + p.address.lower(),
            "displayName": p.name,
            "givenName": given if p.name != p.address else None,
            "surname": surname or None,
            "jobTitle": None,
            "officeLocation": None,
            "department": None,
            "companyName": domain.split(".")[0].capitalize() if domain else None,
            "userPrincipalName": None,
            "scoredEmailAddresses": scored,
            "personType": {"class": "Person", "subclass": "ImplicitContact"},
        }
    user = render_user(p.row)
    doc = json.loads(p.row["doc"])
    return {
        "id": p.row["id"],
        "displayName": user["displayName"],
        "givenName": user["givenName"],
        "surname": user["surname"],
        "jobTitle": user["jobTitle"],
        "officeLocation": user["officeLocation"],
        "department": doc.get("department"),
        "companyName": doc.get("companyName", "Contoso"),
        "userPrincipalName": p.row["address"],
        "scoredEmailAddresses": scored,
        "personType": {"class": "Person", "subclass": "OrganizationUser" if p.row["kind"] == "user" else "Room"},
    }


def _require_self(ctx: Ctx) -> None:
    if not ctx.principal.app_only and ctx.principal.mailbox["id"] != ctx.mailbox["id"]:
        raise GraphHTTPError(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")


def mailbox_settings(row: MailboxRow) -> dict[str, Any]:
    doc = json.loads(row["doc"])
    zone = doc.get("timeZone", "UTC")
    hours = doc.get("workingHours") or {}
    return {
        "archiveFolder": None,
        "timeZone": zone,
        "automaticRepliesSetting": {
            "status": "disabled",
            "externalAudience": "all",
            "internalReplyMessage": "",
            "externalReplyMessage": "",
        },
        "dateFormat": doc.get("dateFormat", "M/d/yyyy"),
        "timeFormat": doc.get("timeFormat", "h:mm tt"),
        "delegateMeetingMessageDeliveryOptions": "sendToDelegateOnly",
        "language": {"locale": doc.get("preferredLanguage", "en-US"), "displayName": "English (United States)"},
        "workingHours": {
            "daysOfWeek": hours.get("daysOfWeek", ["monday", "tuesday", "wednesday", "thursday", "friday"]),
            "startTime": hours.get("startTime", "08:00:00.0000000"),
            "endTime": hours.get("endTime", "17:00:00.0000000"),
            "timeZone": {"name": hours.get("timeZone", zone)},
        },
        "userPurpose": "user" if row["kind"] == "user" else "room",
    }


def get_mailbox_settings(ctx: Ctx) -> Response:
    _require_self(ctx)
    query = parse_query(
        ctx,
        {"$select"},
        {
            "archiveFolder",
            "timeZone",
            "automaticRepliesSetting",
            "dateFormat",
            "timeFormat",
            "delegateMeetingMessageDeliveryOptions",
            "language",
            "workingHours",
            "userPurpose",
        },
        "microsoft.graph.mailboxSettings",
    )
    body = odata.project(mailbox_settings(ctx.mailbox), query.select)
    body.pop("id", None)
    return ctx.respond({"@odata.context": ctx.context_url(f"users('{ctx.mailbox['id']}')/mailboxSettings"), **body})


def patch_mailbox_settings(ctx: Ctx) -> Response:
    _require_self(ctx)
    body = ctx.json()
    check(body, MAILBOX_SETTINGS)
    doc = json.loads(ctx.mailbox["doc"])
    if "timeZone" in body:
        _zone(body["timeZone"], "timeZone")
        doc["timeZone"] = body["timeZone"]
    for key in ("dateFormat", "timeFormat"):
        if key in body:
            doc[key] = body[key]
    if body.get("workingHours"):
        hours = dict(doc.get("workingHours") or {})
        wh = body["workingHours"]
        for key in ("startTime", "endTime"):
            if key in wh:
                hours[key] = _time_of_day(wh[key], f"workingHours.{key}")
        if "daysOfWeek" in wh:
            hours["daysOfWeek"] = wh["daysOfWeek"]
        if wh.get("timeZone", {}).get("name"):
            _zone(wh["timeZone"]["name"], "workingHours.timeZone.name")
            hours["timeZone"] = wh["timeZone"]["name"]
        doc["workingHours"] = hours
    ctx.store.update_mailbox_doc(ctx.mailbox["id"], doc)
    row = ctx.store.mailbox(ctx.mailbox["id"])
    assert row is not None
    ctx.mailbox = row
    return get_mailbox_settings(ctx)


def _zone(name: str, label: str) -> None:
    if not tz.is_known(name):
        raise GraphHTTPError(
            400,
            "TimeZoneNotSupportedException",
            f"A valid TimeZone value must be specified. The following TimeZone value is not "
            f"supported: '{name}' ({label}).",
        )


def _time_of_day(value: str, label: str) -> str:
    try:
        t = dt.time.fromisoformat(value.split(".")[0])
    except ValueError:
        raise bad_request(f"{label}: '{value}' is not a time of day; use the form '08:30:00'.") from None
    return t.strftime("%H:%M:%S") + ".0000000"
