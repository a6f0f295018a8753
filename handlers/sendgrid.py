"""The SendGrid API-key modal: its pure view builders and its two listeners.

- The card's Connect/Reconnect button (`connect_modal:sendgrid`) opens the modal for people who may
  connect; `open_sendgrid_modal()` is also what an invitation's Connect button calls (the invitation
  is then the permission), through `services.extras["open_connect:sendgrid"]`.
- The submission is answered within Slack's 3 seconds: a malformed key, or one SendGrid rejects
  quickly, gets an error under the field; a quick verdict replaces the modal; when SendGrid is slow
  the modal says "Verifying…" and is updated with `views.update` once SendGrid has answered.

No view built here holds the key, and `private_metadata` holds only `ModalContext` (non-secret).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import (
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    SectionBlock,
)
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from core.logs import annotate
from handlers import slack_request
from handlers.connections import ADMINS_ONLY
from messages.cards import CONNECT_MODAL
from providers.catalogue import SENDGRID
from providers.sendgrid.client import (
    DEFAULT_REGION,
    IDENTITY_PURPOSE,
    IDENTITY_SCOPE,
    MAX_KEY_LENGTH,
    REGION_LABELS,
    key_problem,
)
from services.sendgrid_connect import INTERNAL, ConnectResult, ModalContext
from services.slack_roles import Workspace

if TYPE_CHECKING:
    from bot.container import Services  # handlers receive the container at registration

log = logging.getLogger("quolum.handlers.sendgrid")

CONNECT_ACTION = f"{CONNECT_MODAL}:{SENDGRID.key}"
OPEN_CONNECT = f"open_connect:{SENDGRID.key}"  # services.extras: how invitations open this modal
CALLBACK_ID = "sendgrid_connect"
KEY_BLOCK, KEY_ACTION = "sendgrid_key", "api_key"
REGION_BLOCK, REGION_ACTION = "sendgrid_region", "region"
QUICK_ANSWER = 2.0  # seconds SendGrid gets to answer inside Slack's 3-second window

# --- what people read --------------------------------------------------------------------------
TITLE = "Connect SendGrid"
CONNECTED_TITLE = "SendGrid connected"
SUBMIT, CANCEL, DONE = "Connect", "Cancel", "Done"
INTRO = (
    "Quolum reads SendGrid with an API key you create. In SendGrid, open <{console}|Settings → API Keys>, "
    "choose *Create API Key* → *Restricted Access*, and give it *Read Access* to these scopes only:"
)
SCOPE_LINE = "• `{scope}` — {purpose}"
OPTIONAL_LINE = (
    "Optional: `{scope}` lets Quolum {purpose}. Leave everything else at *No Access*: Quolum never sends "
    "mail or changes settings."
)
KEY_LABEL = "API key"
KEY_PLACEHOLDER = "SG.…"
KEY_HINT = "Stored encrypted. Quolum never shows it again; paste a new key here to replace it."
REGION_LABEL = "Where is your SendGrid account?"
NOTICE = ":warning: {text}"
VERIFYING = (
    ":hourglass_flowing_sand: Checking the key with SendGrid… This window shows the result in a moment; "
    "if you close it, Quolum will send you a message instead."
)
NOT_YOURS = "This window belongs to someone else's connection attempt. Run `/quolum connect sendgrid` to start your own."
PICK_REGION = "Choose where your SendGrid account is."
INVITED_NOTE = "You were invited to connect SendGrid for this workspace."


# --- pure view builders ---------------------------------------------------------------------------
def _region_option(region: str) -> Option:
    host = SENDGRID.regions[region].removeprefix("https://")
    return Option(value=region, text=f"{REGION_LABELS.get(region, region)} — {host}")


def connect_modal(ctx: ModalContext, *, region: str = DEFAULT_REGION, notice: str | None = None) -> dict:
    """The form: which key to create, the key field, the region. `notice`: why it is shown again."""
    blocks = []
    if notice:
        blocks.append(
            SectionBlock(block_id="notice", text=MarkdownTextObject(text=NOTICE.format(text=notice)))
        )
    if ctx.invitation_id:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=INVITED_NOTE)]))
    scopes = "\n".join(SCOPE_LINE.format(scope=s.name, purpose=s.purpose) for s in SENDGRID.scopes)
    blocks += [
        SectionBlock(
            block_id="intro", text=MarkdownTextObject(text=INTRO.format(console=SENDGRID.console_url))
        ),
        SectionBlock(block_id="scopes", text=MarkdownTextObject(text=scopes)),
        ContextBlock(
            elements=[
                MarkdownTextObject(text=OPTIONAL_LINE.format(scope=IDENTITY_SCOPE, purpose=IDENTITY_PURPOSE))
            ]
        ),
        InputBlock(
            block_id=KEY_BLOCK,
            label=KEY_LABEL,
            hint=KEY_HINT,
            element=PlainTextInputElement(
                action_id=KEY_ACTION, placeholder=KEY_PLACEHOLDER, max_length=MAX_KEY_LENGTH
            ),
        ),
        InputBlock(
            block_id=REGION_BLOCK,
            label=REGION_LABEL,
            element=RadioButtonsElement(
                action_id=REGION_ACTION,
                options=[_region_option(r) for r in SENDGRID.regions],
                initial_option=_region_option(region if region in SENDGRID.regions else DEFAULT_REGION),
            ),
        ),
    ]
    return View(
        type="modal",
        callback_id=CALLBACK_ID,
        title=TITLE,
        submit=SUBMIT,
        close=CANCEL,
        private_metadata=ctx.to_metadata(),
        blocks=blocks,
    ).to_dict()


def message_view(text: str, *, title: str = TITLE, close: str = DONE) -> dict:
    """A modal that only says something (no form, no submit)."""
    return View(
        type="modal",
        title=title,
        close=close,
        blocks=[SectionBlock(text=MarkdownTextObject(text=text))],
    ).to_dict()


def verifying_view() -> dict:
    return message_view(VERIFYING, close="Close")


def connected_view(result: ConnectResult) -> dict:
    """Success: the account, and what the key lacks (those features are unavailable)."""
    return message_view(result.note, title=CONNECTED_TITLE)


def result_view(ctx: ModalContext, result: ConnectResult) -> dict:
    """What the modal shows once SendGrid has answered: success, or the form again with the reason."""
    if result.connected:
        return connected_view(result)
    if result.kind == "refused":
        return message_view(result.message)
    return connect_modal(ctx, region=result.region, notice=result.message)


def read_submission(view: dict) -> tuple[str, str]:
    """(pasted key, chosen region) from a `view_submission`'s state; "" and the default region for
    anything missing or of the wrong type."""
    pasted = _dig(view, "state", "values", KEY_BLOCK, KEY_ACTION, "value")
    region = _dig(view, "state", "values", REGION_BLOCK, REGION_ACTION, "selected_option", "value")
    return (
        pasted if isinstance(pasted, str) else "",
        region if isinstance(region, str) and region else DEFAULT_REGION,
    )


def _dig(value, *keys):
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


# --- Slack calls ---------------------------------------------------------------------------------
async def open_sendgrid_modal(
    client: AsyncWebClient,
    trigger_id: str,
    *,
    team_id: str,
    user_id: str,
    response_url: str | None,
    invitation_id: str | None = None,
    channel_id: str | None = None,
) -> bool:
    """Open the modal for someone the caller has allowed to connect; False when Slack refused
    (a trigger_id is valid for 3 seconds)."""
    ctx = ModalContext(team_id, user_id, response_url, channel_id, invitation_id)
    try:
        await client.views_open(trigger_id=trigger_id, view=connect_modal(ctx))
        return True
    except SlackApiError as error:
        log.info("could not open the SendGrid modal: %s", error.response.get("error"))
        return False


async def _say_privately(body: dict, client: AsyncWebClient, respond, text: str) -> None:
    if body.get("response_url"):
        await respond(response_type="ephemeral", replace_original=False, text=text)
        return
    channel = (body.get("channel") or {}).get("id")
    if channel:
        await client.chat_postEphemeral(channel=channel, user=body["user"]["id"], text=text)


def register(app: AsyncApp, services: Services) -> None:
    services.extras[OPEN_CONNECT] = open_sendgrid_modal

    @app.action(CONNECT_ACTION)
    async def connect_button(ack, body, client, respond) -> None:
        await ack()
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        annotate(team=team_id, action=CONNECT_ACTION)
        if not await services.connections.can_connect(client, slack_request.workspace_of(body), user_id):
            await _say_privately(body, client, respond, ADMINS_ONLY.format(what="connect accounts"))
            return
        await open_sendgrid_modal(
            client,
            body["trigger_id"],
            team_id=team_id,
            user_id=user_id,
            response_url=body.get("response_url"),
            channel_id=(body.get("channel") or {}).get("id"),
        )

    @app.view(CALLBACK_ID)
    async def submitted(ack, body, view, client) -> None:
        started = time.monotonic()
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        annotate(team=team_id, action=CALLBACK_ID)
        ctx = ModalContext.from_metadata(view.get("private_metadata"))
        if ctx is None or (ctx.team_id, ctx.user_id) != (team_id, user_id):
            annotate(outcome="refused")
            await ack(response_action="update", view=message_view(NOT_YOURS))
            return
        pasted, region = read_submission(view)
        problem = key_problem(pasted)
        if problem:
            annotate(outcome="malformed_key")
            await ack(response_action="errors", errors={KEY_BLOCK: problem})
            return
        if region not in services.sendgrid.client.regions:
            await ack(response_action="errors", errors={REGION_BLOCK: PICK_REGION})
            return
        refusal = await _refusal(client, ctx, slack_request.workspace_of(body))
        if refusal:
            annotate(outcome="refused")
            await ack(response_action="update", view=message_view(refusal))
            return
        work, in_ack = await _answer(ack, ctx, pasted, region, started)
        await _finish(client, view, ctx, await work, shown=in_ack)

    async def _refusal(client, ctx: ModalContext, where: Workspace) -> str | None:
        """Why this person may not connect SendGrid now, or None. An invitation is the permission only
        while it is open, for this person, this workspace and SendGrid; it is spent when the key is
        saved (`SendGridConnectService.connect`)."""
        if ctx.invitation_id:
            return await services.invites.usable(
                ctx.invitation_id, team_id=ctx.team_id, user_id=ctx.user_id, provider=SENDGRID.key
            )
        if await services.connections.can_connect(client, where, ctx.user_id):
            return None
        return ADMINS_ONLY.format(what="connect accounts")

    async def _answer(ack, ctx, pasted, region, started) -> tuple[asyncio.Future, bool]:
        """Answer Slack with SendGrid's verdict when it comes quickly, else with "Verifying…".
        Returns the work and whether its result was already shown in the ack."""
        work = asyncio.ensure_future(_connect_safely(ctx, pasted, region))
        wait = max(0.1, QUICK_ANSWER - (time.monotonic() - started))
        done, _ = await asyncio.wait({work}, timeout=wait)
        if not done:
            annotate(outcome="verifying")
            await ack(response_action="update", view=verifying_view())
            return work, False
        result = work.result()
        annotate(outcome=result.kind)
        if result.kind == "rejected":
            await ack(response_action="errors", errors={KEY_BLOCK: result.message})
        else:
            await ack(response_action="update", view=result_view(ctx, result))
        return work, True

    async def _finish(client, view, ctx: ModalContext, result: ConnectResult, *, shown: bool) -> None:
        """After the ack: show a slow verdict in the modal, then update the card and tell the person."""
        if not shown:
            try:
                await client.views_update(view_id=view["id"], view=result_view(ctx, result))
            except SlackApiError as error:  # closed meanwhile: say it in a DM instead
                log.info("could not update the SendGrid modal: %s", error.response.get("error"))
                if not result.connected:
                    await services.sendgrid.tell_failure(ctx, result)
        await services.sendgrid.finish(ctx, result)

    async def _connect_safely(ctx: ModalContext, pasted: str, region: str) -> ConnectResult:
        try:
            return await services.sendgrid.connect(ctx, pasted, region)
        except Exception:  # the key was checked to be SG.-shaped, which the log formatter redacts
            log.exception("connecting SendGrid failed")
            return ConnectResult("failed", INTERNAL, region)
