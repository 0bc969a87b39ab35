"""Attachment tools end to end: a real MCP client, the server, the sandbox behind it.

Files move only inside the attachments directory (``Settings.attachments_dir``; here ``tmp_path /
"attachments"``): paths outside it, and symbolic links that lead out of it, are refused. A 20 MB file goes
through an upload session (ranges of 3.75 MiB, MCP progress notifications after each) and comes back
byte-identical, saved by get_attachment and as the sandbox's ``$value``. Every refused call is an isError
naming the argument and the fix, and changes nothing in the sandbox.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from outlook_calendar_mcp.auth import StaticTokenProvider
from outlook_calendar_mcp.calendar.attachments import CHUNK
from outlook_calendar_mcp.graph import GraphClient, GraphError

from .conftest import Harness, failure, open_harness, structured

pytestmark = pytest.mark.anyio

MB = 1024 * 1024
ATTACHMENT_TOOLS = ("list_attachments", "get_attachment", "add_file_attachment", "add_item_attachment",
                    "add_reference_attachment", "delete_attachment")


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    async with open_harness(tmp_path) as opened:
        yield opened


@pytest.fixture
def folder(h: Harness) -> Path:
    path = h.settings.attachments_dir
    path.mkdir(parents=True, exist_ok=True)
    return path


async def new_event(h: Harness, subject: str = "Attachment review") -> str:
    created = await h.call("create_event", {"subject": subject, "start": "2027-03-12T09:00", "end": "2027-03-12T10:00"})
    return created["event"]["handle"]


def big_file(size: int) -> bytes:
    seed = hashlib.sha256(b"twenty megabytes").digest()
    block = b"".join(hashlib.sha256(seed + i.to_bytes(4, "big")).digest() for i in range(4096))  # 128 KiB
    return (block * (size // len(block) + 1))[:size]


async def test_tools_are_listed_with_their_hints(h: Harness) -> None:
    tools = {t.name: t for t in (await h.client.list_tools()).tools}
    assert set(ATTACHMENT_TOOLS) <= set(tools)
    assert tools["list_attachments"].annotations.read_only_hint is True
    assert tools["get_attachment"].annotations.read_only_hint is False  # save_as writes a local file
    assert tools["get_attachment"].annotations.open_world_hint is False
    assert tools["delete_attachment"].annotations.destructive_hint is True
    assert tools["add_file_attachment"].annotations.idempotent_hint is False
    assert "ctx" not in tools["add_file_attachment"].input_schema["properties"]


async def test_a_small_file_round_trip(h: Harness, folder: Path) -> None:
    event = await new_event(h)
    (folder / "agenda.md").write_text("# Agenda\n1. Budget\n2. Hiring\n", encoding="utf-8")
    added = await h.call("add_file_attachment", {"event": event, "path": "agenda.md"})
    attachment = added["attachment"]
    assert added["event"] == event and "uploaded_in_ranges" not in added
    assert attachment["name"] == "agenda.md" and attachment["kind"] == "file" and attachment["size"] == 29
    assert attachment["handle"].startswith("att_")

    listed = await h.call("list_attachments", {"event": event})
    assert [a["handle"] for a in listed["attachments"]] == [attachment["handle"]]
    meta = await h.call("get_attachment", {"event": event, "attachment": attachment["handle"]})
    assert "text" not in meta and "saved_to" not in meta and meta["attachment"]["id"]
    text = await h.call("get_attachment", {"event": event, "attachment": attachment["handle"], "as_text": True})
    assert "# Agenda\n1. Budget" in text["text"] and text["text"].startswith("<<<untrusted")
    saved = await h.call("get_attachment", {"event": event, "attachment": attachment["handle"],
                                            "save_as": "copies/agenda-copy.md"})
    assert Path(saved["saved_to"]) == (folder / "copies" / "agenda-copy.md").resolve()
    assert (folder / "copies" / "agenda-copy.md").read_bytes() == (folder / "agenda.md").read_bytes()
    assert (await h.sandbox_get(f"me/events/{h.graph_id(event)}"))["hasAttachments"] is True

    removed = await h.call("delete_attachment", {"event": event, "attachment": attachment["handle"]})
    assert removed == {"event": event, "deleted": attachment["handle"], "name": "agenda.md"}
    assert (await h.call("list_attachments", {"event": event}))["attachments"] == []


async def test_base64_content(h: Harness, folder: Path) -> None:
    event = await new_event(h)
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    added = await h.call("add_file_attachment", {"event": event, "content_base64": base64.b64encode(png).decode(),
                                                 "name": "dot.png"})
    assert added["attachment"]["content_type"] == "image/png" and added["attachment"]["size"] == len(png)
    handle = added["attachment"]["handle"]
    message = await h.fail("get_attachment", {"event": event, "attachment": handle, "as_text": True})
    assert "as_text" in message and "binary" in message and "save_as" in message
    saved = await h.call("get_attachment", {"event": event, "attachment": handle, "save_as": "dot.png"})
    assert (folder / "dot.png").read_bytes() == png and saved["saved_bytes"] == len(png)
    # Saving again needs overwrite.
    message = await h.fail("get_attachment", {"event": event, "attachment": handle, "save_as": "dot.png"})
    assert "save_as" in message and "overwrite" in message
    await h.call("get_attachment", {"event": event, "attachment": handle, "save_as": "dot.png", "overwrite": True})


async def test_twenty_megabytes_by_upload_session_with_progress(h: Harness, folder: Path) -> None:
    event = await new_event(h, "Big file review")
    data = big_file(20 * MB)
    (folder / "dataset.bin").write_bytes(data)
    seen: list[tuple[float, float | None, str | None]] = []

    async def progress(value: float, total: float | None, message: str | None) -> None:
        seen.append((value, total, message))

    result = await h.client.call_tool("add_file_attachment", {"event": event, "path": "dataset.bin"},
                                      progress_callback=progress)
    added = structured(result)
    ranges = -(-len(data) // CHUNK)
    assert added["uploaded_in_ranges"] == ranges
    assert added["attachment"]["size"] == len(data) and added["attachment"]["name"] == "dataset.bin"
    values = [v for v, _, _ in seen]
    assert values[0] == 0 and values[-1] == len(data) and values == sorted(values)
    assert len(values) == ranges + 1 and {t for _, t, _ in seen} == {len(data)}
    assert all(m for _, _, m in seen)

    handle = added["attachment"]["handle"]
    saved = await h.call("get_attachment", {"event": event, "attachment": handle, "save_as": "dataset-back.bin"})
    back = (folder / "dataset-back.bin").read_bytes()
    assert saved["saved_bytes"] == len(data) and hashlib.sha256(back).digest() == hashlib.sha256(data).digest()
    raw = await h.graph.request("GET", f"me/events/{h.graph_id(event)}/attachments/"
                                       f"{h.graph_id(handle, 'attachment')}/$value", headers={"Accept": "*/*"})
    assert raw.content == data
    # The session is gone; the event says it has an attachment.
    assert h.store.db.execute("SELECT COUNT(*) FROM upload_sessions").fetchone()[0] == 0
    assert (await h.sandbox_get(f"me/events/{h.graph_id(event)}"))["hasAttachments"] is True
    message = await h.fail("get_attachment", {"event": event, "attachment": handle, "as_text": True})
    assert "as_text" in message


async def test_upload_urls_get_no_credentials() -> None:
    """GraphClient(auth=False): no Authorization header, and Graph's real uploadUrl host (outlook.office.com)."""
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"nextExpectedRanges": ["4"]})

    url = "https://outlook.office.com/api/v2.0/Users('u@t')/Events('AAMk=')/AttachmentSessions('s1')?authtoken=t0k"
    async with GraphClient(base_url="https://graph.microsoft.com/v1.0", transport=httpx.MockTransport(answer),
                           token_provider=StaticTokenProvider(SecretStr("secret-token"))) as client:
        response = await client.request("PUT", url, content=b"abcd", auth=False,
                                        headers={"Content-Range": "bytes 0-3/8"})
        assert response.json() == {"nextExpectedRanges": ["4"]}
        with pytest.raises(GraphError, match="Refusing"):  # with credentials, only Graph's own host
            await client.request("PUT", url, content=b"abcd")
    assert len(sent) == 1 and "authorization" not in sent[0].headers
    assert sent[0].headers["content-range"] == "bytes 0-3/8" and str(sent[0].url) == url


async def test_item_attachments(h: Harness) -> None:
    event = await new_event(h)
    other = await new_event(h, "Site visit")
    from_event = await h.call("add_item_attachment", {"event": event, "item_event": other})
    assert from_event["attachment"]["kind"] == "item" and from_event["attachment"]["name"] == "Site visit"
    message = await h.call("add_item_attachment", {"event": event, "message": {
        "subject": "Directions", "body": "Take exit 12.", "to": ["dana@contoso.com"]}})
    contact = await h.call("add_item_attachment", {"event": event, "name": "Host", "contact": {
        "display_name": "Pat Host", "emails": ["pat@fabrikam.com"], "company": "Fabrikam"}})
    assert contact["attachment"]["name"] == "Host"
    ics = await h.call("get_attachment", {"event": event, "attachment": from_event["attachment"]["handle"],
                                          "as_text": True})
    assert "SUMMARY:Site visit" in ics["text"] and "DTSTART:20270312T170000Z" in ics["text"]
    mail = await h.call("get_attachment", {"event": event, "attachment": message["attachment"]["handle"],
                                           "as_text": True})
    assert "Subject: Directions" in mail["text"] and "Take exit 12." in mail["text"]
    card = await h.call("get_attachment", {"event": event, "attachment": contact["attachment"]["handle"],
                                           "as_text": True})
    assert "FN:Pat Host" in card["text"] and "ORG:Fabrikam" in card["text"]
    assert len((await h.call("list_attachments", {"event": event}))["attachments"]) == 3


async def test_reference_attachment(h: Harness) -> None:
    event = await new_event(h)
    url = "https://contoso-my.sharepoint.com/personal/adele/Documents/Plan.docx"
    added = await h.call("add_reference_attachment", {"event": event, "name": "Plan", "source_url": url,
                                                      "provider_type": "oneDriveBusiness", "permission": "edit"})
    attachment = added["attachment"]
    assert attachment["kind"] == "reference" and attachment["source_url"] == url
    read = await h.call("get_attachment", {"event": event, "attachment": attachment["handle"]})
    assert read["attachment"]["source_url"] == url and read["attachment"]["permission"] == "edit"
    assert read["attachment"]["provider"] == "oneDriveBusiness"
    message = await h.fail("get_attachment", {"event": event, "attachment": attachment["handle"], "save_as": "x"})
    assert "save_as" in message and url in message


# -- refusals -----------------------------------------------------------------------------------------------

def B64(data: bytes) -> str:
    return base64.b64encode(data).decode()


BAD = [
    # (tool, arguments, the argument the message names, words of the fix)
    ("add_file_attachment", {"path": "../outside.txt"}, "path", ("outside", "attachments directory")),
    ("add_file_attachment", {"path": "{outside}"}, "path", ("outside", "attachments directory")),
    ("add_file_attachment", {"path": "escape.txt"}, "path", ("symbolic link",)),
    ("add_file_attachment", {"path": "linked/secret.txt"}, "path", ("symbolic link",)),
    ("add_file_attachment", {"path": "missing.txt"}, "path", ("no file",)),
    ("add_file_attachment", {"path": "huge.bin"}, "path", ("150 MB",)),
    ("add_file_attachment", {"path": "."}, "path", ("file name",)),
    ("add_file_attachment", {}, "path", ("exactly one",)),
    ("add_file_attachment", {"path": "inside.txt", "content_base64": B64(b"x"), "name": "x"}, "path",
     ("exactly one",)),
    ("add_file_attachment", {"content_base64": "not base64!", "name": "x.txt"}, "content_base64", ("base64",)),
    ("add_file_attachment", {"content_base64": B64(b"x")}, "name", ("required",)),
    ("add_file_attachment", {"path": "inside.txt", "event": "att_zzzzzz"}, "event", ("'ev_'",)),
    ("add_file_attachment", {"path": "inside.txt", "event": "ev_zzzzzz"}, "event", ("unknown handle",)),
    ("get_attachment", {"attachment": "{attachment}", "save_as": "../leak.txt"}, "save_as", ("outside",)),
    ("get_attachment", {"attachment": "{attachment}", "save_as": "escape.txt"}, "save_as", ("symbolic link",)),
    ("get_attachment", {"attachment": "{attachment}", "save_as": "linked/new.txt"}, "save_as", ("symbolic link",)),
    ("get_attachment", {"attachment": "{attachment}", "save_as": "inside.txt"}, "save_as", ("overwrite",)),
    ("get_attachment", {"attachment": "{attachment}", "as_text": "yes"}, "as_text", ("valid boolean",)),
    ("get_attachment", {"attachment": "{event}"}, "attachment", ("'att_'",)),
    ("get_attachment", {"attachment": "att_zzzzzz"}, "attachment", ("list_attachments",)),
    ("get_attachment", {"attachment": "{attachment}", "colour": "red"}, "colour", ("extra",)),
    ("delete_attachment", {"attachment": "att_zzzzzz"}, "attachment", ("list_attachments",)),
    ("delete_attachment", {}, "attachment", ("required",)),
    ("list_attachments", {"event": "cal_zzzzzz"}, "event", ("'ev_'",)),
    ("add_item_attachment", {}, "item_event", ("exactly one",)),
    ("add_item_attachment", {"item_event": "{event}", "contact": {"display_name": "Pat"}}, "item_event",
     ("exactly one",)),
    ("add_item_attachment", {"message": {"subject": "Hi", "to": ["not-an-address"]}}, "message.to[0]",
     ("email address",)),
    ("add_item_attachment", {"message": {"subject": ""}}, "subject", ("at least 1 character",)),
    ("add_item_attachment", {"contact": {"display_name": "Pat", "emails": ["pat"]}}, "contact.emails[0]",
     ("email address",)),
    ("add_reference_attachment", {"name": "Plan", "source_url": "file:///etc/passwd"}, "source_url", ("http",)),
    ("add_reference_attachment", {"name": "Plan", "source_url": "https://x.example/p", "permission": "owner"},
     "permission", ("view", "edit")),
    ("add_reference_attachment", {"source_url": "https://x.example/p"}, "name", ("required",)),
]


@pytest.fixture
async def world(h: Harness, folder: Path, tmp_path: Path) -> dict[str, str]:
    """An event with one attachment; a file inside the folder, one outside it, and links that lead out."""
    event = await new_event(h, "Refusals")
    (folder / "inside.txt").write_text("inside", encoding="utf-8")
    with (folder / "huge.bin").open("wb") as huge:  # sparse: 150 MB + 1 byte, written in no time
        huge.truncate(150 * MB + 1)
    outside = tmp_path / "outside.txt"
    outside.write_text("secret", encoding="utf-8")
    os.symlink(outside, folder / "escape.txt")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "secret.txt").write_text("secret", encoding="utf-8")
    os.symlink(tmp_path / "elsewhere", folder / "linked", target_is_directory=True)
    added = await h.call("add_file_attachment", {"event": event, "path": "inside.txt"})
    return {"event": event, "attachment": added["attachment"]["handle"], "outside": str(outside)}


def fill(value: Any, world: dict[str, str]) -> Any:
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return world[value[1:-1]]
    if isinstance(value, dict):
        return {k: fill(v, world) for k, v in value.items()}
    return value


async def test_refusals_name_the_argument_and_change_nothing(h: Harness, world: dict[str, str],
                                                             tmp_path: Path) -> None:
    before = h.snapshot()
    outside_files = {p: p.read_bytes() for p in tmp_path.rglob("*")  # the audit trail records refusals: not a file
                     if p.is_file() and "attachments" not in p.parts and "audit" not in p.parts}
    tools = {t.name for t in (await h.client.list_tools()).tools}
    for tool, args, argument, fix in BAD:
        message = await h.fail(tool, {"event": world["event"], **fill(args, world)})
        assert argument in message, (tool, args, message)
        assert any(word.lower() in message.lower() for word in fix), (tool, args, message)
        for name in re.findall(r"\b((?:list|get|add|delete)_[a-z_]+)\b", message):
            assert name in tools, (name, message)
        assert h.snapshot() == before, (tool, args)
    assert {p: p.read_bytes() for p in outside_files} == outside_files
    assert not (tmp_path / "leak.txt").exists() and not (tmp_path / "elsewhere" / "new.txt").exists()
    # Still serving.
    assert len((await h.call("list_attachments", {"event": world["event"]}))["attachments"]) == 1


async def test_graph_side_refusals_surface_its_message(h: Harness, world: dict[str, str]) -> None:
    gone = await new_event(h, "Gone")
    await h.call("delete_event", {"event": gone})
    before = h.snapshot()
    message = failure(await h.client.call_tool("list_attachments", {"event": gone}))
    assert "ErrorItemNotFound" in message
    message = failure(await h.client.call_tool("get_attachment", {"event": gone, "attachment": world["attachment"]}))
    assert "ErrorItemNotFound" in message
    assert h.snapshot() == before
