"""The two pages people see: the sign-in page (pick a demo person) and the device-code page."""

from __future__ import annotations

from html import escape
from typing import Any

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;color:#1b1b1b}"
    "button{display:block;width:100%;margin:.4rem 0;padding:.6rem;text-align:left;font-size:1rem;"
    "border:1px solid #8a8886;background:#fff;cursor:pointer}button:hover{background:#f3f2f1}"
    ".note{color:#605e5c;font-size:.9rem}.error{color:#a4262c}"
)


def _page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body><h1>{escape(title)}</h1>{body}</body></html>"
    )


def sign_in(app_name: str, params: dict[str, str], people: list[dict[str, Any]]) -> str:
    hidden = "".join(f'<input type=hidden name="{escape(k)}" value="{escape(v)}">' for k, v in params.items())
    buttons = "".join(
        f'<button name=user value="{escape(p["address"])}">{escape(p["name"])} &lt;{escape(p["address"])}&gt;</button>'
        for p in people
    )
    return _page(
        "Sign in — Contoso (sandbox)",
        f"<p><b>{escape(app_name)}</b> wants to act on your calendar. Pick who you are:</p>"
        f'<form method=post action="">{hidden}{buttons}</form>'
        "<p class=note>The built-in sandbox's demo organization: no password. Scripts skip this page with "
        "login_hint=&lt;address&gt;&amp;prompt=none.</p>",
    )


def device(people: list[dict[str, Any]], message: str = "", error: bool = False) -> str:
    options = "".join(f'<option value="{escape(p["address"])}">{escape(p["name"])}</option>' for p in people)
    note = f'<p class="{"error" if error else "note"}">{escape(message)}</p>' if message else ""
    return _page(
        "Enter code — Contoso (sandbox)",
        f'{note}<form method=post action=""><p><label>Code <input name=user_code autofocus></label></p>'
        f"<p><label>Sign in as <select name=user>{options}</select></label></p><button>Continue</button></form>",
    )


def error(message: str) -> str:
    return _page("Sign-in error", f"<p class=error>{escape(message)}</p>")
