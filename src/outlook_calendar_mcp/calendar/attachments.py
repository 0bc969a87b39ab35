"""A large file attachment, sent through an upload session.

``attachments/createUploadSession``, then PUTs of byte ranges to its pre-authenticated ``uploadUrl`` (sent
without the Authorization header), in order; a range that answers 416 (already there after a retry) asks
the session where to go on. A failed upload cancels its session; when the last range's reply is lost, the
event's attachments say whether the file arrived.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from ..graph import GraphClient, GraphError, outcomes
from ..graph.errors import OutcomeUnknown

__all__ = ["CHUNK", "Progress", "upload"]

CHUNK = 12 * 327_680  # 3.75 MiB per PUT: under Graph's 4 MB advice, a multiple of 320 KiB
_LOCATION_ID = re.compile(r"attachments\('([^']+)'\)", re.I)

Progress = Callable[[float, float | None, str | None], Awaitable[None]]  # (done, total, message)


async def upload(g: GraphClient, base: str, data: bytes, name: str, media: str, progress: Progress) -> tuple[str, int]:
    """createUploadSession, then ranges in order; returns (attachment id, ranges sent)."""
    session = await g.post(
        f"{base}/createUploadSession",
        json={"AttachmentItem": {"attachmentType": "file", "name": name, "size": len(data), "contentType": media}},
        retry_post=True,  # a session nobody uses expires on its own: a repeat creates nothing visible
    )
    url, total, sent, ranges = session["uploadUrl"], len(data), 0, 0
    await progress(0, total, f"Uploading {name}")
    try:
        while True:
            chunk = data[sent : sent + CHUNK]
            try:
                response = await g.request(
                    "PUT",
                    url,
                    content=chunk,
                    auth=False,
                    headers={
                        "Content-Type": "application/octet-stream",
                        "Content-Range": f"bytes {sent}-{sent + len(chunk) - 1}/{total}",
                    },
                )
            except OutcomeUnknown:  # the last range's reply was lost: the attachment may be there now
                found = await _landed(g, base, name, total) if sent + len(chunk) >= total else None
                if found is None:
                    raise
                note = f"done; Graph's reply was lost, the change is there: the attachment '{name}' is on the event."
                calls = outcomes.current()
                if calls is not None:
                    calls.notes.append(note)
                return found, ranges + 1
            except GraphError as e:
                if e.status != 416 or ranges > 1000:
                    raise
                response = await g.request("GET", url, auth=False)  # a retried range already landed: ask where
            ranges += 1
            if response.status_code == 201:
                await progress(total, total, f"Uploaded {name}")
                attachment_id = _attachment_id(response.location)
                if attachment_id is None:
                    raise GraphError("The upload finished without a Location of the new attachment.", code="noLocation")
                return attachment_id, ranges
            expected = (response.json() or {}).get("nextExpectedRanges") or []
            if not expected:
                raise GraphError("The upload session answered without nextExpectedRanges.", code="noRanges")
            sent = int(str(expected[0]).split("-")[0])
            await progress(sent, total, f"Uploaded {sent} of {total} bytes of {name}")
    except Exception:
        try:
            await g.request("DELETE", url, auth=False)  # cancel: the session's bytes are useless now
        except Exception:
            pass
        raise


async def _landed(g: GraphClient, base: str, name: str, size: int) -> str | None:
    """The id of an attachment named ``name`` of (at least) ``size`` bytes on the event (``base``: its attachments)."""
    try:
        page = await g.get_all(base, params={"$select": "id,name,size"})
    except GraphError:
        return None
    for item in page.items:
        if item.get("name") == name and int(item.get("size") or 0) >= size:  # Graph counts some metadata too
            return str(item["id"])
    return None


def _attachment_id(location: str | None) -> str | None:
    m = _LOCATION_ID.search(location or "")
    return m.group(1) if m else None
