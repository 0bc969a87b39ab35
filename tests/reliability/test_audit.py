"""The audit trail: every write, one JSON line (time, user, tool, target, Graph request-ids, outcome), no body.

Writes go through the MCP client to the sandbox; the trail is read back with ``outlook-calendar-mcp audit``.
"""

from __future__ import annotations

import json

import pytest

from outlook_calendar_mcp.audit import file_name
from outlook_calendar_mcp.cli import main
from tests.e2e.conftest import open_harness
from tests.instants import suite_instant

pytestmark = [pytest.mark.anyio, pytest.mark.clock]  # on the suite's instant

SECRET_BODY = "the merger codename is BLUEFIN"


async def test_every_write_is_recorded_without_bodies_and_the_cli_prints_it(tmp_path, monkeypatch, capsys):
    async with open_harness(tmp_path) as h:
        created = await h.call("create_event", {"subject": "Audit me", "start": "2027-03-04T09:00",
                                                "end": "2027-03-04T09:30", "description": SECRET_BODY})
        handle = created["event"]["handle"]
        await h.call("update_event", {"event": handle, "subject": "Audit me too"})
        await h.call("calendar_view", {"start": "2027-03-04", "end": "2027-03-05"})  # a read: not recorded
        await h.fail("delete_event", {"event": "ev_doesnotexist"})
        await h.call("delete_event", {"event": handle})
        graph_id = h.graph_id(handle)

    monkeypatch.setenv("OUTLOOK_MCP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("OUTLOOK_MCP_NOW", suite_instant().isoformat())
    assert main(["audit", "--since", "1h"]) == 0
    lines = capsys.readouterr().out.splitlines()
    entries = [json.loads(line) for line in lines]
    assert [(e["tool"], e["outcome"]) for e in entries] == [
        ("create_event", "ok"), ("update_event", "ok"), ("delete_event", "failed"), ("delete_event", "ok")]
    first = entries[0]
    assert set(first) >= {"time", "user", "tool", "target", "outcome", "requests"}
    assert first["user"] == "sandbox-default-user"
    assert [(r["method"], r["status"], r["outcome"]) for r in first["requests"]] == [("POST", 201, "ok")]
    assert first["requests"][0]["request_id"]  # Graph's request-id of the write
    assert entries[1]["target"] == {"event": handle}
    assert [r["method"] for r in entries[1]["requests"]] == ["PATCH"]
    assert entries[2]["error"] == "UnknownHandle" and entries[2]["requests"] == []
    assert entries[3]["requests"][0]["path"].endswith(graph_id.replace("=", "%3D"))
    trail = "\n".join(lines)
    assert SECRET_BODY not in trail and "Audit me" not in trail and "Bearer" not in trail  # never a body

    # --since keeps only recent entries (on the server's clock), --user another person's file (none).
    monkeypatch.setenv("OUTLOOK_MCP_NOW", "2030-01-01T00:00:00+00:00")
    assert main(["audit", "--since", "1h"]) == 0 and capsys.readouterr().out == ""
    assert main(["audit", "--user", "megan@contoso.com"]) == 0 and capsys.readouterr().out == ""
    assert (tmp_path / "audit" / file_name("sandbox-default-user")).is_file()


async def test_a_bad_since_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("OUTLOOK_MCP_DATA_DIR", str(tmp_path))
    assert main(["audit", "--since", "yesterday"]) == 2
    assert "--since" in capsys.readouterr().err
