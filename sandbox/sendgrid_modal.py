"""The credential modal (handlers/credentials.py) as SendGrid's form shows it: the ids, titles and
builders the sandbox's steps and the tests drive it with."""

from __future__ import annotations

from handlers import credentials as generic
from providers.sendgrid.entry import DEFAULT_REGION
from providers.sendgrid.entry import SPEC as SENDGRID
from services.credential_connect import ConnectResult, ModalContext

CALLBACK_ID = generic.CALLBACK_ID
CONNECT_ACTION = generic.connect_action(SENDGRID)
KEY_BLOCK = KEY_ACTION = "api_key"
REGION_BLOCK = REGION_ACTION = "region"
TITLE = generic.TITLE.format(provider=SENDGRID.display_name)
CONNECTED_TITLE = generic.title_of(generic.CONNECTED_TITLE, SENDGRID.display_name)
SUBMIT = generic.SUBMIT
INVITED_NOTE = generic.INVITED_NOTE.format(provider=SENDGRID.display_name)
NOT_YOURS = generic.NOT_YOURS.format(key=SENDGRID.key)


def context(ctx: ModalContext) -> ModalContext:
    """The context as the modal is opened for SendGrid."""
    return ModalContext(
        ctx.team_id, ctx.user_id, ctx.response_url, ctx.channel_id, ctx.invitation_id, SENDGRID.key
    )


def connect_modal(ctx: ModalContext, *, region: str = DEFAULT_REGION, notice: str | None = None) -> dict:
    return generic.connect_modal(SENDGRID, context(ctx), values={REGION_BLOCK: region}, notice=notice)


def result_view(ctx: ModalContext, result: ConnectResult) -> dict:
    return generic.result_view(SENDGRID, context(ctx), result)


def verifying_view() -> dict:
    return generic.verifying_view(SENDGRID)


def read_submission(view: dict) -> tuple[str, str]:
    values = generic.read_submission(SENDGRID, view)
    return values[KEY_BLOCK], values[REGION_BLOCK]
