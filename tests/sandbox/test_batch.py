"""JSON batching (``POST /v1.0/$batch``): each request runs on its own through the sandbox, as Graph runs it.

What Graph documents and these tests hold the sandbox to: at most 20 requests, unique ids, relative
URLs, a Content-Type with every body, ``dependsOn`` (a request whose dependency failed is a 424 and
does nothing), one status per request (a failing request is rolled back alone; the others stand),
and each request's own headers (Prefer) honoured.
"""

from __future__ import annotations

from typing import Any

import pytest

from outlook_calendar_mcp.sandbox.models.store import Store

from .conftest import Client, assert_graph_error, snapshot

JSON = {"Content-Type": "application/json"}


def event_body(subject: str, start: str = "2026-03-05T10:00:00", end: str = "2026-03-05T11:00:00") -> dict[str, Any]:
    return {"subject": subject, "start": {"dateTime": start, "timeZone": "UTC"},
            "end": {"dateTime": end, "timeZone": "UTC"}}


def run(client: Client, requests: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    r = client.post("$batch", json={"requests": requests})
    assert r.status_code == 200, r.text
    responses = r.json()["responses"]
    assert sorted(x["id"] for x in responses) == sorted(q["id"] for q in requests)
    return {x["id"]: x for x in responses}


def subjects(store: Store) -> set[str]:
    return {r[0] for r in store.db.execute("SELECT json_extract(doc, '$.subject') FROM events")}


def test_each_request_has_its_own_status_and_effect(client: Client, store: Store) -> None:
    out = run(client, [
        {"id": "me", "method": "GET", "url": "/me?$select=displayName"},
        {"id": "good", "method": "POST", "url": "/me/events", "headers": JSON, "body": event_body("Batched good")},
        {"id": "bad", "method": "POST", "url": "/me/events", "headers": JSON,
         "body": {**event_body("Batched bad"), "end": {"dateTime": "not a time", "timeZone": "UTC"}}},
        {"id": "missing", "method": "GET", "url": "/me/events/AAMkNotThere="},
    ])
    assert out["me"]["status"] == 200 and out["me"]["body"]["displayName"]
    assert out["good"]["status"] == 201 and out["good"]["headers"]["Location"]
    assert out["bad"]["status"] == 400 and out["bad"]["body"]["error"]["code"]
    assert out["missing"]["status"] == 404
    assert "Batched good" in subjects(store) and "Batched bad" not in subjects(store)
    got = client.get(f"me/events/{out['good']['body']['id']}")
    assert got.status_code == 200 and got.json()["subject"] == "Batched good"


def test_depends_on_runs_after_and_only_after_success(client: Client, store: Store) -> None:
    out = run(client, [
        {"id": "1", "method": "POST", "url": "/me/events", "headers": JSON, "body": event_body("First")},
        {"id": "2", "method": "GET", "url": "/me/events?$filter=subject eq 'First'&$select=subject",
         "dependsOn": ["1"]},
        {"id": "3", "method": "DELETE", "url": "/me/events/AAMkNotThere="},
        {"id": "4", "method": "POST", "url": "/me/events", "headers": JSON, "body": event_body("After a failure"),
         "dependsOn": ["3"]},
    ])
    assert out["1"]["status"] == 201
    assert out["2"]["status"] == 200 and [e["subject"] for e in out["2"]["body"]["value"]] == ["First"]
    assert out["3"]["status"] == 404
    assert out["4"]["status"] == 424 and "'3'" in out["4"]["body"]["error"]["message"]
    assert "After a failure" not in subjects(store)


def test_each_request_keeps_its_own_headers(client: Client) -> None:
    out = run(client, [
        {"id": "pacific", "method": "GET", "url": "/me/calendarView?startDateTime=2026-03-02T00:00:00Z"
         "&endDateTime=2026-03-07T00:00:00Z&$top=1&$select=start",
         "headers": {"Prefer": 'outlook.timezone="Pacific Standard Time"'}},
        {"id": "utc", "method": "GET", "url": "/me/calendarView?startDateTime=2026-03-02T00:00:00Z"
         "&endDateTime=2026-03-07T00:00:00Z&$top=1&$select=start"},
    ])
    assert out["pacific"]["body"]["value"][0]["start"]["timeZone"] == "Pacific Standard Time"
    assert out["utc"]["body"]["value"][0]["start"]["timeZone"] == "UTC"
    assert "outlook.timezone" in out["pacific"]["headers"]["Preference-Applied"]


def test_the_batch_signs_every_request_in_as_its_caller(make_client: Any) -> None:
    out = run(make_client("sandbox:dana@contoso.com"), [{"id": "1", "method": "GET", "url": "/me"}])
    assert out["1"]["body"]["mail"].lower() == "dana@contoso.com"
    anonymous = make_client(None).post("$batch", json={"requests": [{"id": "1", "method": "GET", "url": "/me"}]})
    assert anonymous.status_code == 200
    assert anonymous.json()["responses"][0]["status"] == 401


@pytest.mark.parametrize(("requests", "contains"), [
    ([{"id": str(i), "method": "GET", "url": "/me"} for i in range(21)], "at most 20"),
    ([{"id": "a", "method": "GET", "url": "/me"}, {"id": "A", "method": "GET", "url": "/me"}], "unique"),
    ([{"id": "1", "method": "GET", "url": "https://graph.microsoft.com/v1.0/me"}], "relative"),
    ([{"id": "1", "method": "POST", "url": "/$batch", "headers": JSON, "body": {"requests": []}}], "another $batch"),
    ([{"id": "1", "method": "POST", "url": "/me/events", "body": event_body("no type")}], "Content-Type"),
    ([{"id": "1", "method": "GET", "url": "/me", "dependsOn": ["2"]}, {"id": "2", "method": "GET", "url": "/me"}],
     "listed before"),
    ([{"id": "1", "method": "TRACE", "url": "/me"}], "method"),
    ([], "at least one"),
])
def test_a_malformed_batch_is_refused_whole(client: Client, store: Store, requests: list[dict[str, Any]],
                                            contains: str) -> None:
    before = snapshot(store)
    writes = [{"id": "w", "method": "POST", "url": "/me/events", "headers": JSON, "body": event_body("Must not")}]
    r = client.post("$batch", json={"requests": writes + requests if requests else []})
    assert_graph_error(r, 400, "BadRequest", contains=contains)
    assert snapshot(store) == before


def test_not_json_is_refused(client: Client) -> None:
    assert_graph_error(client.post("$batch", content=b"{", headers=JSON), 400, "BadRequest", contains="JSON")
