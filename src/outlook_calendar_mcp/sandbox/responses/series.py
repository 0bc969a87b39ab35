"""A series' exceptions and cancellations on the event itself (Graph beta).

On ``/beta`` (as the reference's "Get event" shows), events carry:

* ``occurrenceId``: ``OID.{seriesMasterId}.{yyyy-mm-dd}`` for an occurrence or
  exception (the date of its original start, in the series' zone); null
  otherwise;
* ``cancelledOccurrences`` (series masters): the occurrenceIds of its
  cancelled (deleted) occurrences;
* ``exceptionOccurrences`` (series masters, with ``$expand=exceptionOccurrences``):
  its changed occurrences as events, with their ``id`` and ``occurrenceId``;
  ``$select`` applies to them as to the master.

``GET {mb}/events/{id}/calendar`` answers the calendar an event is in (v1.0).

On ``/v1.0`` these properties do not exist: asking for them is a 400, as
Graph answers for any unknown property.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from starlette.responses import Response

from ..ctx import Ctx
from ..errors import GraphHTTPError
from ..models import events as ev
from ..models import lookup, odata
from ..models.rows import CalendarRow
from ..models.store import parse_occurrence_id
from . import calendars

BETA_ONLY = ("exceptionOccurrences", "cancelledOccurrences", "occurrenceId")


def occurrence_key(master_id: str, original: str | dt.datetime) -> str:
    day = original.date() if isinstance(original, dt.datetime) else dt.datetime.fromisoformat(original).date()
    return f"OID.{master_id}.{day.isoformat()}"


def _original(ctx: Ctx, event_id: str) -> str | None:
    row = ctx.store.event_row(ctx.mailbox["id"], event_id)
    if row is not None:
        return row["original_start"]
    parsed = parse_occurrence_id(event_id)
    return parsed[1].isoformat() if parsed else None


def on_get(ctx: Ctx, event_id: str, doc: dict[str, Any], body: dict[str, Any], query: Any) -> None:
    asked = {n for n in (query.select or []) + list(query.expand) if n in BETA_ONLY}
    if ctx.version != "beta":
        if asked:
            name = sorted(asked)[0]
            raise GraphHTTPError(
                400,
                "BadRequest",
                f"Parsing OData Select and Expand failed: Could not find a property named '{name}' on "
                "type 'microsoft.graph.event'. (It exists in /beta only.)",
            )
        return
    select = query.select
    kind = doc.get("type")
    master_id = event_id if kind == "seriesMaster" else doc.get("seriesMasterId")
    if select is None or "occurrenceId" in select:
        original = _original(ctx, event_id) if kind in ("occurrence", "exception") else None
        body["occurrenceId"] = occurrence_key(master_id, original) if original and master_id else None
    if select is None or "cancelledOccurrences" in select:
        body["cancelledOccurrences"] = []
    if "exceptionOccurrences" not in query.expand:
        body.pop("exceptionOccurrences", None)
    else:
        body["exceptionOccurrences"] = []
    if kind != "seriesMaster":
        return
    children = sorted(ctx.store.series_children(event_id), key=lambda r: r["original_start"] or "")
    if "cancelledOccurrences" in body:
        body["cancelledOccurrences"] = [
            occurrence_key(event_id, c["original_start"] or "") for c in children if c["kind"] == "cancelled"
        ]
    if "exceptionOccurrences" in body:
        out = []
        for child in children:
            if child["kind"] != "exception":
                continue
            rendered = ev.render(lookup.load_doc(ctx, child), child["id"], ctx.view)
            rendered["occurrenceId"] = occurrence_key(event_id, child["original_start"] or "")
            item = (
                odata.project(
                    rendered, [s for s in select if s not in ("exceptionOccurrences", "cancelledOccurrences")]
                )
                if select is not None
                else rendered
            )
            if select is not None:
                item["occurrenceId"] = rendered["occurrenceId"]
            out.append(item)
        body["exceptionOccurrences"] = out


def event_calendar(ctx: Ctx, event_id: str, calendar: CalendarRow | None) -> Response:
    """``GET {mb}/events/{id}/calendar``: the calendar an event (or occurrence) is in."""
    _, row, master = lookup.find_event(ctx, event_id, calendar)
    home = row or master
    assert home is not None  # find_event found the event (or its series master)
    found = ctx.store.calendar(ctx.mailbox["id"], home["calendar_id"])
    assert found is not None
    return calendars.get_calendar(ctx, found)
