"""Invitations reach attendees' mailboxes; organizer updates and deletes follow them; the outbox tells who was told."""

from __future__ import annotations

from .conftest import attendee, create, find_copy, has_event, person, when

ADELE, DANA, FANNY, MEGAN = "adele@contoso.com", "dana@contoso.com", "fanny@contoso.com", "megan@contoso.com"
GUEST = "jordan@fabrikam.com"
DAY = "2026-03-10"   # Tuesday of the following week


def test_an_invitation_puts_a_copy_in_each_attendees_calendar(org):
    event = create(org.client(), "Roadmap review", DAY, "09:00", "10:00", importance="high",
                   body={"contentType": "text", "content": "Bring the roadmap."}, categories=["Mine"],
                   location={"displayName": "Cafe 34"},
                   attendees=[person(DANA), person(FANNY, "optional"), person(GUEST)])
    assert event["isOrganizer"] is True and event["responseStatus"]["response"] == "organizer"
    for address in (DANA, FANNY):
        copy = find_copy(org.as_user(address), "Roadmap review")
        assert copy["id"] != event["id"]
        assert copy["iCalUId"] == event["iCalUId"]
        assert copy["isOrganizer"] is False and copy["responseRequested"] is True
        # The invitee's own copy: notResponded until they answer ("none" is the organizer's view of them);
        # https://learn.microsoft.com/graph/api/resources/responsestatus
        assert copy["responseStatus"] == {"response": "notResponded", "time": "0001-01-01T00:00:00Z"}
        assert copy["organizer"] == {"emailAddress": {"name": "Adele Vance", "address": ADELE}}
        assert copy["showAs"] == "tentative"                # not answered yet
        assert copy["start"] == event["start"] and copy["end"] == event["end"]
        assert copy["location"]["displayName"] == "Cafe 34" and copy["importance"] == "high"
        assert copy["body"]["content"].endswith("Bring the roadmap.</body></html>")
        assert copy["categories"] == []                     # the organizer's categories are theirs
        assert [a["emailAddress"]["address"] for a in copy["attendees"]] == [DANA, FANNY, GUEST]
    # The outside guest stays on the organizer's event only; everyone is mailed.
    assert [a["emailAddress"]["address"] for a in event["attendees"]] == [DANA, FANNY, GUEST]
    assert org.outbox() == [(ADELE, DANA, "invitation", "Roadmap review"), (ADELE, FANNY, "invitation", "Roadmap review"),
                            (ADELE, GUEST, "invitation", "Roadmap review")]
    assert {m["event_id"] for m in org.store.outbox()} == {event["id"]}
    assert {m["ical_uid"] for m in org.store.outbox()} == {event["iCalUId"]}


def test_no_attendees_no_mail_and_drafts_wait(org):
    adele = org.client()
    create(adele, "Alone", DAY, "09:00", "10:00")
    draft = create(adele, "Draft", DAY, "11:00", "12:00", isDraft=True, attendees=[person(DANA)])
    assert org.outbox() == [] and not has_event(org.as_user(DANA), "Draft")
    adele.patch(f"me/events/{draft['id']}", json={"isDraft": False})
    assert has_event(org.as_user(DANA), "Draft")
    assert org.outbox() == [(ADELE, DANA, "invitation", "Draft")]


def test_time_and_place_changes_reach_the_copies_and_reset_answers(org):
    adele, dana = org.client(), org.as_user(DANA)
    event = create(adele, "Sync", DAY, "09:00", "10:00", attendees=[person(DANA), person(GUEST)])
    copy = find_copy(dana, "Sync")
    assert dana.post(f"me/events/{copy['id']}/accept", json={}).status_code == 202
    assert attendee(adele.get(f"me/events/{event['id']}").json(), DANA)["status"]["response"] == "accepted"
    r = adele.patch(f"me/events/{event['id']}", json={**when(DAY, "14:00", "15:00"),
                                                      "location": {"displayName": "Room 2"}})
    assert attendee(r.json(), DANA)["status"] == {"response": "none", "time": "0001-01-01T00:00:00Z"}
    moved = dana.get(f"me/events/{copy['id']}").json()
    assert moved["start"] == r.json()["start"] and moved["location"]["displayName"] == "Room 2"
    assert moved["responseStatus"]["response"] == "notResponded" and moved["showAs"] == "tentative"
    assert org.outbox()[-2:] == [(ADELE, DANA, "update", "Sync"), (ADELE, GUEST, "update", "Sync")]


def test_organizer_private_changes_are_not_sent(org):
    adele = org.client()
    event = create(adele, "Quiet", DAY, "09:00", "10:00", attendees=[person(DANA)])
    before = len(org.outbox())
    adele.patch(f"me/events/{event['id']}", json={"categories": ["Red"], "reminderMinutesBeforeStart": 5})
    assert len(org.outbox()) == before
    assert find_copy(org.as_user(DANA), "Quiet")["reminderMinutesBeforeStart"] == 15


def test_attendees_added_are_invited_and_removed_are_cancelled(org):
    adele = org.client()
    event = create(adele, "Crew", DAY, "09:00", "10:00", attendees=[person(DANA), person(FANNY)])
    sent = len(org.outbox())
    adele.patch(f"me/events/{event['id']}", json={"attendees": [person(DANA), person(MEGAN)]})
    assert org.outbox()[sent:] == [(ADELE, FANNY, "cancellation", "Canceled: Crew"),
                                   (ADELE, MEGAN, "invitation", "Crew")]
    fanny = find_copy(org.as_user(FANNY), "Canceled: Crew")
    assert fanny["isCancelled"] is True and fanny["showAs"] == "free"
    assert find_copy(org.as_user(MEGAN), "Crew")["isCancelled"] is False
    # Dana (kept) sees the new list of attendees, without being mailed again.
    assert [a["emailAddress"]["address"] for a in find_copy(org.as_user(DANA), "Crew")["attendees"]] == [DANA, MEGAN]


def test_the_organizers_delete_cancels_every_copy(org):
    adele = org.client()
    event = create(adele, "Doomed", DAY, "09:00", "10:00", attendees=[person(DANA), person(GUEST)])
    assert adele.delete(f"me/events/{event['id']}").status_code == 204
    copy = find_copy(org.as_user(DANA), "Canceled: Doomed")
    assert copy["isCancelled"] is True
    assert org.outbox()[-2:] == [(ADELE, DANA, "cancellation", "Canceled: Doomed"),
                                 (ADELE, GUEST, "cancellation", "Canceled: Doomed")]
    # An attendee deleting their copy tells no one.
    sent = len(org.outbox())
    assert org.as_user(DANA).delete(f"me/events/{copy['id']}").status_code == 204
    assert len(org.outbox()) == sent


def test_series_with_exceptions_are_delivered_and_followed(org):
    adele, dana = org.client(), org.as_user(DANA)
    series = create(adele, "Standup", "2026-03-09", "09:00", "09:15", attendees=[person(DANA)], recurrence={
        "pattern": {"type": "daily", "interval": 1},
        "range": {"type": "numbered", "startDate": "2026-03-09", "numberOfOccurrences": 5}})
    window = {"startDateTime": "2026-03-09T00:00:00Z", "endDateTime": "2026-03-14T00:00:00Z"}

    def dana_view():
        r = dana.get("me/calendarView", params=window, headers={"Prefer": 'outlook.timezone="Pacific Standard Time"'})
        return [(e["type"], e["start"]["dateTime"][:16], e["subject"], e["isCancelled"]) for e in r.json()["value"]
                if e["subject"].endswith("Standup")]  # (not Dana's own seeded stand-up series)

    assert [v[:2] for v in dana_view()] == [("occurrence", f"2026-03-{d:02d}T09:00") for d in (9, 10, 11, 12, 13)]
    master = find_copy(dana, "Standup")
    assert master["type"] == "seriesMaster" and master["iCalUId"] == series["iCalUId"]
    occurrences = adele.get(f"me/events/{series['id']}/instances", params=window).json()["value"]
    # The organizer moves Wednesday's and deletes Thursday's.
    adele.patch(f"me/events/{occurrences[2]['id']}", json=when("2026-03-11", "10:00", "10:15"))
    adele.delete(f"me/events/{occurrences[3]['id']}")
    assert dana_view() == [("occurrence", "2026-03-09T09:00", "Standup", False),
                           ("occurrence", "2026-03-10T09:00", "Standup", False),
                           ("exception", "2026-03-11T10:00", "Standup", False),
                           ("exception", "2026-03-12T09:00", "Canceled: Standup", True),
                           ("occurrence", "2026-03-13T09:00", "Standup", False)]
    assert [m[2:] for m in org.outbox()] == [("invitation", "Standup"), ("update", "Standup"),
                                             ("cancellation", "Canceled: Standup")]
    # Someone invited later gets the series as it is now.
    adele.patch(f"me/events/{series['id']}", json={"attendees": [person(DANA), person(FANNY)]})
    fanny = org.as_user(FANNY).get("me/calendarView", params=window).json()["value"]
    assert [(e["type"], e["start"]["dateTime"][:13]) for e in fanny] == [
        ("occurrence", "2026-03-09T16"), ("occurrence", "2026-03-10T16"), ("exception", "2026-03-11T17"),
        ("occurrence", "2026-03-13T16")]                                 # UTC; daylight time began on the 8th
    # Deleting the series cancels the copies, exceptions included.
    adele.delete(f"me/events/{series['id']}")
    assert {e[3] for e in dana_view()} == {True}


def test_the_seeded_meetings_are_delivered(org):
    dana = org.as_user(DANA)
    planning = find_copy(dana, "Quarterly planning")
    assert planning["isOrganizer"] is False and planning["organizer"]["emailAddress"]["address"] == ADELE
    sync = find_copy(org.as_user("megan@contoso.com"), "Weekly team sync")
    assert sync["type"] == "seriesMaster"
    r = org.as_user("megan@contoso.com").get("me/calendarView", params={
        "startDateTime": "2026-03-03T00:00:00Z", "endDateTime": "2026-03-04T00:00:00Z"})
    assert [(e["subject"], e["type"], e["start"]["dateTime"][:16]) for e in r.json()["value"]] == [
        ("Weekly team sync", "exception", "2026-03-03T19:00")]          # moved to 11:00 Pacific this week
    assert not has_event(org.as_user("pavel@contoso.com"), "Doctor appointment")
    assert has_event(org.as_user("pavel@contoso.com"), "Customer call with Fabrikam")
    assert org.outbox() == []                                            # history, not news
