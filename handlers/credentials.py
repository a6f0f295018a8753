"""The credential modal: one form for every provider whose entry has a credential form (SendGrid: an
API key and a region), its pure view builders and its two listeners.

- The card's Connect/Reconnect button (`connect_modal:<provider>`) opens the modal for people who may
  connect; `open_modal()` is also what an invitation's or an alert's Connect button calls (the
  invitation is then the permission).
- The submission is answered within Slack's 3 seconds: a malformed value, or one the provider rejects
  quickly, gets an error under its field; a quick verdict replaces the modal; when the provider is slow
  the modal says "Verifying…" and is updated with `views.update` once the provider has answered.

No view built here holds the secret field, and `private_metadata` holds only `ModalContext` (non-secret).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Mapping
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
from handlers import commands, slack_request
from handlers.commands import ADMINS_ONLY
from messages.cards import CONNECT_MODAL
from providers.plugin import FormField, ProviderSpec
from services.credential_connect import INTERNAL, ConnectResult, ModalContext
from services.slack_roles import Workspace

if TYPE_CHECKING:
    from bot.container import Services  # handlers receive the container at registration

log = logging.getLogger("quolum.handlers.credentials")

CONNECT_ACTIONS = re.compile(rf"^{CONNECT_MODAL}:")  # the card's buttons: connect_modal:<provider>
CALLBACK_ID = "credential_connect"
QUICK_ANSWER = 2.0  # seconds the provider gets to answer inside Slack's 3-second window

# --- what people read --------------------------------------------------------------------------
TITLE = "Connect {provider}"
CONNECTED_TITLE = "{provider} connected"
TITLE_MAX = 24  # Slack refuses a modal whose title is longer (views.open: invalid_arguments)


def title_of(template: str, provider: str) -> str:
    """A modal title naming the provider where it fits ("Google Workspace connected" does not: "Connected")."""
    title = template.format(provider=provider)
    return title if len(title) <= TITLE_MAX else template.format(provider="").strip().capitalize()


SUBMIT, CANCEL, DONE = "Connect", "Cancel", "Done"
SCOPE_LINE = "• `{scope}` — {purpose}"
OPTIONAL_LINE = "Optional: `{scope}` lets Quolum {purpose}."
NOTICE = ":warning: {text}"
VERIFYING = (
    ":hourglass_flowing_sand: {checking} This window shows the result in a moment; "
    "if you close it, Quolum will send you a message instead."
)
NOT_YOURS = (
    "This window belongs to someone else's connection attempt. Run `/quolum connect {key}` to start your own."
)
INVITED_NOTE = "You were invited to connect {provider} for this workspace."
NOT_A_FORM = "This window is out of date: run `/quolum connect` to start again."


def connect_action(spec: ProviderSpec) -> str:
    return f"{CONNECT_MODAL}:{spec.key}"


# --- pure view builders ---------------------------------------------------------------------------
def _option(choice: tuple[str, str]) -> Option:
    return Option(value=choice[0], text=choice[1])


def _input(field: FormField, value: str) -> InputBlock:
    if field.choices:
        chosen = next((c for c in field.choices if c[0] == value), None) or next(
            (c for c in field.choices if c[0] == field.default), field.choices[0]
        )
        element = RadioButtonsElement(
            action_id=field.name, options=[_option(c) for c in field.choices], initial_option=_option(chosen)
        )
    else:  # the secret is never put back: a person pastes it again
        element = PlainTextInputElement(
            action_id=field.name, placeholder=field.placeholder or None, max_length=field.max_length
        )
    return InputBlock(block_id=field.name, label=field.label, hint=field.hint or None, element=element)


def connect_modal(
    spec: ProviderSpec,
    ctx: ModalContext,
    *,
    values: Mapping[str, str] | None = None,
    notice: str | None = None,
) -> dict:
    """The form: what to create, where, the fields. `notice`: why it is shown again."""
    form, values, provider = spec.form, values or {}, spec.display_name
    blocks = []
    if notice:
        blocks.append(
            SectionBlock(block_id="notice", text=MarkdownTextObject(text=NOTICE.format(text=notice)))
        )
    if ctx.invitation_id:
        blocks.append(
            ContextBlock(elements=[MarkdownTextObject(text=INVITED_NOTE.format(provider=provider))])
        )
    scopes = "\n".join(SCOPE_LINE.format(scope=s.name, purpose=s.purpose) for s in spec.scopes)
    optional = [OPTIONAL_LINE.format(scope=s.name, purpose=s.purpose) for s in spec.scopes if not s.required]
    blocks += [
        SectionBlock(
            block_id="intro", text=MarkdownTextObject(text=form.intro.format(console=spec.console_url))
        ),
        SectionBlock(block_id="scopes", text=MarkdownTextObject(text=scopes)),
    ]
    if optional or form.optional_note:
        note = " ".join([*optional, form.optional_note]).strip()
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=note)]))
    blocks += [_input(field, values.get(field.name, "")) for field in asked(spec)]
    return View(
        type="modal",
        callback_id=CALLBACK_ID,
        title=title_of(TITLE, provider),
        submit=SUBMIT,
        close=CANCEL,
        private_metadata=ctx.to_metadata(),
        blocks=blocks,
    ).to_dict()


def asked(spec: ProviderSpec) -> list[FormField]:
    """The fields a person fills (the workspace's bot token is the bot's to fill)."""
    return [field for field in spec.form.fields if not field.workspace_token]


def filled(spec: ProviderSpec, values: dict[str, str], bot_token: str | None) -> dict[str, str]:
    """`values` with every `workspace_token` field set to this workspace's bot token."""
    return values | {f.name: bot_token or "" for f in spec.form.fields if f.workspace_token}


def message_view(text: str, *, title: str = "Quolum", close: str = DONE) -> dict:
    """A modal that only says something (no form, no submit)."""
    return View(
        type="modal",
        title=title,
        close=close,
        blocks=[SectionBlock(text=MarkdownTextObject(text=text))],
    ).to_dict()


def verifying_view(spec: ProviderSpec) -> dict:
    text = VERIFYING.format(checking=spec.form.verifying)
    return message_view(text, title=title_of(TITLE, spec.display_name), close="Close")


def result_view(spec: ProviderSpec, ctx: ModalContext, result: ConnectResult) -> dict:
    """What the modal shows once the provider has answered: success, or the form again with the reason."""
    if result.connected:
        return message_view(result.note, title=title_of(CONNECTED_TITLE, spec.display_name))
    if result.kind == "refused":
        return message_view(result.message, title=title_of(TITLE, spec.display_name))
    return connect_modal(spec, ctx, values=result.values, notice=result.message)


def read_submission(spec: ProviderSpec, view: dict) -> dict[str, str]:
    """Each field's value from a `view_submission`'s state: "" (a choice: its default) for anything
    missing or of the wrong type."""
    values = {}
    for field in asked(spec):
        state = _dig(view, "state", "values", field.name, field.name)
        value = _dig(state, "selected_option", "value") if field.choices else _dig(state, "value")
        values[field.name] = (
            value if isinstance(value, str) and value else (field.default if field.choices else "")
        )
    return values


def _dig(value, *keys):
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


# --- Slack calls ---------------------------------------------------------------------------------
async def open_modal(
    client: AsyncWebClient,
    trigger_id: str,
    spec: ProviderSpec,
    *,
    team_id: str,
    user_id: str,
    response_url: str | None,
    invitation_id: str | None = None,
    channel_id: str | None = None,
) -> bool:
    """Open the modal for someone the caller has allowed to connect; False when Slack refused
    (a trigger_id is valid for 3 seconds)."""
    ctx = ModalContext(team_id, user_id, response_url, channel_id, invitation_id, spec.key)
    try:
        await client.views_open(trigger_id=trigger_id, view=connect_modal(spec, ctx))
        return True
    except SlackApiError as error:
        log.info("could not open the %s modal: %s", spec.key, error.response.get("error"))
        return False


async def _say_privately(body: dict, client: AsyncWebClient, respond, text: str) -> None:
    if body.get("response_url"):
        await respond(response_type="ephemeral", replace_original=False, text=text)
        return
    channel = (body.get("channel") or {}).get("id")
    if channel:
        await client.chat_postEphemeral(channel=channel, user=body["user"]["id"], text=text)


def register(app: AsyncApp, services: Services) -> None:
    forms = services.credential_forms

    @app.action(CONNECT_ACTIONS)
    async def connect_button(ack, body, client, respond) -> None:
        await ack()
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        action_id = body["actions"][0]["action_id"]
        annotate(team=team_id, action=action_id)
        spec = services.registry.find(action_id.removeprefix(f"{CONNECT_MODAL}:"))
        if spec is None or spec.form is None:
            return
        if not await commands.clicked_by_admin(services.connections, client, body):
            await _say_privately(body, client, respond, ADMINS_ONLY.format(what="connect accounts"))
            return
        await open_modal(
            client,
            body["trigger_id"],
            spec,
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
        spec = services.registry.find(ctx.provider) if ctx else None
        if spec is None or spec.form is None:
            await ack(response_action="update", view=message_view(NOT_A_FORM))
            return
        title = title_of(TITLE, spec.display_name)
        if (ctx.team_id, ctx.user_id) != (team_id, user_id):
            annotate(outcome="refused")
            await ack(
                response_action="update", view=message_view(NOT_YOURS.format(key=spec.key), title=title)
            )
            return
        values, hooks = filled(spec, read_submission(spec, view), client.token), services.providers(spec.key)
        for field in spec.form.fields:
            if problem := hooks.problem(field.name, values[field.name]):
                annotate(outcome="malformed")
                if field.workspace_token:  # no input to show it under
                    await ack(response_action="update", view=message_view(problem, title=title))
                else:
                    await ack(response_action="errors", errors={field.name: problem})
                return
        refusal = await _refusal(client, spec, ctx, slack_request.workspace_of(body))
        if refusal:
            annotate(outcome="refused")
            await ack(response_action="update", view=message_view(refusal, title=title))
            return
        work, in_ack = await _answer(ack, spec, ctx, values, started)
        await _finish(client, view, spec, ctx, await work, shown=in_ack)

    async def _refusal(client, spec: ProviderSpec, ctx: ModalContext, where: Workspace) -> str | None:
        """Why this person may not connect the provider now, or None. An invitation is the permission
        only while it is open, for this person, this workspace and this provider; it is spent when the
        credential is saved (`CredentialConnectService.connect`)."""
        if ctx.invitation_id:
            return await services.invites.usable(
                ctx.invitation_id, team_id=ctx.team_id, user_id=ctx.user_id, provider=spec.key
            )
        if await services.connections.can_connect(client, where, ctx.user_id):
            return None
        return ADMINS_ONLY.format(what="connect accounts")

    async def _answer(ack, spec, ctx, values, started) -> tuple[asyncio.Future, bool]:
        """Answer Slack with the provider's verdict when it comes quickly, else with "Verifying…".
        Returns the work and whether its result was already shown in the ack."""
        work = asyncio.ensure_future(_connect_safely(spec, ctx, values))
        wait = max(0.1, QUICK_ANSWER - (time.monotonic() - started))
        done, _ = await asyncio.wait({work}, timeout=wait)
        if not done:
            annotate(outcome="verifying")
            await ack(response_action="update", view=verifying_view(spec))
            return work, False
        result = work.result()
        annotate(outcome=result.kind)
        if result.kind == "rejected" and not spec.form.secret.workspace_token:
            await ack(response_action="errors", errors={spec.form.secret.name: result.message})
        else:
            await ack(response_action="update", view=result_view(spec, ctx, result))
        return work, True

    async def _finish(client, view, spec, ctx: ModalContext, result: ConnectResult, *, shown: bool) -> None:
        """After the ack: show a slow verdict in the modal, then update the card and tell the person."""
        if not shown:
            try:
                await client.views_update(view_id=view["id"], view=result_view(spec, ctx, result))
            except SlackApiError as error:  # closed meanwhile: say it in a DM instead
                log.info("could not update the %s modal: %s", spec.key, error.response.get("error"))
                if not result.connected:
                    await forms.tell_failure(ctx, spec, result)
        await forms.finish(ctx, result)

    async def _connect_safely(spec: ProviderSpec, ctx: ModalContext, values: dict) -> ConnectResult:
        try:
            return await forms.connect(ctx, spec, values)
        except Exception:  # the log formatter redacts the credential shapes the provider declares
            log.exception("connecting %s failed", spec.key)
            shown = {f.name: values.get(f.name, "") for f in spec.form.fields if not f.secret}
            return ConnectResult("failed", INTERNAL, shown)
