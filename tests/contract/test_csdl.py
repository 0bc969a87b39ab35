"""Tests of the CSDL contract checker (tests/contract/csdl.py).

The fixtures are the reference's own examples (tests/data/reference/outlook-calendar-rest-v2.0.pt.txt.xz, the Portuguese v2.0
reference, and 003_*.txt, Graph beta "Get event"), translated from Outlook REST v2.0 PascalCase
to Graph v1.0 camelCase: enum members lower-camel ("SeriesMaster" -> "seriesMaster"),
``RecurrenceTimeZone`` moved into ``recurrence.range``, ``Timeslots`` -> ``timeSlots``, and the
seeds' typos fixed (a doubled quote, an elided base64 value). mailboxSettings, user and
scheduleInformation are not in the seeds; their fixtures follow Graph v1.0's documented shapes.
"""
from __future__ import annotations

import copy
import hashlib
import lzma
import re
import time

import pytest

from tests.contract import csdl
from tests.contract.csdl import PathError, load_model

DTZ = {"dateTime": "2014-10-13T21:00:00.0000000", "timeZone": "Pacific Standard Time"}


def _person(name: str, address: str) -> dict:
    return {"emailAddress": {"name": name, "address": address}}


def _attendee(name: str, address: str, response: str = "none") -> dict:
    return {**_person(name, address), "type": "required", "status": {"response": response,
                                                                     "time": "0001-01-01T00:00:00Z"}}


# 002, "Obter um evento" (GET me/events/{id}): a weekly series master.
EVENT = {
    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users('ddfcd489-628b-40d7-b48b-57002df800e5')/events/$entity",
    "@odata.etag": 'W/"nfZyf7VcrEKLNoU37KWlkQAAA0x48w=="',
    "id": "AAMkAGI2TG93AAA=",
    "changeKey": "nfZyf7VcrEKLNoU37KWlkQAAA0x48w==",
    "categories": [],
    "createdDateTime": "2014-10-19T23:13:47.3959685Z",
    "lastModifiedDateTime": "2014-10-19T23:13:47.6772234Z",
    "subject": "Weekly Meeting on Contoso Project",
    "bodyPreview": "Setting up some time to review the budget and planning on the Contoso Project",
    "body": {"contentType": "html", "content": "<html>\r\n<body>\r\nSetting up some time to review the budget"
                                               "\r\n</body>\r\n</html>\r\n"},
    "importance": "normal",
    "hasAttachments": False,
    "start": {"dateTime": "2014-10-13T21:00:00", "timeZone": "Pacific Standard Time"},
    "end": {"dateTime": "2014-10-13T22:00:00", "timeZone": "Pacific Standard Time"},
    "location": {"displayName": "Alex's Office", "address": None},
    "showAs": "busy",
    "isAllDay": False,
    "isCancelled": False,
    "isOrganizer": True,
    "responseRequested": True,
    "type": "seriesMaster",
    "seriesMasterId": None,
    "attendees": [_attendee("Janet Schorr", "janets@a830edad9050849NDA1.onmicrosoft.com"),
                  _attendee("Pavel Bansky", "pavelb@a830edad9050849NDA1.onmicrosoft.com")],
    "recurrence": {
        "pattern": {"type": "weekly", "interval": 1, "month": 0, "index": "first", "firstDayOfWeek": "sunday",
                    "dayOfMonth": 0, "daysOfWeek": ["monday"]},
        "range": {"type": "noEnd", "startDate": "2014-10-13", "endDate": "2014-11-13", "numberOfOccurrences": 0,
                  "recurrenceTimeZone": "Pacific Standard Time"},
    },
    "originalEndTimeZone": "Pacific Standard Time",
    "originalStartTimeZone": "Pacific Standard Time",
    "organizer": _person("Alex D", "alexd@a830edad9050849NDA1.onmicrosoft.com"),
}

# 002, "Obter um anexo": a file attachment (the seed elides its base64 with "...": replaced).
FILE_ATTACHMENT = {
    "@odata.type": "#microsoft.graph.fileAttachment",
    "id": "AAMkAGI2NGLwydGuOzcHf1FBlo=",
    "lastModifiedDateTime": "2014-10-22T00:30:26Z",
    "name": "Company Party.docx",
    "contentType": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "size": 11647,
    "isInline": False,
    "contentId": None,
    "contentLocation": None,
    "contentBytes": "UEsDBBQABgAIAAAAIQDfpNJsWgEAACAFAAATAAgCW0NvbnRlbnRfVHlwZXNdLnhtbCCi",
}

# 002, "$expand em anexos": a single instance with its attachments expanded.
EVENT_EXPANDED = {
    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users('ddfcd489-628b-40d7-b48b-57002df800e5')/events/$entity",
    "@odata.etag": 'W/"mODEKWhc/Um6lA3uPm7PPAAA4KZrtA=="',
    "id": "AAMkAGE1Mbs88AADggYEcAAA=",
    "createdDateTime": "2016-03-22T22:19:58.1359352Z",
    "lastModifiedDateTime": "2016-03-22T22:39:09.9335289Z",
    "changeKey": "mODEKWhc/Um6lA3uPm7PPAAA4KZrtA==",
    "categories": [],
    "originalStartTimeZone": "Pacific Standard Time",
    "originalEndTimeZone": "Pacific Standard Time",
    "responseStatus": {"response": "organizer", "time": "0001-01-01T00:00:00Z"},
    "iCalUId": "040000008200E00074C5B7101A82E008000000005895FCF78884D101000000000000000010000000",
    "reminderMinutesBeforeStart": 15,
    "isReminderOn": True,
    "hasAttachments": True,
    "subject": "Plan Easter egg hunt!",
    "body": {"contentType": "html", "content": "<html>\r\n<body>\r\nLet's get organized.\r\n</body>\r\n</html>\r\n"},
    "bodyPreview": "Let's get organized for this weekend's gathering.",
    "importance": "normal",
    "sensitivity": "normal",
    "start": {"dateTime": "2016-03-26T17:00:00.0000000", "timeZone": "UTC"},
    "end": {"dateTime": "2016-03-26T18:00:00.0000000", "timeZone": "UTC"},
    "location": {"displayName": "", "locationType": "default", "address": {}, "coordinates": {}},
    "locations": [],
    "isAllDay": False,
    "isCancelled": False,
    "isOrganizer": True,
    "recurrence": None,
    "responseRequested": True,
    "seriesMasterId": None,
    "showAs": "busy",
    "type": "singleInstance",
    "attendees": [_attendee("Randi Welch", "randiw@contoso.onmicrosoft.com")],
    "organizer": _person("Dana Swope", "danas@contoso.onmicrosoft.com"),
    "webLink": "https://outlook.office.com/owa/?ItemID=AAMkAGE1Mbs88AADggYEcAAA%3D&exvsurl=1",
    "onlineMeetingUrl": None,
    "attachments@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users('ddfcd489')/events('AAMk')/attachments",
    "attachments": [FILE_ATTACHMENT],
}

# 002, "Obter calendários" / "Obter grupos de calendários" (000 has the classId).
CALENDAR = {
    "@odata.id": "https://graph.microsoft.com/v1.0/users('ddfcd489-628b-40d7-b48b-57002df800e5')/calendars('AAMkAGI2TGuLAAA=')",
    "id": "AAMkAGI2TGuLAAA=",
    "name": "Calendar",
    "color": "auto",
    "changeKey": "nfZyf7VcrEKLNoU37KWlkQAAA0x0+w==",
    "canShare": True,
    "canViewPrivateItems": True,
    "canEdit": True,
    "owner": {"name": "Fanny Downs", "address": "fannyd@adatum.onmicrosoft.com"},
}
CALENDAR_GROUP = {"id": "AAMkAGI2TGuKAAA=", "name": "My Calendars", "classId": "0006f0b7-0000-0000-c000-000000000046",
                  "changeKey": "nfZyf7VcrEKLNoU37KWlkQAAA0x0+g=="}

WORKING_HOURS = {"daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
                 "startTime": "08:00:00.0000000", "endTime": "17:00:00.0000000",
                 "timeZone": {"name": "Pacific Standard Time"}}
MAILBOX_SETTINGS = {
    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users('ddfcd489')/mailboxSettings",
    "archiveFolder": "AAMkADA1ZWAAA=",
    "timeZone": "Pacific Standard Time",
    "automaticRepliesSetting": {"status": "scheduled", "externalAudience": "contactsOnly",
                                "scheduledStartDateTime": {"dateTime": "2016-03-14T07:00:00.0000000", "timeZone": "UTC"},
                                "scheduledEndDateTime": {"dateTime": "2016-03-28T07:00:00.0000000", "timeZone": "UTC"},
                                "internalReplyMessage": "Out until the 28th.", "externalReplyMessage": ""},
    "language": {"locale": "en-US", "displayName": "English (United States)"},
    "workingHours": WORKING_HOURS,
    "dateFormat": "M/d/yyyy",
    "timeFormat": "h:mm tt",
    "userPurpose": "user",
    "delegateMeetingMessageDeliveryOptions": "sendToDelegateOnly",
}
USER = {
    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users/$entity",
    "id": "ddfcd489-628b-40d7-b48b-57002df800e5",
    "businessPhones": ["+1 412 555 0109"],
    "displayName": "Fanny Downs",
    "givenName": "Fanny",
    "surname": "Downs",
    "jobTitle": "Marketing Manager",
    "mail": "fannyd@adatum.onmicrosoft.com",
    "mobilePhone": None,
    "officeLocation": "18/2111",
    "preferredLanguage": "en-US",
    "userPrincipalName": "fannyd@adatum.onmicrosoft.com",
    "mailboxSettings": MAILBOX_SETTINGS,
}

# 002, "Encontrar horário de reunião, mas apenas alguns participantes estão disponíveis".
FIND_MEETING_TIMES_REQUEST = {
    "attendees": [{"type": "required", **_person("Fanny", "fannyd@prosewareltd.onmicrosoft.com")},
                  {"type": "optional", **_person("Dana", "danas@prosewareltd.onmicrosoft.com")}],
    "locationConstraint": {"isRequired": False, "suggestLocation": False,
                           "locations": [{"resolveAvailability": False, "displayName": "Conf room Hood"}]},
    "timeConstraint": {"activityDomain": "work", "timeSlots": [
        {"start": {"dateTime": "2016-05-20T09:00:00", "timeZone": "Pacific Standard Time"},
         "end": {"dateTime": "2016-05-20T17:00:00", "timeZone": "Pacific Standard Time"}}]},
    "meetingDuration": "PT1H",
    "returnSuggestionReasons": True,
    "minimumAttendeePercentage": 60,
}


def _suggestion(start: str, end: str, confidence: float, dana: str) -> dict:
    pst = "Pacific Standard Time"
    return {"meetingTimeSlot": {"start": {"dateTime": start, "timeZone": pst}, "end": {"dateTime": end, "timeZone": pst}},
            "confidence": confidence, "organizerAvailability": "free",
            "attendeeAvailability": [
                {"attendee": {"type": "required", **_person("Fanny", "fannyd@prosewareltd.onmicrosoft.com")},
                 "availability": "free"},
                {"attendee": {"type": "required", **_person("Dana", "danas@prosewareltd.onmicrosoft.com")},
                 "availability": dana}],
            "locations": [{"displayName": "Conf room Hood"}],
            "suggestionReason": "Suggested because it is one of the nearest times when most attendees are available."}


MEETING_TIME_SUGGESTIONS = {
    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#microsoft.graph.meetingTimeSuggestionsResult",
    "meetingTimeSuggestions": [
        _suggestion("2016-05-20T10:00:00.0000000", "2016-05-20T11:00:00.0000000", 100.0, "free"),
        _suggestion("2016-05-20T11:00:00.0000000", "2016-05-20T12:00:00.0000000", 74.5, "unknown"),
    ],
    "emptySuggestionsReason": "",
}
# 002, first findMeetingTimes example: a suggested location with empty and null fields.
MEETING_TIME_SUGGESTIONS_ROOM = {"meetingTimeSuggestions": [{
    **_suggestion("2016-05-20T10:00:00.0000000", "2016-05-20T11:00:00.0000000", 100, "free"),
    "locations": [{"displayName": "Tokyo conference room", "locationEmailAddress": "", "locationUri": "",
                   "address": None, "coordinates": None}]}], "emptySuggestionsReason": ""}

SCHEDULE_INFORMATION = {
    "scheduleId": "fannyd@adatum.onmicrosoft.com",
    "availabilityView": "000220000",
    "scheduleItems": [{"isPrivate": False, "status": "busy", "subject": "Let's go for lunch", "location": "Harry's Bar",
                       "start": {"dateTime": "2019-03-15T12:00:00.0000000", "timeZone": "Pacific Standard Time"},
                       "end": {"dateTime": "2019-03-15T14:00:00.0000000", "timeZone": "Pacific Standard Time"}}],
    "workingHours": WORKING_HOURS,
}

# 003 (Graph beta "Get event", example 4): a series master with exceptionOccurrences expanded.
EVENT_BETA = {
    "@odata.context": "https://graph.microsoft.com/beta/$metadata#users('d1a2fae9')/events(subject,start,end)/$entity",
    "@odata.etag": 'W/"y53lbKh6jkaxHzFwGhgyxgAAw5zhug=="',
    "id": "AAMkADAGAADDdm4NAAA=",
    "iCalUId": "040000008200E00074=",
    "uid": "040000008200E00074C=",
    "subject": "Daily stand-up",
    "cancelledOccurrences": ["OID.AAMkADAGAADDdm4NAAA=.2020-04-30", "OID.AAMkADAGAADDdm4NAAA=.2020-05-07"],
    "occurrenceId": None,
    "start": {"dateTime": "2020-04-23T11:30:00.0000000", "timeZone": "UTC"},
    "end": {"dateTime": "2020-04-23T12:00:00.0000000", "timeZone": "UTC"},
    "exceptionOccurrences": [{
        "id": "AAMkADM0ZGRhMjdjLTA==",
        "Subject": "SM update 24",
        "occurrenceId": "OID.AAMkADAGAADDdm4NAAA=.2020-05-21",
        "start": {"dateTime": "2020-05-21T11:30:00.0000000", "timeZone": "UTC"},
        "end": {"dateTime": "2020-05-21T12:00:00.0000000", "timeZone": "UTC"},
    }],
}


@pytest.fixture(scope="module")
def model() -> csdl.Model:
    return load_model()


# -- loading ----------------------------------------------------------------------------------

def test_load_is_cached_and_fast(model):
    t0 = time.perf_counter()
    assert load_model() is model and time.perf_counter() - t0 < 0.05
    assert csdl.DEFAULT_PATH.parts[-4:] == ("tests", "data", "graph", "v1.0-Prod.csdl.xz")
    assert model.parse_seconds < 5, f"parsing the CSDL took {model.parse_seconds:.2f} s"
    assert len(model.types) > 2000 and len(model.operations) > 1000
    assert model.entity_set_type("me") == model.entity_set_type("Users") == "microsoft.graph.user"
    assert model.qualify("#graph.event") == model.qualify("event") == "microsoft.graph.event"


def test_the_vendored_csdl_is_the_published_one_named_in_its_readme():
    """The vendored file decompresses to exactly the bytes its README names (source, commit, sha256)."""
    readme = (csdl.DEFAULT_PATH.parent / "README.md").read_text(encoding="utf-8")
    want = re.search(r"sha256 `([0-9a-f]{64})`", readme)
    assert want and "msgraph-metadata" in readme and "f54f11b" in readme
    with lzma.open(csdl.DEFAULT_PATH) as f:
        assert hashlib.sha256(f.read()).hexdigest() == want.group(1)


def test_env_var_selects_another_csdl(tmp_path, monkeypatch):
    """A small CSDL with an alias, a flags enum, an action and a capability annotation."""
    doc = tmp_path / "mini.csdl"
    doc.write_text("""<?xml version="1.0" encoding="utf-8"?>
<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx"><edmx:DataServices>
 <Schema Namespace="microsoft.graph" Alias="graph" xmlns="http://docs.oasis-open.org/odata/ns/edm">
  <EnumType Name="color" IsFlags="true"><Member Name="red" Value="1"/><Member Name="blue" Value="2"/></EnumType>
  <EntityType Name="entity" Abstract="true"><Key><PropertyRef Name="id"/></Key>
   <Property Name="id" Type="Edm.String" Nullable="false"/></EntityType>
  <EntityType Name="thing" BaseType="graph.entity"><Property Name="colors" Type="graph.color"/>
   <NavigationProperty Name="parts" Type="Collection(graph.part)" ContainsTarget="true"/></EntityType>
  <EntityType Name="part" BaseType="graph.entity"/>
  <Action Name="poke" IsBound="true"><Parameter Name="bindingParameter" Type="graph.thing"/>
   <Parameter Name="Force" Type="Edm.Int32" Nullable="false"/></Action>
  <EntityContainer Name="GraphService"><EntitySet Name="things" EntityType="microsoft.graph.thing"/></EntityContainer>
  <Annotations Target="graph.thing/parts"><Annotation Term="Org.OData.Capabilities.V1.InsertRestrictions">
   <Record><PropertyValue Property="Insertable" Bool="false"/></Record></Annotation></Annotations>
 </Schema></edmx:DataServices></edmx:Edmx>""")
    monkeypatch.setenv(csdl.ENV_VAR, str(doc))
    mini = load_model()
    assert set(mini.types) == {"microsoft.graph.entity", "microsoft.graph.thing", "microsoft.graph.part"}
    assert mini.validate("thing", {"id": "1", "colors": "red, blue"}) == []
    assert mini.validate("thing", {"id": "1", "colors": "red,green"}) == [
        'thing.colors: "green" is not a member of microsoft.graph.color (red, blue)']
    assert mini.validate("thing", {"colors": "red"}) == ['thing.id: missing (Nullable="false" in microsoft.graph.thing)']
    assert mini.check_request("POST", "things/1/poke", {"force": 2}) == []
    assert mini.check_request("POST", "things/1/poke", {}) == [
        'POST things/1/poke: poke.Force: required parameter missing (Nullable="false")']
    assert mini.check_request("POST", "things/1/parts", {"id": "p"}) == [
        "POST things/1/parts: POST is not allowed: microsoft.graph.thing/parts is annotated "
        "InsertRestrictions/Insertable=false"]


def test_missing_csdl_names_the_env_var(tmp_path):
    with pytest.raises(FileNotFoundError, match=csdl.ENV_VAR):
        load_model(tmp_path / "absent.csdl")


def test_facts_of_the_contract(model):
    """What the rest of the project builds on, read from the model rather than assumed."""
    dtz = model.types["microsoft.graph.dateTimeTimeZone"].props
    assert (dtz["dateTime"].type, dtz["dateTime"].nullable) == ("Edm.String", False)  # not Edm.DateTimeOffset
    event = model.types["microsoft.graph.event"]
    assert event.open and event.base == "microsoft.graph.outlookItem" and event.key == ("id",)
    # In the reference (003) these are beta; this v1.0 CSDL has them. occurrenceId and uid are still beta-only.
    assert {"exceptionOccurrences", "cancelledOccurrences"} <= set(event.props)
    assert not {"occurrenceId", "uid"} & set(event.props)
    assert set(model.types["microsoft.graph.referenceAttachment"].props) == set(
        model.types["microsoft.graph.attachment"].props)  # v1.0 referenceAttachment adds no property
    assert model.resolve("me/calendarView").forbidden == {"insert", "update", "delete"}


# -- validate: real examples ------------------------------------------------------------------

@pytest.mark.parametrize("type_name, value", [
    ("event", EVENT), ("microsoft.graph.event", EVENT_EXPANDED), ("attachment", FILE_ATTACHMENT),
    ("calendar", CALENDAR), ("Collection(calendar)", [CALENDAR, {**CALENDAR, "id": "AAMkAGI2TGuMAAA=", "name": "x"}]),
    ("calendarGroup", CALENDAR_GROUP), ("mailboxSettings", MAILBOX_SETTINGS), ("user", USER),
    ("meetingTimeSuggestionsResult", MEETING_TIME_SUGGESTIONS),
    ("meetingTimeSuggestionsResult", MEETING_TIME_SUGGESTIONS_ROOM),
    ("meetingTimeSuggestionsResult", {"meetingTimeSuggestions": [], "emptySuggestionsReason": "attendeesUnavailable"}),
    ("scheduleInformation", SCHEDULE_INFORMATION), ("dateTimeTimeZone", DTZ),
    ("workingHours", {**WORKING_HOURS, "timeZone": {
        "@odata.type": "#microsoft.graph.customTimeZone", "bias": -200, "name": "Customized Time Zone",
        "standardOffset": {"time": "02:00:00.0000000", "dayOccurrence": 2, "dayOfWeek": "sunday", "month": 10, "year": 0},
        "daylightOffset": {"daylightBias": 100, "time": "02:00:00.0000000", "dayOccurrence": 4, "dayOfWeek": "sunday",
                           "month": 5, "year": 0}}}),
])
def test_reference_examples_fit(model, type_name, value):
    assert model.validate(type_name, value) == []


def test_selected_response_fits_only_as_partial(model):
    # 002, GET me/events/{id}?$select=Subject,Organizer,Start,End, with a start lacking its dateTime.
    selected = {"id": EVENT["id"], "subject": EVENT["subject"], "organizer": EVENT["organizer"],
                "start": {"timeZone": "UTC"}}
    assert model.validate("event", selected, partial=True) == []
    assert model.validate("event", selected) == [
        'event.start.dateTime: missing (Nullable="false" in microsoft.graph.dateTimeTimeZone)']
    assert model.validate("event", {"subject": "x"}) == ['event.id: missing (Nullable="false" in microsoft.graph.event)']


def test_beta_only_properties_are_unknown_to_v1(model):
    assert sorted(model.validate("event", EVENT_BETA)) == [
        "event.exceptionOccurrences[0].Subject: unknown property of microsoft.graph.event (did you mean 'subject'?)",
        "event.exceptionOccurrences[0].occurrenceId: unknown property of microsoft.graph.event",
        "event.occurrenceId: unknown property of microsoft.graph.event",
        "event.uid: unknown property of microsoft.graph.event",
    ]


def test_reference_attachment_properties_are_beta(model):
    # 002's $expand=attachments example carries reference attachments; v1.0 has none of their properties.
    ref = {"@odata.type": "#microsoft.graph.referenceAttachment", "id": "AAMkAGE1Mbs88AADggYEcAAABEgAQAABWAoLgP3REt",
           "name": "Hydrangea picture", "size": 412, "isInline": False, "sourceUrl": "https://contoso-my.spoppe.com/x",
           "providerType": "oneDriveBusiness", "permission": "edit", "isFolder": False}
    errors = model.validate("attachment", ref)
    assert [e.split(":")[0] for e in errors] == [f"attachment.{k}" for k in
                                                  ("sourceUrl", "providerType", "permission", "isFolder")]


def test_translation_pitfalls_are_caught(model):
    pascal = {"Id": "AAMkAGI2TG93AAA=", "Subject": "Weekly Meeting", "ShowAs": "Busy"}
    assert model.validate("event", pascal, partial=True) == [
        "event.Id: unknown property of microsoft.graph.event (did you mean 'id'?)",
        "event.Subject: unknown property of microsoft.graph.event (did you mean 'subject'?)",
        "event.ShowAs: unknown property of microsoft.graph.event (did you mean 'showAs'?)"]
    v2_recurrence = {"pattern": EVENT["recurrence"]["pattern"], "recurrenceTimeZone": "Pacific Standard Time"}
    assert model.validate("patternedRecurrence", v2_recurrence, partial=True) == [
        "patternedRecurrence.recurrenceTimeZone: unknown property of microsoft.graph.patternedRecurrence"]
    v2_organizer = {**EVENT["organizer"], "onlineMeetingUrl": None}
    assert model.validate("recipient", v2_organizer) == [
        "recipient.onlineMeetingUrl: unknown property of microsoft.graph.recipient"]
    assert model.validate("timeConstraint", {"timeslots": []}) == [
        "timeConstraint.timeslots: unknown property of microsoft.graph.timeConstraint (did you mean 'timeSlots'?)"]


# -- validate: mutations ----------------------------------------------------------------------

def _set(path: str, value):
    def mutate(doc: dict) -> dict:
        doc = copy.deepcopy(doc)
        *parents, last = path.split("/")
        target = doc
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        if value is KeyError:
            del target[last]
        else:
            target[last] = value
        return doc
    return mutate


@pytest.mark.parametrize("mutate, expected", [
    (_set("subjet", "x"), "event.subjet: unknown property of microsoft.graph.event (did you mean 'subject'?)"),
    (_set("start/tz", "UTC"), "event.start.tz: unknown property of microsoft.graph.dateTimeTimeZone"),
    (_set("isAllDay", "false"), 'event.isAllDay: expected boolean (Edm.Boolean), got str "false"'),
    (_set("start/dateTime", 5), "event.start.dateTime: expected string (Edm.String), got int 5"),
    (_set("reminderMinutesBeforeStart", True), "event.reminderMinutesBeforeStart: expected integer (Edm.Int32), "
                                               "got bool true"),
    (_set("reminderMinutesBeforeStart", 2**31), "event.reminderMinutesBeforeStart: expected integer (Edm.Int32)"),
    (_set("recurrence/pattern/interval", 1.5), "event.recurrence.pattern.interval: expected integer (Edm.Int32)"),
    (_set("showAs", "Busy"), "event.showAs: \"Busy\" is not a member of microsoft.graph.freeBusyStatus (unknown, "
                             "free, tentative, busy, oof, workingElsewhere) (did you mean 'busy'?)"),
    (_set("recurrence/pattern/daysOfWeek", ["monday", "funday"]),
     'event.recurrence.pattern.daysOfWeek[1]: "funday" is not a member of microsoft.graph.dayOfWeek'),
    (_set("attendees/0/status/response", "Maybe"), 'event.attendees[0].status.response: "Maybe" is not a member'),
    (_set("createdDateTime", "2014-10-19T23:13:47.3959685"),
     "event.createdDateTime: expected ISO 8601 date-time with offset or Z (Edm.DateTimeOffset)"),
    (_set("lastModifiedDateTime", "2014-02-30T23:13:47Z"), "event.lastModifiedDateTime: expected ISO 8601 date-time"),
    (_set("attendees/1/status/time", "yesterday"), "event.attendees[1].status.time: expected ISO 8601 date-time"),
    (_set("recurrence/range/startDate", "2014-13-01"), "event.recurrence.range.startDate: expected YYYY-MM-DD"),
    (_set("recurrence/range/endDate", "2014-11-13T00:00:00Z"), "event.recurrence.range.endDate: expected YYYY-MM-DD"),
    (_set("start/dateTime", None), 'event.start.dateTime: null is not allowed (Nullable="false")'),
    (_set("recurrence/pattern/interval", None), 'event.recurrence.pattern.interval: null is not allowed'),
    (_set("id", None), 'event.id: null is not allowed (Nullable="false")'),
    (_set("categories", None), "event.categories: expected array (Collection(Edm.String)), got NoneType null"),
    (_set("cancelledOccurrences", [None]), 'event.cancelledOccurrences[0]: null is not allowed'),
    (_set("attendees", {"emailAddress": {}}), "event.attendees: expected array (Collection(microsoft.graph.attendee))"),
    # the seeds' typo: "a bare string where an object belongs"
    (_set("attendees/1/emailAddress", "pavelb@contoso.com"),
     'event.attendees[1].emailAddress: expected object (microsoft.graph.emailAddress), got str "pavelb@contoso.com"'),
    (_set("location/address", {"street": 4567}), "event.location.address.street: expected string (Edm.String)"),
    (_set("recurrence/pattern", {"type": "weekly", "interval": 1, "month": 0}),
     'event.recurrence.pattern.dayOfMonth: missing (Nullable="false" in microsoft.graph.recurrencePattern)'),
    (_set("end/dateTime", KeyError), 'event.end.dateTime: missing (Nullable="false"'),
    (_set("@odata.type", "#microsoft.graph.calendar"),
     "event.@odata.type: microsoft.graph.calendar is not microsoft.graph.event or derived from it"),
    (_set("@odata.type", "microsoft.graph.event"), 'event.@odata.type: "microsoft.graph.event" is not a type of the model'),
    (_set("subjectx@odata.type", "#Edm.String"), "event.subjectx@odata.type: annotates unknown property 'subjectx'"),
    (_set("@etag", "x"), "event.@etag: not an instance annotation (@namespace.term)"),
    (_set("instances", [{"id": "AAMk=", "subject": 1}]),
     "event.instances[0].subject: expected string (Edm.String), got int 1"),
    (_set("calendar", {"id": "AAMk=", "color": "blue"}), 'event.calendar.color: "blue" is not a member'),
])
def test_mutations_of_an_event_are_caught(model, mutate, expected):
    errors = model.validate("event", mutate(EVENT))
    assert len(errors) == 1 and errors[0].startswith(expected), errors


@pytest.mark.parametrize("type_name, value, expected", [
    ("attachment", {**FILE_ATTACHMENT, "@odata.type": "#Microsoft.OutlookServices.FileAttachment"},
     'attachment.@odata.type: "#Microsoft.OutlookServices.FileAttachment" is not a type of the model'),
    ("attachment", {k: v for k, v in FILE_ATTACHMENT.items() if k not in ("@odata.type", "contentBytes")},
     "attachment: microsoft.graph.attachment is abstract; '@odata.type' must name a concrete derived type"),
    ("attachment", {**FILE_ATTACHMENT, "contentBytes": "UEsDBBQABgAIAAAAIQDfpNJs...AAF4pAAAAAA=="},  # seed's elision
     "attachment.contentBytes: expected base64 (Edm.Binary)"),
    ("attachment", {**FILE_ATTACHMENT, "size": "11647"}, 'attachment.size: expected integer (Edm.Int32), got str'),
    ("calendarGroup", {**CALENDAR_GROUP, "classId": "0006f0b7-0000-0000-c000"}, "calendarGroup.classId: expected GUID"),
    ("calendar", {**CALENDAR, "color": "Auto"}, "calendar.color: \"Auto\" is not a member of microsoft.graph.calendarColor"),
    ("workingHours", {**WORKING_HOURS, "startTime": "8:00"}, "workingHours.startTime: expected HH:MM[:SS[.fffffff]]"),
    ("workingHours", {**WORKING_HOURS, "timeZone": {"@odata.type": "#microsoft.graph.customTimeZone", "bias": "-200"}},
     "workingHours.timeZone.bias: expected integer (Edm.Int32)"),
    ("meetingTimeSuggestionsResult", {"meetingTimeSuggestions": [{**MEETING_TIME_SUGGESTIONS["meetingTimeSuggestions"][
        0], "confidence": "74.5"}]}, "meetingTimeSuggestionsResult.meetingTimeSuggestions[0].confidence: expected number"),
    ("meetingTimeSuggestionsResult", {"meetingTimeSuggestions": [{"meetingTimeSlot": {"start": DTZ}}]},
     'meetingTimeSuggestionsResult.meetingTimeSuggestions[0].meetingTimeSlot.end: missing (Nullable="false"'),
    ("scheduleInformation", {**SCHEDULE_INFORMATION, "scheduleItems": [{"status": "away"}]},
     'scheduleInformation.scheduleItems[0].status: "away" is not a member of microsoft.graph.freeBusyStatus'),
    ("user", {**USER, "businessPhones": "+1 412 555 0109"}, "user.businessPhones: expected array"),
    ("mailboxSettings", {**MAILBOX_SETTINGS, "workingHours": {**WORKING_HOURS, "daysOfWeek": ["Monday"]}},
     'mailboxSettings.workingHours.daysOfWeek[0]: "Monday" is not a member of microsoft.graph.dayOfWeek'),
])
def test_mutations_of_other_types_are_caught(model, type_name, value, expected):
    errors = model.validate(type_name, value)
    assert len(errors) == 1 and errors[0].startswith(expected), errors


def test_primitive_formats(model):
    ok = {"Edm.DateTimeOffset": ["2026-11-21T09:00:00+01:00", "0001-01-01T00:00:00Z", "2014-10-19T23:13:47.3959685Z"],
          "Edm.Date": ["2026-02-28"], "Edm.TimeOfDay": ["08:00:00.0000000", "23:59", "00:00:00"],
          "Edm.Duration": ["PT1H", "PT30M", "P1DT2H", "PT0.5S", "-PT15M"], "Edm.Guid": [CALENDAR_GROUP["classId"]],
          "Edm.Binary": ["aGVsbG8=", "aGVsbG8", "a-_b"], "Edm.Double": [1, 1.5, "NaN"], "Edm.Int64": [2**40]}
    bad = {"Edm.DateTimeOffset": ["2026-11-21T09:00:00", "2026-11-21", "2026-11-21 09:00:00Z", "2026-11-21T09:00+25:00",
                                  "2026-11-21T25:00:00Z", 1700000000],
           "Edm.Date": ["2026-02-30", "20260228"], "Edm.TimeOfDay": ["24:00:00", "8:00", "08:00:60"],
           "Edm.Duration": ["1 hour", "P", "PT", "PT1H30", 3600], "Edm.Guid": ["{0006f0b7-0000-0000-c000-000000000046}"],
           "Edm.Binary": ["a", "abc*"], "Edm.Double": [True, "1.5"], "Edm.Int64": [2**63, 1.0]}
    for t, values in ok.items():
        assert [v for v in values if model.validate(t, v)] == [], t
    for t, values in bad.items():
        assert [v for v in values if not model.validate(t, v)] == [], t


def test_flags_enum_accepts_comma_separated_members(model):
    flags = next(e for e in model.enums.values() if e.flags and len(e.members) > 2)
    assert model.validate(flags.name, ",".join(flags.members[:2])) == []
    assert model.validate(flags.name, f"{flags.members[0]},nope") == [
        f'{flags.name.rpartition(".")[2]}: "nope" is not a member of {flags.name} ({", ".join(flags.members[:12])}'
        f'{", ..." if len(flags.members) > 12 else ""}){csdl._hint("nope", flags.members)}']


def test_open_types_are_closed_unless_asked(model):
    extended = {**EVENT, "contoso_project": "apollo"}
    assert model.validate("event", extended) == ["event.contoso_project: unknown property of microsoft.graph.event"]
    assert model.validate("event", extended, open_types=True) == []
    assert model.validate("dateTimeTimeZone", {**DTZ, "x": 1}, open_types=True) != []  # not an open type


def test_annotations_are_allowed_anywhere(model):
    delta_page = [{"@odata.type": "#microsoft.graph.event", "id": "AAMk=", "@removed": {"reason": "deleted"}},
                  {"@odata.etag": "W/\"x\"", "id": "AAMl=", "start": DTZ, "end": {**DTZ, "@odata.type":
                                                                                    "#microsoft.graph.dateTimeTimeZone"}}]
    assert model.validate("Collection(event)", delta_page) == []


def test_unknown_type_name(model):
    with pytest.raises(KeyError):
        model.validate("evnet", {})


# -- check_request ----------------------------------------------------------------------------

@pytest.mark.parametrize("method, path, body, query", [
    ("GET", "me/calendarView", None, {"startDateTime": "2026-11-21T00:00:00Z", "endDateTime": "2026-11-28T00:00:00Z"}),
    ("GET", "me/calendars/{id}/calendarView?startDateTime=2026-11-21T00:00:00&endDateTime=2026-11-22T00:00:00", None, None),
    ("GET", "me/events", None, {"$select": "subject,start,end,organizer", "$orderby": "start/dateTime", "$top": "10",
                                "$skip": "0", "$filter": "isCancelled eq false", "$count": "true"}),
    ("GET", "me/events/AAMkAGI2TG93AAA=", None, {"$expand": "attachments($select=name,size)"}),
    ("GET", "me/events('AAMkAGI2TG93AAA=')/instances", None, {"startDateTime": "x", "endDateTime": "y"}),
    ("GET", "me/calendarView/delta", None, {"startDateTime": "x", "endDateTime": "y", "$deltatoken": "abc"}),
    ("GET", "me/calendarView/delta()", None, {"$skiptoken": "abc"}),
    ("POST", "me/findMeetingTimes", FIND_MEETING_TIMES_REQUEST, None),
    ("POST", "me/calendar/getSchedule", {"schedules": ["adelev@contoso.com"], "startTime": DTZ, "endTime": DTZ,
                                         "availabilityViewInterval": 60}, None),
    ("GET", "places/microsoft.graph.roomlist", None, None),
    ("GET", "places/microsoft.graph.room", None, {"$top": "100"}),
    ("GET", "places/{id}/microsoft.graph.roomlist/rooms", None, None),
    ("POST", "me/events", {"subject": "Plan", "start": DTZ, "end": DTZ, "transactionId": "7E163156-7762-4BEB-A1C6",
                           "attendees": [_attendee("Fanny", "fannyd@adatum.onmicrosoft.com")]}, None),
    ("POST", "me/calendars/{id}/events", {"subject": "Plan", "recurrence": {"pattern": {"type": "daily", "interval": 1},
                                                                            "range": {"type": "noEnd",
                                                                                      "startDate": "2026-11-21"}}}, None),
    ("POST", "groups/{id}/calendar/events", {"subject": "Team"}, None),
    ("PATCH", "me/events/{id}", {"location": {"displayName": "Conf Room 2"}, "showAs": "tentative"}, None),
    ("DELETE", "users/dana@contoso.com/events/AAMkAGE0MG4v1OAAA=", None, None),
    ("POST", "users/dana@contoso.com/events/AAMk...=/accept", {"comment": "See you", "sendResponse": True}, None),
    ("POST", "me/events/{id}/tentativelyAccept", {"comment": "maybe", "sendResponse": True, "proposedNewTime": {
        "start": DTZ, "end": DTZ}}, None),
    ("POST", "me/events/{id}/decline", {"comment": "no", "sendResponse": False}, None),
    ("POST", "me/events/{id}/forward", {"toRecipients": [_person("Dana", "danas@contoso.com")], "comment": "FYI"}, None),
    ("POST", "me/events/{id}/cancel", {"comment": "Cancelled"}, None),
    ("POST", "me/events/{id}/snoozeReminder", {"newReminderTime": DTZ}, None),
    ("POST", "me/events/{id}/dismissReminder", None, None),
    ("GET", "me/events/{id}/attachments", None, None),
    ("GET", "me/events/{id}/attachments/{aid}/$value", None, None),
    ("POST", "me/events/{id}/attachments", {"@odata.type": "#microsoft.graph.fileAttachment", "name": "menu.txt",
                                           "contentBytes": "aGVsbG8="}, None),
    ("POST", "me/events/{id}/attachments/createUploadSession",
     {"AttachmentItem": {"attachmentType": "file", "name": "flower.jpg", "size": 3483322}}, None),
    ("DELETE", "me/events/{id}/attachments/{aid}", None, None),
    ("GET", "me/reminderView(startDateTime='2026-11-21T00:00:00',endDateTime='2026-11-22T00:00:00')", None, None),
    ("GET", "me/reminderView(StartDateTime=@s,EndDateTime=@e)", None, {"@s": "'2026-11-21T00:00:00'", "@e": "'x'"}),
    ("GET", "me/calendars", None, None), ("POST", "me/calendars", {"name": "Social"}, None),
    ("POST", "me/calendarGroups/{gid}/calendars", {"name": "Social"}, None),
    ("PATCH", "me/calendars/{id}", {"name": "Social events", "color": "lightBlue"}, None),
    ("DELETE", "me/calendars/{id}", None, None),
    ("GET", "me/calendarGroups", None, None), ("POST", "me/calendarGroups", {"name": "Personal events"}, None),
    ("PATCH", "me/calendarGroups/{id}", {"name": "Personal"}, None), ("DELETE", "me/calendarGroups/{id}", None, None),
    ("GET", "me/calendars/{id}/calendarPermissions", None, None),
    ("POST", "me/calendars/{id}/calendarPermissions", {"emailAddress": {"address": "a@contoso.com"}, "role": "read",
                                                       "isInsideOrganization": True}, None),
    ("PATCH", "me/calendars/{id}/calendarPermissions/{pid}", {"role": "write"}, None),
    ("GET", "me/mailboxSettings", None, None),
    ("PATCH", "me/mailboxSettings", {"workingHours": WORKING_HOURS}, None),
    ("GET", "me/people", None, {"$search": "dana"}),
    ("GET", "users", None, {"$filter": "startswith(displayName,'Dana')", "$select": "displayName,mail"}),
    ("GET", "https://graph.microsoft.com/v1.0/me/events/{id}", None, None),
])
def test_requests_the_client_sends_fit(model, method, path, body, query):
    assert model.check_request(method, path, body, query=query) == []


@pytest.mark.parametrize("method, path, body, query, expected", [
    ("GET", "mee/events", None, None, "'mee' is neither an entity set nor a singleton of microsoft.graph.GraphService"),
    ("GET", "Me/calendarViews", None, None, "'calendarViews' is not a property, navigation property or bound operation "
                                            "of microsoft.graph.user (did you mean 'calendarView'?)"),
    ("GET", "me/calender/events", None, None, "'calender' is not a property, navigation property or bound operation "
                                              "of microsoft.graph.user (did you mean 'calendar'?)"),
    ("GET", "me/calendarview/detla", None, None, "'detla' would be taken as a key of microsoft.graph.event but looks "
                                                 "like a misspelt operation (did you mean 'delta'?)"),
    ("POST", "me/events/{id}/acept", {}, None, "(did you mean 'accept'?)"),
    ("GET", "places/microsoft.graph.rooom", None, None, "type cast 'microsoft.graph.rooom': no such type in the model"),
    ("GET", "places/microsoft.graph.event", None, None, "microsoft.graph.event is not derived from microsoft.graph.place"),
    ("GET", "me/events/attachments", None, None, "the key (id) before it is missing"),
    ("GET", "me/events/{id}/subject/x", None, None, "'x' is not a property"),
    ("GET", "me/events/{id}/accept", None, None, "'accept' is an action: use POST, not GET"),
    ("POST", "me/reminderView(startDateTime='a')", None, None, "'reminderView' is a function: use GET, not POST"),
    ("POST", "me/events/{id}/accept", {"comment": "x", "notify": True}, None,
     "accept.notify: unknown parameter of action accept (parameters: SendResponse, Comment)"),
    ("POST", "me/events/{id}/accept", {"sendResponse": "yes"}, None,
     'accept.sendResponse: expected boolean (Edm.Boolean), got str "yes"'),
    ("POST", "me/events/{id}/snoozeReminder", {}, None, 'snoozeReminder.NewReminderTime: required parameter missing'),
    ("POST", "me/findMeetingTimes", {"meetingDuration": "1h"}, None, "findMeetingTimes.meetingDuration: expected ISO "
                                                                      "8601 duration"),
    # 002's own findMeetingTimes request writes booleans and numbers as strings
    ("POST", "me/findMeetingTimes", {"returnSuggestionReasons": "true"}, None, "expected boolean (Edm.Boolean)"),
    ("POST", "me/findMeetingTimes", {"minimumAttendeePercentage": "60"}, None, "expected number (Edm.Double)"),
    ("GET", "me/reminderView(endDateTime='2026-11-22T00:00:00')", None, None,
     'reminderView.StartDateTime: required parameter missing (Nullable="false")'),
    ("GET", "me/reminderView(startDateTime=2026-11-21,endDateTime='x')", None, None,
     "reminderView.startDateTime: a string literal must be quoted ('...'), got 2026-11-21"),
    ("GET", "me/reminderView(startDateTime=@s)", None, None, "parameter alias @s is not given in the query"),
    ("GET", "me/reminderView(startDateTime='a',span=3)", None, None, "reminderView.span: unknown parameter"),
    ("PATCH", "me/events", {"subject": "x"}, None, "PATCH needs a single entity or property, but the path addresses a "
                                                   "collection of microsoft.graph.event"),
    ("DELETE", "me/calendars", None, None, "DELETE needs a single entity, but the path addresses a collection"),
    ("POST", "me/events/{id}", {"subject": "x"}, None, "POST needs a collection or an action"),
    ("DELETE", "me", None, None, "DELETE needs a single entity, but the path addresses the singleton microsoft.graph.user"),
    ("POST", "me/calendarView", {"subject": "x"}, None,
     "POST is not allowed: microsoft.graph.user/calendarView is annotated InsertRestrictions/Insertable=false"),
    ("PATCH", "me/calendarView/{id}", {"subject": "x"}, None, "UpdateRestrictions/Updatable=false"),
    ("DELETE", "me/calendar", None, None, "microsoft.graph.user/calendar is annotated DeleteRestrictions/Deletable=false"),
    ("GET", "me/events/{id}", {"subject": "x"}, None, "a GET request carries no body"),
    ("POST", "me/events", {"subject": "x", "isAllDay": "yes"}, None, 'event.isAllDay: expected boolean'),
    ("POST", "me/events/{id}/attachments", {"name": "a.txt"}, None, "microsoft.graph.attachment is abstract"),
    ("PATCH", "me/mailboxSettings", {"workingHours": {"startTime": "8am"}}, None,
     "mailboxSettings.workingHours.startTime: expected HH:MM[:SS[.fffffff]] (Edm.TimeOfDay)"),
    ("GET", "me/events", None, {"$select": "subjct"}, "$select: 'subjct' is not a property of microsoft.graph.event "
                                                       "(did you mean 'subject'?)"),
    ("GET", "me/events", None, {"$expand": "subject"}, "$expand: 'subject' is not a navigation property"),
    ("GET", "me/events", None, {"$top": "-1"}, "$top: expected a non-negative integer"),
    ("GET", "me/events", None, {"$slect": "subject"}, "$slect: unknown system query option (did you mean '$select'?)"),
])
def test_requests_off_the_contract_are_reported(model, method, path, body, query, expected):
    errors = model.check_request(method, path, body, query=query)
    assert len(errors) == 1 and expected in errors[0], errors
    assert errors[0].startswith(f"{method} {path.split('?')[0]}: ")


def test_resolve_reports_what_a_path_addresses(model):
    delta = model.resolve("me/calendarView/delta")
    assert (delta.kind, delta.type, delta.collection) == ("function", "microsoft.graph.event", True)
    rooms = model.resolve("places/{id}/microsoft.graph.roomlist/rooms")
    assert (rooms.kind, rooms.type) == ("collection", "microsoft.graph.room")
    schedule = model.resolve("me/calendar/getSchedule")
    assert (schedule.kind, schedule.type, schedule.collection) == ("action", "microsoft.graph.scheduleInformation", True)
    assert model.resolve("me/mailboxSettings/workingHours").type == "microsoft.graph.workingHours"
    assert model.resolve("users('dana@contoso.com')/calendar").kind == "entity"
    with pytest.raises(PathError, match="nothing may follow action 'accept'"):
        model.resolve("me/events/{id}/accept/x")
