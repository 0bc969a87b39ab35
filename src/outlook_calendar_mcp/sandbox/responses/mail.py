"""``POST {mb}/sendMail``: 202 Accepted with no body, as Graph answers (:mod:`..models.mail`)."""

from __future__ import annotations

from starlette.responses import Response

from ..ctx import Ctx
from ..errors import GraphHTTPError
from ..models.mail import SEND_MAIL, send_mail
from .actions import action_body


def send(ctx: Ctx) -> Response:
    if not ctx.principal.app_only and ctx.principal.mailbox["id"] != ctx.mailbox["id"]:
        raise GraphHTTPError(
            403,
            "ErrorSendAsDenied",
            "The user account which was used to submit this request does not have the "
            "right to send mail on behalf of the specified sending account.",
        )
    if not ctx.body_bytes.strip():
        raise GraphHTTPError(400, "ErrorInvalidParameter", "The parameter 'message' is required: the message to send.")
    send_mail(ctx, ctx.mailbox["address"], action_body(ctx, "sendMail", SEND_MAIL))
    return ctx.respond(None, 202)
