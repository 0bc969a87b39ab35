"""Group mailboxes (Microsoft 365 groups) with a calendar, as the seed and tests create them."""

from __future__ import annotations

from typing import Any


def add_group(
    store: Any, address: str, name: str, members: list[str], visibility: str = "Public", description: str | None = None
) -> str:
    """A group mailbox with its calendar (for the seed and for tests)."""
    mailbox_id = store.add_mailbox(
        address,
        "group",
        {
            "displayName": name,
            "description": description,
            "visibility": visibility,
            "members": members,
            "timeZone": "Pacific Standard Time",
        },
    )
    folder = store.add_group(mailbox_id, "My Calendars", "0006f0b7-0000-0000-c000-000000000046")
    store.add_calendar(
        mailbox_id,
        folder,
        {"name": "Calendar", "color": "auto", "owner": {"name": name, "address": address}},
        is_default=True,
    )
    return mailbox_id
