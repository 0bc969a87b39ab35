"""Recurring series: which occurrence, its original date, ending a series, changing it, splitting it.

update_event and delete_event take a ``scope`` for an occurrence of a series: ``occurrence``,
``this_and_following`` (the series ends the day before that occurrence and, for an update, a new
series starts there with the change: :func:`split_series`) or ``series`` (:func:`update_series`
changes the master). A series' changed and cancelled occurrences come from Graph beta
(:func:`exceptions_of`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import anyio

from .. import timezones as tz
from .. import views
from ..graph import BatchRequest, GraphError, GraphResponse
from ..state import user_key
from .bodies import recurrence_body, times_body
from .errors import InputError
from .events import event_path, in_zone, quote_id, recurrence_change
from .services import Services
from .targets import Target, explain_access, zone_for
from .times import parse_time, utc_text
from .together import Pending, capture

__all__ = [
    "INFO_FIELDS",
    "SERIES_FIELDS",
    "Deletion",
    "Split",
    "delete_in_scope",
    "end_series",
    "end_series_on",
    "exceptions_of",
    "original_date",
    "scope_fits",
    "series_info",
    "series_rules",
    "series_to_end",
    "series_zone",
    "split_series",
    "update_series",
]

SERIES_FIELDS = (
    "subject",
    "body",
    "location",
    "locations",
    "categories",
    "showAs",
    "sensitivity",
    "importance",
    "isOnlineMeeting",
    "isReminderOn",
    "reminderMinutesBeforeStart",
    "responseRequested",
    "allowNewTimeProposals",
    "hideAttendees",
)


@dataclass
class Split:
    """What 'this and following' did: the new series (``doc``) and the day the old one now ends; or, for
    the series' first occurrence, the whole series changed (``whole_series``, ``doc`` is the series)."""

    doc: dict[str, Any]
    whole_series: bool = False
    ended_series: str | None = None  # the old series' Graph id
    ends_on: str | None = None
    starts_on: str | None = None
    changed_occurrences_dropped: int | None = None


async def exceptions_of(svc: Services, t: Target, master_id: str) -> dict[str, Any]:
    """The series master with exceptionOccurrences and cancelledOccurrences (Graph beta)."""
    with explain_access(t, writing=False):
        return await svc.graph.get(
            event_path(t, master_id),
            beta=True,
            params={
                "$select": "subject,start,end,isAllDay,occurrenceId,cancelledOccurrences,exceptionOccurrences",
                "$expand": "exceptionOccurrences",
            },
        )


INFO_FIELDS = "type,seriesMasterId,start,end,isAllDay,subject,attendees,isOrganizer"


async def series_info(
    svc: Services, t: Target, event_id: str, event: str, scope: str, zone_name: str, etag: str | None
) -> dict[str, Any]:
    """type, seriesMasterId, start, end of the event; checks that ``scope`` fits it."""
    with explain_access(t, writing=False):
        info = await svc.graph.get(
            event_path(t, event_id), prefer=svc.prefer(zone_name), params={"$select": INFO_FIELDS}
        )
    return scope_fits(info, event, scope, etag)


def scope_fits(info: dict[str, Any], event: str, scope: str, etag: str | None) -> dict[str, Any]:
    """``info`` (the event's :data:`INFO_FIELDS`), checked: ``scope`` fits the event, ``etag`` is current."""
    kind = info.get("type") or "singleInstance"
    if scope == "occurrence" and kind not in ("occurrence", "exception"):
        what = "a whole series" if kind == "seriesMaster" else "a single event"
        raise InputError(
            f"scope: 'occurrence' needs one occurrence of a series, but {event} is {what}; get an "
            "occurrence's handle from list_event_instances or calendar_view, or leave scope out."
        )
    if scope in ("series", "this_and_following") and kind == "singleInstance":
        raise InputError(f"scope: {event} is a single event, not part of a recurring series; leave scope out.")
    if etag and kind != "seriesMaster" and scope != "occurrence" and info.get("@odata.etag") != etag:
        raise InputError(
            f"etag: {event} changed since that etag was read; get_event again and retry with its current etag."
        )
    return info


def original_date(info: dict[str, Any], master: dict[str, Any], exceptions: dict[str, Any]) -> dt.date:
    """The date an occurrence had in its series (an exception may have been moved since), in the series' zone."""
    for e in exceptions.get("exceptionOccurrences") or []:
        day = views.occurrence_date(e.get("occurrenceId"))
        if e.get("id") == info.get("id") and day:
            return dt.date.fromisoformat(day)
    if info.get("isAllDay"):
        return tz.parse_graph_datetime(info["start"]["dateTime"]).date()
    rec_zone = tz.resolve(series_zone(master))
    return tz.from_graph(info["start"], "start").astimezone(rec_zone).date()


def series_zone(master: dict[str, Any]) -> str:
    """The zone a series recurs in (its range's, else its start's)."""
    rng = (master.get("recurrence") or {}).get("range") or {}
    return rng.get("recurrenceTimeZone") or (master.get("start") or {}).get("timeZone") or "UTC"


async def end_series(svc: Services, t: Target, master: dict[str, Any], last_day: dt.date) -> dict[str, Any]:
    """Make ``master``'s series end on ``last_day`` (its pattern kept); the PATCH carries the etag ``master``
    was read with, when it has one (else the client reads the current one first)."""
    rec = master["recurrence"]
    rng = {
        "type": "endDate",
        "startDate": rec["range"]["startDate"],
        "endDate": last_day.isoformat(),
        "recurrenceTimeZone": series_zone(master),
    }
    with explain_access(t, writing=True):
        return await svc.graph.patch(
            event_path(t, master["id"]),
            json={"recurrence": {"pattern": rec["pattern"], "range": rng}},
            if_match=master.get("@odata.etag"),
        )


SERIES_RULE_TTL_S = 30.0
"""How long a series' rule read for calendar_view is shown without reading it again. The server forgets
every rule when it sends a write, so its own changes show at once; a change made elsewhere (Outlook,
another worker) shows within this time."""


async def series_rules(svc: Services, t: Target, docs: list[dict[str, Any]]) -> dict[str, str]:
    """The short RRULE of each series whose occurrences are among ``docs``, by the master's handle: Graph's
    occurrences carry no rule of their own. Rules read in the last :data:`SERIES_RULE_TTL_S` are reused;
    the others are read, all in one round trip (``$batch``) when there are several."""
    masters = {d["seriesMasterId"] for d in docs if d.get("seriesMasterId")}
    masters -= {d["id"] for d in docs if d.get("type") == "seriesMaster"}  # a listed master shows its own
    user, now, writes = user_key(), svc.clock.now().timestamp(), svc.writes_seen
    known: dict[str, str | None] = {}
    for master_id in masters:
        cached = svc.series_rule_cache.get((user, master_id))
        if cached is not None and 0 <= now - cached[0] < SERIES_RULE_TTL_S:
            known[master_id] = cached[1]
    ids = sorted(masters - known.keys())
    reads = [BatchRequest("GET", event_path(t, i), params={"$select": "recurrence"}) for i in ids]
    if len(reads) == 1:
        try:
            answers: list[GraphResponse | GraphError] = [
                await svc.graph.request("GET", reads[0].path, params=reads[0].params)
            ]
        except GraphError as e:
            answers = [e]
    else:
        try:
            answers = await svc.graph.batch(reads) if reads else []
        except GraphError:
            answers = [GraphError("$batch failed")] * len(reads)
    for master_id, answer in zip(ids, answers, strict=True):
        if isinstance(answer, GraphError):
            continue  # a rule we cannot read is left out, the occurrences are still shown
        known[master_id] = views.short_rule((answer.json() or {}).get("recurrence"))
        if svc.writes_seen == writes:  # no write sent or finished meanwhile: what was read is current
            svc.series_rule_cache[(user, master_id)] = (now, known[master_id])
    rules: dict[str, str] = {}
    await svc.handles.mint(("event", master_id) for master_id in known if known[master_id])
    for master_id in sorted(known):
        rule = known[master_id]
        if rule:
            rules[svc.handles.handle("event", master_id)] = rule
    return rules


async def end_series_on(svc: Services, t: Target, event_id: str, event: str, last: str) -> dict[str, Any]:
    """End the series ``event`` is (or belongs to) on the date ``last``: no occurrence handle needed."""
    master, day = await series_to_end(svc, t, event_id, event, last)
    return await end_series(svc, t, master, day)


async def series_to_end(
    svc: Services, t: Target, event_id: str, event: str, last: str
) -> tuple[dict[str, Any], dt.date]:
    """The master of the series ``event`` is (or belongs to) and the day ``last`` it is to end on, checked:
    what :func:`end_series` takes (reads only)."""
    try:
        day = dt.date.fromisoformat(last.strip()[:10])
    except ValueError:
        raise InputError(
            f"series_ends_on: '{last}' is not a date; give the series' last day, e.g. '2027-03-31'."
        ) from None
    # The event read as its series' master would be: a master's handle (what calendar_view shows as an
    # occurrence's series) needs no second read.
    fields = "type,seriesMasterId,recurrence,start,subject"
    with explain_access(t, writing=False):
        info = await svc.graph.get(event_path(t, event_id), params={"$select": fields})
    master_id = info["id"] if info.get("type") == "seriesMaster" else info.get("seriesMasterId")
    if not master_id:
        raise InputError(f"series_ends_on: {event} is a single event, not a recurring series; leave it out.")
    master = info
    if master_id != info["id"]:
        with explain_access(t, writing=False):
            master = await svc.graph.get(event_path(t, master_id), params={"$select": "recurrence,start,subject"})
    first = dt.date.fromisoformat(master["recurrence"]["range"]["startDate"])
    if day < first:
        raise InputError(
            f"series_ends_on: {day} is before the series starts ({first}); to remove the whole series use delete_event."
        )
    return master, day


async def update_series(
    svc: Services,
    t: Target,
    info: dict[str, Any],
    body: dict[str, Any],
    start: str | None,
    end: str | None,
    all_day: bool | None,
    recurrence: str | None,
    zone_name: str,
    zone: ZoneInfo,
    event: str,
) -> dict[str, Any]:
    """PATCH the master of ``info``'s series; times given for an occurrence move every occurrence alike."""
    master_path = event_path(t, info["seriesMasterId"])
    if start is not None or end is not None or all_day is not None:
        if all_day is not None:
            raise InputError(
                "all_day: to change whether a whole series is all-day, pass the series handle "
                f"(from get_event on {event}: its 'series') without scope."
            )
        occ_start, occ_end = (tz.from_graph(info[k], k) for k in ("start", "end"))
        new_start = parse_time(start, zone, "start") if start else occ_start
        if new_start.date() != occ_start.date():
            raise InputError(
                f"start: with scope 'series' give a time on the occurrence's own day "
                f"({occ_start.date()}); to move the series to other days, change its recurrence "
                "(days_of_week)."
            )
        new_end = parse_time(end, zone, "end") if end else new_start + (occ_end - occ_start)
        master = await svc.graph.get(master_path, params={"$select": "start,end"}, prefer=svc.prefer(zone_name))
        m_day = tz.from_graph(master["start"], "start").date()
        first = dt.datetime.combine(m_day, new_start.time())
        last = first + (new_end - new_start)
        body.update(times_body(first.isoformat(), last.isoformat(), False, zone_name, zone))
    await recurrence_change(svc, master_path, body, recurrence, zone_name)
    if not body:
        raise InputError("Nothing to change: give at least one field to update (subject, start, end, ...).")
    with explain_access(t, writing=True):
        return await svc.graph.patch(master_path, json=body, prefer=svc.prefer(zone_name))


async def split_series(
    svc: Services,
    t: Target,
    info: dict[str, Any],
    changes: dict[str, Any],
    start: str | None,
    end: str | None,
    all_day: bool | None,
    recurrence: str | None,
    zone_name: str,
    zone: ZoneInfo,
    event: str,
) -> Split:
    """'This and following': end the series the day before the occurrence, start a new one there."""
    master_path = event_path(t, info["seriesMasterId"])
    with explain_access(t, writing=False):
        master = await svc.graph.get(master_path, prefer=svc.prefer(zone_name))
    extra = await exceptions_of(svc, t, master["id"])
    day = original_date(info, master, extra)
    rng = master["recurrence"]["range"]
    first_day = dt.date.fromisoformat(rng["startDate"])
    if day <= first_day:
        doc = await update_series(svc, t, info, changes, start, end, all_day, recurrence, zone_name, zone, event)
        return Split(doc=doc, whole_series=True)
    rec_zone_name = series_zone(master)
    rec_zone = tz.resolve(rec_zone_name)
    m_start, m_end = (tz.from_graph(master[k], k) for k in ("start", "end"))
    all_day_now = bool(master.get("isAllDay")) if all_day is None else all_day
    body: dict[str, Any] = {k: master[k] for k in SERIES_FIELDS if k in master}
    body["attendees"] = [
        {"emailAddress": a["emailAddress"], "type": a.get("type") or "required"} for a in master.get("attendees") or []
    ]
    body.update(changes)
    if all_day_now:
        days = max((m_end.date() - m_start.date()).days, 1)
        new_first = parse_time(start, zone, "start").date() if start else day
        last = parse_time(end, zone, "end").date() if end else new_first + dt.timedelta(days=days)
        body.update(times_body(new_first.isoformat(), last.isoformat(), True, zone_name, zone))
    else:
        default = tz.to_utc(dt.datetime.combine(day, m_start.astimezone(rec_zone).time()), rec_zone)
        new_start = parse_time(start, zone, "start") if start else default.astimezone(zone)
        new_end = parse_time(end, zone, "end") if end else new_start + (m_end - m_start)
        body.update(times_body(new_start.isoformat(), new_end.isoformat(), False, zone_name, zone))
        new_first = new_start.astimezone(rec_zone).date()
    if recurrence is not None:
        body["recurrence"] = recurrence_body(recurrence, new_first, rec_zone_name)
    else:
        pattern = dict(master["recurrence"]["pattern"])
        if new_first != day:
            if pattern.get("type") != "weekly":
                raise InputError(
                    f"start: moving this and the following occurrences from {day} to another day "
                    "needs their new rule too: give recurrence."
                )
            shift = (new_first.weekday() - day.weekday()) % 7
            order = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
            pattern["daysOfWeek"] = [order[(order.index(d) + shift) % 7] for d in pattern.get("daysOfWeek") or []]
        new_range: dict[str, Any] = {
            "type": rng["type"],
            "startDate": new_first.isoformat(),
            "recurrenceTimeZone": rec_zone_name,
        }
        if rng["type"] == "endDate":
            new_range["endDate"] = rng["endDate"]
        elif rng["type"] == "numbered":
            new_range["numberOfOccurrences"] = max(
                1, rng["numberOfOccurrences"] - await count_before(svc, t, master, extra, day, rec_zone)
            )
        body["recurrence"] = {"pattern": pattern, "range": new_range}
    body["transactionId"] = str(uuid.uuid4())
    if t.group:
        create_path = f"{t.base}/events"
    else:
        with explain_access(t, writing=False):
            calendar = await svc.graph.get(f"{master_path}/calendar", params={"$select": "id"})
        create_path = f"{t.base}/calendars/{quote_id(calendar['id'])}/events"
    with explain_access(t, writing=True):
        new = await svc.graph.post(create_path, json=body, prefer=svc.prefer(zone_name), retry_post=True)
    try:
        await end_series(svc, t, master, day - dt.timedelta(days=1))
    except Exception:
        await svc.graph.delete(event_path(t, new["id"]))  # leave the calendar as it was
        raise
    later = [d for d in views.cancelled_dates(extra) if d >= day.isoformat()]
    for cancelled in later:  # occurrences deleted from the old series stay deleted in the new one
        await cancel_on(svc, t, new, dt.date.fromisoformat(cancelled), rec_zone)
    dropped = sum(
        1
        for e in extra.get("exceptionOccurrences") or []
        if (views.occurrence_date(e.get("occurrenceId")) or "") >= day.isoformat()
    )
    return Split(
        doc=new,
        ended_series=master["id"],
        ends_on=(day - dt.timedelta(days=1)).isoformat(),
        starts_on=new_first.isoformat(),
        changed_occurrences_dropped=dropped or None,
    )


async def count_before(
    svc: Services, t: Target, master: dict[str, Any], extra: dict[str, Any], day: dt.date, rec_zone: ZoneInfo
) -> int:
    """Occurrences of a numbered series before ``day`` (cancelled ones count, as the series counts them)."""
    first = dt.date.fromisoformat(master["recurrence"]["range"]["startDate"])
    begin = tz.to_utc(dt.datetime.combine(first, dt.time()), rec_zone)
    until = tz.to_utc(dt.datetime.combine(day, dt.time()), rec_zone)
    page = await svc.graph.get_all(
        f"{event_path(t, master['id'])}/instances",
        max_items=1000,
        params={"startDateTime": utc_text(begin), "endDateTime": utc_text(until), "$select": "start"},
    )
    cancelled = [d for d in views.cancelled_dates(extra) if d < day.isoformat()]
    return len(page.items) + len(cancelled)


async def cancel_on(svc: Services, t: Target, series: dict[str, Any], day: dt.date, rec_zone: ZoneInfo) -> None:
    """Delete ``series``' occurrence on ``day`` (in the series' zone)."""
    begin = tz.to_utc(dt.datetime.combine(day, dt.time()), rec_zone)
    page = await svc.graph.get_all(
        f"{event_path(t, series['id'])}/instances",
        params={
            "startDateTime": utc_text(begin),
            "endDateTime": utc_text(begin + dt.timedelta(days=1)),
            "$select": "start",
        },
    )
    for occurrence in page.items:
        await svc.graph.delete(event_path(t, occurrence["id"]))


@dataclass
class Deletion:
    """What a delete removed: ``deleted`` (a Graph id), and ``doc``: the event, or its series' master."""

    deleted: str
    doc: dict[str, Any]
    whole_series: bool = False  # the series went (scope 'series', or its first occurrence and after)
    series_ends_on: str | None = None  # this_and_following: the series now ends on this day


async def delete_in_scope(
    svc: Services, t: Target, event_id: str, event: str, scope: str | None, etag: str | None
) -> Deletion:
    """Delete an event; for an occurrence, in ``scope``: itself, it and the following (the series ends the
    day before), or the whole series."""
    g = svc.graph
    path = event_path(t, event_id)
    if scope is None:
        with explain_access(t, writing=False):
            doc = await g.get(path, params={"$select": "subject,attendees,isOrganizer"})
        with explain_access(t, writing=True):
            await g.delete(path, if_match=etag)
        return Deletion(event_id, doc)
    # The zone and the event (in UTC: it needs none) together; then the master and its exceptions together.
    zoned: Pending[tuple[str, ZoneInfo]] = Pending()
    read: Pending[dict[str, Any]] = Pending()
    async with anyio.create_task_group() as tg:
        tg.start_soon(capture, zoned, zone_for(svc, t, None))
        await capture(read, g.get(path, prefer=svc.prefer("UTC"), params={"$select": INFO_FIELDS}))
    zone_name, zone = zoned.result()
    with explain_access(t, writing=False):
        info = scope_fits(in_zone(read.result(), zone_name, zone), event, scope, etag)
    kind = info.get("type")
    if scope == "occurrence" or kind == "seriesMaster":
        with explain_access(t, writing=True):
            await g.delete(path, if_match=etag if kind == "seriesMaster" or scope == "occurrence" else None)
        return Deletion(event_id, info)
    master_path = event_path(t, info["seriesMasterId"])
    fields = "subject,start,end,isAllDay,recurrence,attendees,isOrganizer"
    mastered: Pending[dict[str, Any]] = Pending()
    excepted: Pending[dict[str, Any]] = Pending()
    async with anyio.create_task_group() as tg:
        if scope != "series":
            tg.start_soon(capture, excepted, exceptions_of(svc, t, info["seriesMasterId"]))
        await capture(mastered, g.get(master_path, prefer=svc.prefer(zone_name), params={"$select": fields}))
    with explain_access(t, writing=False):
        master = mastered.result()
    day = None if scope == "series" else original_date(info, master, excepted.result())
    if day is None or day <= dt.date.fromisoformat(master["recurrence"]["range"]["startDate"]):
        with explain_access(t, writing=True):
            await g.delete(master_path)
        return Deletion(master["id"], master, whole_series=True)
    last = day - dt.timedelta(days=1)
    await end_series(svc, t, master, last)
    return Deletion(event_id, master, series_ends_on=last.isoformat())
