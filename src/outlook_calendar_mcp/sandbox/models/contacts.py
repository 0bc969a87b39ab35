"""Personal contacts, as Graph models them (``microsoft.graph.contact`` in the mailbox's Contacts folder).

A contact is an Outlook item the user saved: names, email addresses, company, phones. ``new_contact`` checks a
create body (``POST {mb}/contacts``; the seeding of a scenario's ``contacts`` goes through it too) and makes the
stored document; :mod:`.people` ranks contacts among the people relevant to the mailbox.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
from typing import Any

from ..errors import GraphHTTPError, bad_request
from .store import Store, graph_timestamp, new_change_key, new_item_id

__all__ = ["CONTACT_PROPERTIES", "WRITABLE", "add_contact", "contacts_folder_id", "new_contact"]

TEXT = (
    "displayName",
    "givenName",
    "middleName",
    "surname",
    "nickName",
    "title",
    "jobTitle",
    "companyName",
    "department",
    "officeLocation",
    "profession",
    "mobilePhone",
    "personalNotes",
    "fileAs",
)
LISTS = ("businessPhones", "homePhones", "categories")
WRITABLE = frozenset((*TEXT, *LISTS, "emailAddresses"))
CONTACT_PROPERTIES = set(WRITABLE) | {
    "id",
    "createdDateTime",
    "lastModifiedDateTime",
    "changeKey",
    "parentFolderId",
}
MAX_ADDRESSES = 3  # Outlook keeps three email addresses on a contact
ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def contacts_folder_id(mailbox_id: str) -> str:
    """The id of the mailbox's Contacts folder (every contact's parentFolderId), stable per mailbox."""
    raw = b"\x00\x03\x24\x00F" + hashlib.sha256(f"contacts|{mailbox_id}".encode()).digest()
    return base64.urlsafe_b64encode(raw).decode()


def _invalid(message: str) -> GraphHTTPError:
    return bad_request(message, "RequestBodyRead")


def new_contact(body: Any, folder_id: str, now: dt.datetime) -> dict[str, Any]:
    """The stored document of a contact created from ``body`` (a Graph contact); 400 naming what is wrong."""
    if not isinstance(body, dict):
        raise _invalid('The request body must be a JSON object: a contact, e.g. {"givenName": "Kim"}.')
    for key, value in body.items():
        if key.startswith("@odata."):
            continue
        if key not in WRITABLE:
            raise _invalid(
                f"The property '{key}' does not exist on type 'microsoft.graph.contact' or cannot be set; "
                f"use {', '.join(sorted(WRITABLE))}."
            )
        if key in TEXT and value is not None and not isinstance(value, str):
            raise _invalid(f"{key}: give a string.")
        if key in LISTS and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise _invalid(f"{key}: give a list of strings.")
    emails = body.get("emailAddresses") or []
    if not isinstance(emails, list) or len(emails) > MAX_ADDRESSES:
        raise _invalid(f'emailAddresses: give a list of at most {MAX_ADDRESSES} {{"address", "name"}} objects.')
    addresses = []
    for i, e in enumerate(emails):
        address = e.get("address") if isinstance(e, dict) else None
        if not isinstance(address, str) or not ADDRESS.match(address.strip()):
            raise _invalid(f'emailAddresses[{i}]: give an SMTP address, e.g. {{"address": "kim@fabrikam.com"}}.')
        addresses.append({"name": e.get("name") or address.strip(), "address": address.strip()})
    doc: dict[str, Any] = {k: body.get(k) for k in TEXT}
    for key in LISTS:
        doc[key] = list(body.get(key) or [])
    name = " ".join(p for p in (doc["givenName"], doc["middleName"], doc["surname"]) if p)
    doc["displayName"] = doc["displayName"] or name or (addresses[0]["address"] if addresses else None)
    if not doc["displayName"]:
        raise _invalid("A contact needs a name or an email address: give givenName, displayName or emailAddresses.")
    doc["fileAs"] = doc["fileAs"] or ""
    doc["emailAddresses"] = addresses
    stamp = graph_timestamp(now)
    doc.update(createdDateTime=stamp, lastModifiedDateTime=stamp, changeKey=new_change_key(), parentFolderId=folder_id)
    return doc


def add_contact(store: Store, mailbox_id: str, body: Any, now: dt.datetime) -> tuple[str, dict[str, Any]]:
    """Check ``body`` and store it as a contact of the mailbox: (its id, its document)."""
    doc = new_contact(body, contacts_folder_id(mailbox_id), now)
    contact_id = new_item_id(b"P")
    store.add_contact(contact_id, mailbox_id, doc)
    return contact_id, doc
