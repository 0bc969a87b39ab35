"""The week view (``sandbox serve`` at ``/``) in headless Chromium, checked against the sandbox it shows.

Each test loads the page from a real ``sandbox serve``, acts as a person would (choose whose calendar, move
between weeks, click an event), and compares what is drawn with what the same sandbox answers on its Graph
paths: every occurrence of the week in its column at its local time with its showAs shading, all-day items in
the strip, private items of others as "Private", today's column in the mailbox's own zone, an event's
attendees and their answers, its recurrence in words, its attachments; then the store changes underneath and
the page follows (outbox newest first, the requests received with their status). Screenshots:
tests/web/screenshots/.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from outlook_calendar_mcp.clock import Clock
from outlook_calendar_mcp.sandbox.scenarios import anchor_day, packaged
from tests.instants import suite_instant

from .conftest import SCREENSHOTS, Served

ZONES = {"adele@contoso.com": "America/Los_Angeles", "dana@contoso.com": "America/New_York",
         "conf room baker": "America/Los_Angeles", "baker@contoso.com": "America/Los_Angeles"}


def seeded_monday() -> dt.date:
    """The Monday the demo's week was seeded for, at the suite's instant."""
    return anchor_day(packaged(), Clock(suite_instant(), frozen=True))


def open_page(page: Any, served: Served, mailbox: str = "adele@contoso.com", week: dt.date | None = None) -> None:
    query = f"?mailbox={mailbox}" + (f"&week={week}" if week else "")
    page.goto(served.url + query)
    page.wait_for_selector(f'body[data-mailbox="{mailbox}"][data-renders]')


def rendered(page: Any) -> int:
    return int(page.get_attribute("body", "data-renders"))


def drawn(page: Any, where: str = "#grid, #allday") -> list[tuple[str, str, str]]:
    """(subject as drawn, local start, showAs) of every event box, all-day strip included."""
    boxes = page.eval_on_selector_all(
        ", ".join(f"{w.strip()} .event" for w in where.split(",")),
        "els => els.map(e => [e.dataset.subject, e.dataset.start, e.dataset.showAs, e.dataset.id])")
    return sorted({(s, start, show) for s, start, show, _ in boxes})


def week_in_graph(served: Served, mailbox: str, monday: dt.date, zone: str) -> list[dict[str, Any]]:
    """The mailbox's occurrences that touch the week (local wall dates in ``zone``), as Graph gives them."""
    with served.graph() as g:
        r = g.get(f"users/{mailbox}/calendarView", headers={"Prefer": f'outlook.timezone="{zone}"'}, params={
            "startDateTime": f"{monday - dt.timedelta(days=1)}T00:00:00Z",
            "endDateTime": f"{monday + dt.timedelta(days=8)}T00:00:00Z", "$top": "1000"})
        assert r.status_code == 200, r.text
    end = monday + dt.timedelta(days=7)
    return [e for e in r.json()["value"]
            if e["start"]["dateTime"][:10] < end.isoformat() and e["end"]["dateTime"][:16] > f"{monday}T00:00"]


def expected(events: list[dict[str, Any]], owner: str, viewer: str) -> list[tuple[str, str, str]]:
    def subject(e: dict[str, Any]) -> str:
        private = e["sensitivity"] in ("private", "confidential") and owner != viewer
        return "Private" if private else (e["subject"] or "(no subject)")

    return sorted({(subject(e), e["start"]["dateTime"][:16], e["showAs"]) for e in events})


def test_the_default_users_week_is_drawn_as_the_store_holds_it(page, served):
    open_page(page, served)
    monday = dt.date.fromisoformat(page.get_attribute("body", "data-monday"))
    today = suite_instant().astimezone(ZoneInfo("America/Los_Angeles")).date()
    assert monday == today - dt.timedelta(days=today.weekday())  # opens at today's week...
    assert page.get_attribute(".day-col.today", "data-date") == today.isoformat()  # ...today marked, Pacific
    assert page.get_attribute(".grid-head .today", "data-date") == today.isoformat()
    assert drawn(page) == expected(week_in_graph(served, "adele@contoso.com", monday, "Pacific Standard Time"),
                                   "adele@contoso.com", "adele@contoso.com")

    open_page(page, served, week=seeded_monday())  # the seeded week
    graph_week = week_in_graph(served, "adele@contoso.com", seeded_monday(), "Pacific Standard Time")
    assert drawn(page) == expected(graph_week, "adele@contoso.com", "adele@contoso.com")
    assert len(graph_week) >= 9
    # shading as Outlook draws it: the class of each showAs
    for show_as in ("busy", "tentative", "oof"):
        boxes = page.query_selector_all(f'#grid .event[data-show-as="{show_as}"]')
        assert boxes and all(f"show-{show_as}" in b.get_attribute("class") for b in boxes), show_as
    doctor = page.query_selector('.event[data-subject="Doctor appointment"]')
    assert "private" not in doctor.get_attribute("class")  # her own private item: she sees it
    # the cancelled and moved occurrences of the series: only the moved one, at 11:00 on Tuesday
    syncs = [s for s in drawn(page) if s[0] == "Weekly team sync"]
    assert syncs == [("Weekly team sync", f"{seeded_monday() + dt.timedelta(days=1)}T11:00", "busy")]
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "week-adele.png"), full_page=True)


def test_switching_people_and_rooms_private_items_stay_private(page, served):
    monday = seeded_monday()
    open_page(page, served, week=monday)
    page.select_option("#mailbox", "dana@contoso.com")
    page.wait_for_selector('body[data-mailbox="dana@contoso.com"]')
    page.wait_for_function("document.querySelector('#grid .event[data-subject=\"Private\"]') !== null")
    dana_week = week_in_graph(served, "dana@contoso.com", monday, "Eastern Standard Time")
    assert drawn(page) == expected(dana_week, "dana@contoso.com", "adele@contoso.com")
    assert "Dentist" in {e["subject"] for e in dana_week}
    assert not page.query_selector('.event[data-subject="Dentist"]')  # Adele looks: Dana's dentist is private
    page.click('#grid .event[data-subject="Private"]')
    page.wait_for_selector("#details h2:text('Private')")
    assert "Dentist" not in page.inner_text("#details")
    today_in_ny = suite_instant().astimezone(ZoneInfo("America/New_York")).date()
    marked = page.query_selector(".day-col.today")
    assert (marked.get_attribute("data-date") if marked else None) == (
        today_in_ny.isoformat() if monday <= today_in_ny < monday + dt.timedelta(days=7) else None)

    page.select_option("#viewer", "dana@contoso.com")  # Dana looks at her own calendar
    page.wait_for_selector('#grid .event[data-subject="Dentist"]')
    assert drawn(page) == expected(dana_week, "dana@contoso.com", "dana@contoso.com")

    page.select_option("#mailbox", "baker@contoso.com")  # a room: what booked it
    page.wait_for_selector('body[data-mailbox="baker@contoso.com"]')
    baker = week_in_graph(served, "baker@contoso.com", monday, "Pacific Standard Time")
    assert baker and drawn(page) == expected(baker, "baker@contoso.com", "dana@contoso.com")
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "week-baker.png"), full_page=True)


def test_an_events_details_attendees_recurrence_attachments(page, served):
    monday = seeded_monday()
    with served.graph("sandbox") as adele:
        (planning,) = adele.get("me/events", params={"$filter": "subject eq 'Quarterly planning'"}).json()["value"]
        r = adele.post(f"me/events/{planning['id']}/attachments", json={
            "@odata.type": "#microsoft.graph.fileAttachment", "name": "deck.pdf", "contentType": "application/pdf",
            "contentBytes": base64.b64encode(b"%PDF-1.4 deck").decode()})
        assert r.status_code == 201, r.text
    with served.graph("sandbox:dana@contoso.com") as dana:
        (copy,) = dana.get("me/events", params={"$filter": "subject eq 'Quarterly planning'"}).json()["value"]
        assert dana.post(f"me/events/{copy['id']}/accept", json={"comment": "See you there"}).status_code == 202
    open_page(page, served, week=monday)
    page.click('#grid .event[data-subject="Quarterly planning"]')
    page.wait_for_selector("#details .attachment")
    with served.graph("sandbox") as adele:
        event = adele.get(f"me/events/{planning['id']}").json()
    shown = {li.get_attribute("data-address"): li.get_attribute("data-response")
             for li in page.query_selector_all("#details .attendee")}
    assert shown == {a["emailAddress"]["address"]: a["status"]["response"] for a in event["attendees"]}
    assert shown["dana@contoso.com"] == "accepted" and shown["baker@contoso.com"] == "accepted"
    assert [a.get_attribute("data-name") for a in page.query_selector_all("#details .attachment")] == ["deck.pdf"]
    assert page.inner_text("#details .recurrence") == "does not repeat"
    assert page.inner_text("#details .location") == "Conf Room Baker"

    page.click('#grid .event[data-subject="Weekly team sync"]')
    page.wait_for_function("document.querySelector('#details .subject')?.textContent === 'Weekly team sync'")
    words = page.inner_text("#details .recurrence")
    assert words.startswith("Every week on Tuesday, from ") and words.endswith("no end date")
    assert page.inner_text("#details .kind") == "exception"
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "details.png"), full_page=True)


def test_previous_and_next_weeks(page, served):
    monday = seeded_monday()
    open_page(page, served, week=monday)
    before = rendered(page)
    page.click("#next")
    page.wait_for_function(f"Number(document.body.dataset.renders) > {before}")
    assert page.get_attribute("body", "data-monday") == str(monday + dt.timedelta(days=7))
    allday = [s for s, _, _ in drawn(page, "#allday")]
    assert "Team offsite" in allday
    assert drawn(page) == expected(week_in_graph(served, "adele@contoso.com", monday + dt.timedelta(days=7),
                                                 "Pacific Standard Time"), "adele@contoso.com", "adele@contoso.com")
    before = rendered(page)
    page.click("#prev")
    page.wait_for_function(f"Number(document.body.dataset.renders) > {before}")
    before = rendered(page)
    page.click("#prev")
    page.wait_for_function(f"Number(document.body.dataset.renders) > {before}")
    assert page.get_attribute("body", "data-monday") == str(monday - dt.timedelta(days=7))
    assert page.query_selector(".day-col.today") is None or monday - dt.timedelta(days=7) <= suite_instant().astimezone(
        ZoneInfo("America/Los_Angeles")).date()


def test_the_page_follows_the_store_outbox_and_requests(page, served):
    monday = seeded_monday()
    open_page(page, served, week=monday)
    day = monday + dt.timedelta(days=2)
    with served.graph("sandbox") as adele:
        r = adele.post("me/events", json={
            "subject": "Live update", "start": {"dateTime": f"{day}T16:00:00", "timeZone": "Pacific Standard Time"},
            "end": {"dateTime": f"{day}T16:30:00", "timeZone": "Pacific Standard Time"},
            "attendees": [{"emailAddress": {"address": "dana@contoso.com"}, "type": "required"}]})
        assert r.status_code == 201, r.text
    page.wait_for_selector('#grid .event[data-subject="Live update"]', timeout=15000)  # no reload: it polled
    assert page.get_attribute('#grid .event[data-subject="Live update"]', "data-start") == f"{day}T16:00"
    page.wait_for_selector("#outbox li[data-kind='invitation']", timeout=15000)
    assert "adele@contoso.com → dana@contoso.com: Live update" in page.inner_text("#outbox li:first-child")
    with served.graph("sandbox:dana@contoso.com") as dana:
        (copy,) = dana.get("me/events", params={"$filter": "subject eq 'Live update'"}).json()["value"]
        assert dana.post(f"me/events/{copy['id']}/decline", json={"comment": "Clashes"}).status_code == 202
    page.wait_for_selector("#outbox li[data-kind='response']", timeout=15000)
    kinds = [li.get_attribute("data-kind") for li in page.query_selector_all("#outbox li")]
    assert kinds == ["response", "invitation"]  # newest first
    assert "Declined: Live update" in page.inner_text("#outbox li:first-child")
    page.wait_for_function("document.querySelector('#requests').innerText.includes('POST /v1.0/me/events/')")
    lines = [li.inner_text() for li in page.query_selector_all("#requests li")]
    assert any(line.startswith("202 POST /v1.0/me/events/") and "sandbox:dana@contoso.com" in line for line in lines)
    assert any(line.startswith("201 POST /v1.0/me/events") and "· sandbox ·" in line for line in lines)
    assert lines.index(next(x for x in lines if x.startswith("202"))) < lines.index(
        next(x for x in lines if x.startswith("201")))  # newest first
    assert not any("X-Sandbox-View" in line or "calendarView" in line for line in lines)  # the page's own reads
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "live.png"), full_page=True)
