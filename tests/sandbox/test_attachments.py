"""Event attachments in the sandbox, over HTTP: Graph's shapes, its errors, and the upload-session protocol.

Fixtures from the reference (tests/data/reference/outlook-calendar-rest-v2.0.pt.txt.xz, PascalCase v2.0 turned into Graph's camelCase):
the reference attachment it adds ("Hydrangea picture", oneDriveBusiness, permission edit) and the
``$expand=attachments`` answer it shows. The upload-session steps follow Graph's "Attach large files to
Outlook messages or events": 201 with uploadUrl, expirationDateTime and nextExpectedRanges ["0-"]; PUTs
without Authorization carrying Content-Range; 200 with the next expected byte; 201 and a Location on the
last range. Every refused request leaves every table as it was.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
from collections.abc import Callable
from typing import Any

import pytest

from outlook_calendar_mcp.clock import Clock
from outlook_calendar_mcp.sandbox.models.store import Store
from tests.contract.csdl import load_model
from tests.sandbox.conftest import Client, assert_graph_error, event_body, post_event

MB = 1024 * 1024
TABLES = ("events", "attachments", "upload_sessions", "mailboxes", "tombstones")
FILE = "#microsoft.graph.fileAttachment"
ITEM = "#microsoft.graph.itemAttachment"
REFERENCE = "#microsoft.graph.referenceAttachment"
# The reference's "Create a reference attachment" request, in Graph's camelCase.
HYDRANGEA = {
    "@odata.type": REFERENCE, "name": "Hydrangea picture",
    "sourceUrl": "https://contoso-my.spoppe.com/personal/danas_contoso_onmicrosoft_com/Documents/Pics/hydrangea.jpg",
    "providerType": "oneDriveBusiness", "permission": "Edit", "isFolder": False,
}


@pytest.fixture
def beta(make_client: Callable[..., Client]) -> Client:
    return make_client("sandbox", base_url="http://sandbox/beta/")


@pytest.fixture
def anonymous(make_client: Callable[..., Client]) -> Client:
    """No Authorization header: how an uploadUrl is used."""
    return make_client(None)


@pytest.fixture(scope="module")
def model() -> Any:
    return load_model()


@pytest.fixture
def event(client: Client) -> dict[str, Any]:
    return post_event(client, event_body("Attachments probe", "2027-03-10T09:00:00", "2027-03-10T10:00:00"))


def dump(store: Store) -> dict[str, list[tuple]]:
    return {t: sorted((tuple(r) for r in store.db.execute(f"SELECT * FROM {t}")), key=repr)
            for t in TABLES}


def file_body(name: str = "notes.txt", data: bytes = b"hello, world\n", **extra: Any) -> dict[str, Any]:
    return {"@odata.type": FILE, "name": name, "contentBytes": base64.b64encode(data).decode(), **extra}


def attach(client: Client, event_id: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"me/events/{event_id}/attachments", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def session(client: Client, event_id: str, size: int, name: str = "big.bin") -> dict[str, Any]:
    response = client.post(f"me/events/{event_id}/attachments/createUploadSession",
                           json={"AttachmentItem": {"attachmentType": "file", "name": name, "size": size}})
    assert response.status_code == 201, response.text
    return response.json()


def put(client: Client, url: str, data: bytes, start: int, total: int, **headers: str) -> Any:
    rng = {"Content-Range": f"bytes {start}-{start + len(data) - 1}/{total}"} if data else {}
    return client.put(url, content=data, headers={"Content-Type": "application/octet-stream", **rng, **headers})


def payload(size: int) -> bytes:
    block = hashlib.sha256(str(size).encode()).digest() * 4096  # 128 KiB of not-quite-uniform bytes
    return (block * (size // len(block) + 1))[:size]


# -- file, item and reference attachments ---------------------------------------------------------------------

def test_file_attachment_round_trip_and_the_event_follows(client: Client, event: dict[str, Any], model: Any) -> None:
    created = attach(client, event["id"], file_body(contentType="text/plain"))
    assert created["@odata.type"] == FILE and created["size"] == 13 and created["isInline"] is False
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", created["lastModifiedDateTime"])
    assert base64.b64decode(created["contentBytes"]) == b"hello, world\n"
    assert model.validate("microsoft.graph.fileAttachment", {k: v for k, v in created.items()
                                                             if not k.startswith("@odata.context")}) == []
    after = client.get(f"me/events/{event['id']}").json()
    assert after["hasAttachments"] is True and after["changeKey"] != event["changeKey"]

    listed = client.get(f"me/events/{event['id']}/attachments", params={"$select": "name,size"}).json()["value"]
    assert listed == [{"@odata.type": FILE, "id": created["id"], "name": "notes.txt", "size": 13}]
    one = client.get(f"me/events/{event['id']}/attachments/{created['id']}").json()
    assert one["@odata.context"].endswith("/attachments/$entity") and one["contentBytes"] == created["contentBytes"]
    raw = client.get(f"me/events/{event['id']}/attachments/{created['id']}/$value")
    assert raw.status_code == 200 and raw.content == b"hello, world\n"
    assert raw.headers["content-type"].startswith("text/plain")

    assert client.delete(f"me/events/{event['id']}/attachments/{created['id']}").status_code == 204
    assert client.get(f"me/events/{event['id']}").json()["hasAttachments"] is False
    assert_graph_error(client.get(f"me/events/{event['id']}/attachments/{created['id']}"), 404, "ErrorItemNotFound")


def test_reference_attachment_from_the_reference_is_beta_only(client: Client, beta: Client, event: dict[str, Any],
                                                              model: Any, store: Store) -> None:
    before = dump(store)
    assert_graph_error(client.post(f"me/events/{event['id']}/attachments", json=HYDRANGEA), 400, "RequestBodyRead",
                       contains="sourceUrl")
    assert dump(store) == before
    created = attach(beta, event["id"], HYDRANGEA)
    assert {k: created[k] for k in ("name", "sourceUrl", "providerType", "permission", "isFolder", "thumbnailUrl",
                                    "previewUrl", "contentType", "isInline")} == {
        "name": "Hydrangea picture", "sourceUrl": HYDRANGEA["sourceUrl"], "providerType": "oneDriveBusiness",
        "permission": "edit", "isFolder": False, "thumbnailUrl": None, "previewUrl": None, "contentType": None,
        "isInline": False}
    # v1.0 knows the attachment, not the beta properties; $expand=attachments shows it as the reference does.
    v1 = client.get(f"me/events/{event['id']}/attachments/{created['id']}").json()
    assert v1["@odata.type"] == REFERENCE and "sourceUrl" not in v1
    assert model.validate("microsoft.graph.referenceAttachment", {k: v for k, v in v1.items()
                                                                  if k != "@odata.context"}) == []
    expanded = beta.get(f"me/events/{event['id']}", params={"$expand": "attachments"}).json()
    assert expanded["hasAttachments"] is True and expanded["attachments@odata.context"].endswith("/attachments")
    assert [a["sourceUrl"] for a in expanded["attachments"]] == [HYDRANGEA["sourceUrl"]]
    assert_graph_error(client.get(f"me/events/{event['id']}/attachments/{created['id']}/$value"), 405)


@pytest.mark.parametrize("item, media, needle", [
    ({"@odata.type": "#microsoft.graph.event", "subject": "Site visit",
      "start": {"dateTime": "2027-03-11T09:00:00", "timeZone": "Pacific Standard Time"},
      "end": {"dateTime": "2027-03-11T10:00:00", "timeZone": "Pacific Standard Time"},
      "location": {"displayName": "Plant 2"}}, "text/calendar", b"DTSTART:20270311T170000Z"),
    ({"@odata.type": "#microsoft.graph.message", "subject": "Directions", "body": {"contentType": "text",
      "content": "Take exit 12."}, "toRecipients": [{"emailAddress": {"address": "dana@contoso.com"}}]},
     "message/rfc822", b"Take exit 12."),
    ({"@odata.type": "#microsoft.graph.contact", "displayName": "Site host", "givenName": "Pat",
      "emailAddresses": [{"address": "pat@fabrikam.com"}]}, "text/vcard", b"EMAIL;TYPE=INTERNET:pat@fabrikam.com"),
], ids=["event", "message", "contact"])
def test_item_attachments(client: Client, event: dict[str, Any], model: Any, item: dict[str, Any], media: str,
                          needle: bytes) -> None:
    created = attach(client, event["id"], {"@odata.type": ITEM, "name": "Attached item", "item": item})
    assert created["@odata.type"] == ITEM and created["contentType"] is None and "item" not in created
    path = f"me/events/{event['id']}/attachments/{created['id']}"
    plain = client.get(path).json()
    assert model.validate("microsoft.graph.itemAttachment", {k: v for k, v in plain.items()
                                                             if k != "@odata.context"}) == []
    expanded = client.get(path, params={"$expand": "microsoft.graph.itemAttachment/item"}).json()
    assert expanded["item"]["@odata.type"] == item["@odata.type"] and expanded["item"]["id"] == ""
    assert expanded["item@odata.context"].endswith("/microsoft.graph.itemAttachment/item/$entity")
    raw = client.get(f"{path}/$value")
    assert raw.headers["content-type"].startswith(media) and needle in raw.content


BAD_BODIES = [
    ({"name": "x.txt", "contentBytes": "aGk="}, 400, "RequestBodyRead", "@odata.type"),
    ({"@odata.type": "#microsoft.graph.attachment", "name": "x"}, 400, "RequestBodyRead", "abstract"),
    ({"@odata.type": FILE, "contentBytes": "aGk="}, 400, "ErrorInvalidRequest", "name"),
    ({"@odata.type": FILE, "name": "x.txt"}, 400, "ErrorInvalidRequest", "contentBytes"),
    ({"@odata.type": FILE, "name": "x.txt", "contentBytes": "not base64!"}, 400, "RequestBodyRead", "base64"),
    ({"@odata.type": FILE, "name": "x.txt", "contentBytes": "aGk=", "colour": "red"}, 400, "RequestBodyRead",
     "colour"),
    ({"@odata.type": FILE, "name": 5, "contentBytes": "aGk="}, 400, "RequestBodyRead", "name"),
    ({"@odata.type": ITEM, "name": "x"}, 400, "ErrorInvalidRequest", "item"),
    ({"@odata.type": ITEM, "name": "x", "item": {"subject": "no type"}}, 400, "RequestBodyRead", "@odata.type"),
    ({"@odata.type": ITEM, "name": "x", "item": {"@odata.type": "#microsoft.graph.event", "subjekt": "typo"}}, 400,
     "RequestBodyRead", "subjekt"),
]


@pytest.mark.parametrize("body, status, code, needle", BAD_BODIES, ids=[c[3] for c in BAD_BODIES])
def test_bad_attachment_bodies_change_nothing(client: Client, event: dict[str, Any], store: Store,
                                              body: dict[str, Any], status: int, code: str, needle: str) -> None:
    before = dump(store)
    assert_graph_error(client.post(f"me/events/{event['id']}/attachments", json=body), status, code, contains=needle)
    assert dump(store) == before


def test_a_file_of_3_mb_or_more_is_refused_by_post(client: Client, event: dict[str, Any], store: Store) -> None:
    before = dump(store)
    error = assert_graph_error(client.post(f"me/events/{event['id']}/attachments",
                                           json=file_body("big.bin", payload(3 * MB))), 413)
    assert "createUploadSession" in error["message"]
    assert dump(store) == before


def test_bad_ids(client: Client, event: dict[str, Any]) -> None:
    base = f"me/events/{event['id']}/attachments"
    assert_graph_error(client.get(f"{base}/nonsense"), 400, "ErrorInvalidIdMalformed")
    assert_graph_error(client.get(f"{base}/{'A' * 40}="), 404, "ErrorItemNotFound")
    assert_graph_error(client.get(f"me/events/{'B' * 40}=/attachments"), 404, "ErrorItemNotFound")
    assert_graph_error(client.get(base, params={"$expand": "attachments"}), 400)
    assert_graph_error(client.get(base, params={"$select": "colour"}), 400)
    assert_graph_error(client.patch(base, json={}), 405)


# -- series ---------------------------------------------------------------------------------------------------

def test_occurrences_show_the_masters_attachments_and_a_change_makes_an_exception(client: Client,
                                                                                  store: Store) -> None:
    master = post_event(client, event_body("Attached series", "2027-03-01T14:00:00", "2027-03-01T15:00:00", recurrence={
        "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]},
        "range": {"type": "numbered", "startDate": "2027-03-01", "numberOfOccurrences": 3}}))
    agenda = attach(client, master["id"], file_body("agenda.txt", b"series agenda"))
    occurrences = client.get(f"me/events/{master['id']}/instances", params={
        "startDateTime": "2027-03-01T00:00:00Z", "endDateTime": "2027-03-31T00:00:00Z"}).json()["value"]
    first, second = occurrences[0]["id"], occurrences[1]["id"]
    assert [a["name"] for a in client.get(f"me/events/{first}/attachments").json()["value"]] == ["agenda.txt"]

    attach(client, second, file_body("directions.txt", b"turn left"))
    names = sorted(a["name"] for a in client.get(f"me/events/{second}/attachments").json()["value"])
    assert names == ["agenda.txt", "directions.txt"]
    kinds = {r["id"]: r["kind"] for r in store.db.execute("SELECT id, kind FROM events WHERE series_master_id = ?",
                                                          (master["id"],))}
    assert kinds == {second: "exception"}
    assert client.get(f"me/events/{second}").json()["type"] == "exception"
    # The master's own list is unchanged, and so is the untouched occurrence's.
    assert [a["id"] for a in client.get(f"me/events/{first}/attachments").json()["value"]] == [agenda["id"]]
    # Deleting the series removes every attachment of it.
    assert client.delete(f"me/events/{master['id']}").status_code == 204
    assert store.db.execute("SELECT COUNT(*) FROM attachments").fetchone()[0] == 0


# -- upload sessions -----------------------------------------------------------------------------------------

def test_upload_session_protocol(client: Client, anonymous: Client, event: dict[str, Any], model: Any,
                                 store: Store, clock: Clock) -> None:
    data = payload(3 * MB + 1234)
    total = len(data)
    created = session(client, event["id"], total, "scan.pdf")
    assert set(created) == {"@odata.context", "uploadUrl", "expirationDateTime", "nextExpectedRanges"}
    assert created["@odata.context"].endswith("$metadata#microsoft.graph.uploadSession")
    assert model.validate("microsoft.graph.uploadSession", {k: v for k, v in created.items()
                                                            if k != "@odata.context"}) == []
    url = created["uploadUrl"]
    assert re.fullmatch(r"http://sandbox/api/v2\.0/Users\('[^']+'\)/Events\('[^']+'\)/AttachmentSessions\('[^']+'\)"
                        r"\?authtoken=\S+", url), url
    assert created["nextExpectedRanges"] == ["0-"]
    expires = dt.datetime.fromisoformat(created["expirationDateTime"].replace("Z", "+00:00")[:19] + "+00:00")
    assert dt.timedelta(minutes=55) < expires - clock.now() <= dt.timedelta(hours=1)

    first = put(anonymous, url, data[:MB], 0, total)
    assert first.status_code == 200, first.text
    assert first.json()["nextExpectedRanges"] == [str(MB)]
    assert first.json()["expirationDateTime"] == created["expirationDateTime"]
    assert anonymous.get(url).json()["nextExpectedRanges"] == [str(MB)]

    snapshot = dump(store)
    refused = [
        (put(anonymous, url, data[:MB], 0, total), 416, "overlaps"),                   # again: overlap
        (put(anonymous, url, data[MB - 10:2 * MB], MB - 10, total), 416, "overlaps"),  # straddles the end
        (put(anonymous, url, data[2 * MB:3 * MB], 2 * MB, total), 416, "out of order"),  # leaves a gap
        (put(client, url, data[MB:2 * MB], MB, total), 401, "Authorization"),          # a Graph token
        (anonymous.put(url, content=data[MB:2 * MB]), 400, "Content-Range"),            # no header
        (put(anonymous, url, data[MB:2 * MB], MB, total, **{"Content-Range": f"bytes={MB}-{2 * MB - 1}/{total}"}),
         400, "Content-Range"),
        (put(anonymous, url, data[MB:2 * MB], MB, total + 1, **{
            "Content-Range": f"bytes {MB}-{2 * MB - 1}/{total + 1}"}), 400, "size"),
        (put(anonymous, url, data[MB:2 * MB - 1], MB, total, **{
            "Content-Range": f"bytes {MB}-{2 * MB - 1}/{total}"}), 400, "announces"),
        (put(anonymous, url, data[MB:2 * MB], MB, total, **{
            "Content-Range": f"bytes {MB}-{total}/{total}"}), 400, "inside the file"),
        (anonymous.put(url.replace("authtoken=", "authtoken=x"), content=data[MB:2 * MB],
                       headers={"Content-Range": f"bytes {MB}-{2 * MB - 1}/{total}"}), 401, "authtoken"),
        (anonymous.put(url.split("?")[0], content=data[MB:2 * MB],
                       headers={"Content-Range": f"bytes {MB}-{2 * MB - 1}/{total}"}), 401, "authtoken"),
        (anonymous.post(url, content=b""), 405, None),
    ]
    for response, status, needle in refused:
        assert_graph_error(response, status, contains=needle)
        if status == 416:
            assert response.json()["error"]["code"] == "invalidRange"
    assert dump(store) == snapshot

    middle = put(anonymous, url, data[MB:3 * MB], MB, total)
    assert middle.status_code == 200 and middle.json()["nextExpectedRanges"] == [str(3 * MB)]
    last = put(anonymous, url, data[3 * MB:], 3 * MB, total)
    assert last.status_code == 201 and last.content == b""
    location = last.headers["location"]
    m = re.fullmatch(r"http://sandbox/api/v2\.0/Users\('[^']+'\)/Events\('([^']+)'\)/Attachments\('([^']+)'\)",
                     location)
    assert m and m.group(1) == event["id"]
    attachment = client.get(f"me/events/{event['id']}/attachments/{m.group(2)}", params={
        "$select": "name,contentType,size,isInline"}).json()
    assert (attachment["name"], attachment["contentType"], attachment["size"]) == ("scan.pdf", "application/pdf", total)
    assert client.get(f"me/events/{event['id']}/attachments/{m.group(2)}/$value").content == data
    assert client.get(f"me/events/{event['id']}").json()["hasAttachments"] is True
    assert store.db.execute("SELECT COUNT(*) FROM upload_sessions").fetchone()[0] == 0
    assert_graph_error(put(anonymous, url, data[:10], 0, total), 404, "ErrorItemNotFound")


CREATE_BAD = [
    ({}, "ErrorInvalidParameter", "AttachmentItem"),
    ({"AttachmentItem": {"attachmentType": "file", "name": "x", "size": 3 * MB - 1}},
     "ErrorAttachmentSizeShouldNotBeLessThanMinimumSize", "minimum"),
    ({"AttachmentItem": {"attachmentType": "file", "name": "x", "size": 150 * MB + 1}}, "ErrorMessageSizeExceeded",
     "150 MB"),
    ({"AttachmentItem": {"attachmentType": "item", "name": "x", "size": 4 * MB}}, "ErrorInvalidParameter", "file"),
    ({"AttachmentItem": {"attachmentType": "file", "size": 4 * MB}}, "ErrorInvalidParameter", "name"),
    ({"AttachmentItem": {"attachmentType": "file", "name": "x"}}, "ErrorInvalidParameter", "size"),
    ({"AttachmentItem": {"attachmentType": "file", "name": "x", "size": "lots"}}, "RequestBodyRead", "size"),
    ({"AttachmentItem": {"attachmentType": "folder", "name": "x", "size": 4 * MB}}, "RequestBodyRead", "folder"),
    ({"attachment": {"name": "x"}}, "RequestBodyRead", "attachment"),
]


@pytest.mark.parametrize("body, code, needle", CREATE_BAD, ids=[c[1] + f"-{i}" for i, c in enumerate(CREATE_BAD)])
def test_create_upload_session_refusals_change_nothing(client: Client, event: dict[str, Any], store: Store,
                                                        body: dict[str, Any], code: str, needle: str) -> None:
    before = dump(store)
    response = client.post(f"me/events/{event['id']}/attachments/createUploadSession", json=body)
    assert_graph_error(response, 400, code, contains=needle)
    assert dump(store) == before


def test_a_session_can_be_cancelled_and_expires(client: Client, anonymous: Client, event: dict[str, Any],
                                                store: Store, clock: Clock) -> None:
    cancelled = session(client, event["id"], 4 * MB)["uploadUrl"]
    assert anonymous.delete(cancelled).status_code == 204
    assert_graph_error(put(anonymous, cancelled, b"x" * 10, 0, 4 * MB), 404, "ErrorItemNotFound")

    url = session(client, event["id"], 4 * MB)["uploadUrl"]
    clock.set(clock.now() + dt.timedelta(hours=1, minutes=1))
    assert_graph_error(put(anonymous, url, b"x" * 10, 0, 4 * MB), 404, "ErrorItemNotFound", contains="expired")
    assert store.db.execute("SELECT COUNT(*) FROM upload_sessions").fetchone()[0] == 0
    assert client.get(f"me/events/{event['id']}").json()["hasAttachments"] is False


def test_deleting_the_event_ends_its_sessions(client: Client, anonymous: Client, event: dict[str, Any],
                                              store: Store) -> None:
    url = session(client, event["id"], 4 * MB)["uploadUrl"]
    assert client.delete(f"me/events/{event['id']}").status_code == 204
    assert store.db.execute("SELECT COUNT(*) FROM upload_sessions").fetchone()[0] == 0
    assert_graph_error(put(anonymous, url, b"x" * 10, 0, 4 * MB), 404)
