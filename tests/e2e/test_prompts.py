"""Prompts and resources, listed and rendered through an MCP client."""

from __future__ import annotations

import json

import pytest

from .conftest import Harness

pytestmark = pytest.mark.anyio

PROMPTS = {"schedule_meeting", "daily_agenda", "triage_invitations", "find_focus_time", "reschedule_conflicts",
           "weekly_review"}
SENDS = ("create_event", "update_event", "accept_event", "decline_event", "cancel_event")


async def test_prompts_are_listed_and_each_requires_confirmation(harness: Harness):
    listed = {p.name: p for p in (await harness.client.list_prompts()).prompts}
    assert set(listed) == PROMPTS
    assert [a.name for a in listed["schedule_meeting"].arguments if a.required] == ["people", "topic"]
    for name in PROMPTS:
        args = {"people": "Dana, Fanny", "topic": "Q1 planning"} if name == "schedule_meeting" else {}
        rendered = await harness.client.get_prompt(name, args)
        text = "\n".join(m.content.text for m in rendered.messages)
        assert "get_mailbox_settings" in text, name  # time sense first
        tools = {t.name for t in (await harness.client.list_tools()).tools}
        named = {t for t in tools if t in text}
        assert named, name
        if named & set(SENDS) and name != "find_focus_time":
            assert "explicit yes" in text, name  # nothing reaches other people without the user's go-ahead


async def test_schedule_meeting_renders_its_arguments(harness: Harness):
    rendered = await harness.client.get_prompt("schedule_meeting", {
        "people": "Dana, Fanny", "topic": "Q1 planning", "duration": "1h", "window": "next week", "room_for": "6"})
    text = rendered.messages[0].content.text
    assert '"Q1 planning" with Dana, Fanny, 1h long, within next week' in text
    assert "room_capacity=6" in text and "find_meeting_times" in text and "Wait for the user to pick one" in text


async def test_resources_agenda_and_settings(harness: Harness):
    uris = {str(r.uri) for r in (await harness.client.list_resources()).resources}
    assert uris == {"calendar://agenda/today", "calendar://mailbox/settings"}
    settings = json.loads((await harness.client.read_resource("calendar://mailbox/settings")).contents[0].text)
    assert settings["time_zone"] == "America/Los_Angeles" and settings["working_hours"]["start"] == "08:00"
    agenda = json.loads((await harness.client.read_resource("calendar://agenda/today")).contents[0].text)
    assert agenda["today"] == settings["today"] and isinstance(agenda["events"], list)
    direct = await harness.call("calendar_view", {"start": agenda["today"], "end": f"{agenda['today']}T23:59:59"})
    assert [e["handle"] for e in agenda["events"]] == [e["handle"] for e in direct["events"]]
