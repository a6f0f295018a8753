"""Messages of the invitation flow. Pure: data in, Block Kit out; sentences are constants tests import."""

from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock, ButtonElement

from messages import blocks
from messages.cards import CONNECT_LINK, slack_date
from messages.views import InvitationView, ProviderView

INVITE_CONNECT = "invite_connect"
INVITE_DECLINE = "invite_decline"
INVITE_REMIND = "invite_remind"

USAGE = "Mention the people to invite, e.g. `/quolum invite @dana {example}` (up to {max} people)."
NOT_MENTIONS = "I can only invite people you @-mention; `{words}` is not a mention. " + USAGE
TOO_MANY = "You can invite up to {max} people at a time. " + USAGE
NOT_AVAILABLE = "{provider} is not available on this installation, so there is nothing to invite anyone to."
ALREADY_CONNECTED = "{provider} is already connected (to {account}) by <@{user}>: no need to invite anyone."
NOT_FOUND = "I couldn't find <@{user}> in this workspace."
IS_BOT = "<@{user}> is a bot; invite the person who administers {provider}."
DEACTIVATED = "<@{user}>'s account is deactivated."
GUEST = "<@{user}> is a guest of this workspace; invite a full member who administers {provider}."
YOURSELF = (
    "That's you: if you may connect accounts, use `/quolum connect {key}`; if not, invite {provider}'s admin."
)
LIMIT = (
    "You have sent {count} invitations in the last 24 hours, and the limit is {limit}. Try again tomorrow."
)
ALREADY_INVITED = "You invited <@{user}> to connect {provider} {when}; the invitation is still open."
BEING_INVITED = "<@{user}> is being invited to connect {provider} right now; try again in a minute if needed."
SENT = "Invited <@{user}> to connect {provider}: they have a direct message with a Connect button."
DM_FAILED = "I couldn't send <@{user}> a direct message: {reason} The invitation was not sent."
REMINDED = "Reminded <@{user}> about connecting {provider}."
REMINDED_ALREADY = (
    "<@{user}> was reminded about connecting {provider} in the last 24 hours; one reminder a day."
)
DM_ERRORS = {
    "cannot_dm_bot": "they are a bot.",
    "user_not_found": "Slack doesn't know them.",
    "user_disabled": "their account is deactivated.",
    "missing_scope": "this Quolum app lacks the im:write permission (ask whoever runs it to reinstall it).",
    "ratelimited": "Slack is limiting how fast I can send messages; please try again in a minute.",
    "not_allowed_token_type": "this Quolum app is not allowed to send direct messages.",
}
DM_FAILED_OTHER = "Slack said `{error}`."

DM_TITLE = "<@{inviter}> asked you to connect {provider} to Quolum"
DM_WHY = (
    "*<@{inviter}> asked you to connect {provider} to Quolum.* Quolum shows your team who uses the "
    "{provider} seats the company pays for, so unused ones can be reclaimed."
)
DM_SCOPES = "Quolum will only *read*, never change, {provider}. It will be able to:\n{purposes}"
DM_VALID = "This invitation is for you only and is valid until {until}."
CONNECT, NOT_ME = "Connect", "Not me"

NOT_FOR_YOU = "This invitation is for <@{user}>; only they can use it."
EXPIRED = "This invitation has expired. Ask <@{inviter}> to invite you again if you still want to connect."
CLOSED = "This invitation is no longer open."
NOW_CONNECTED = "{provider} is connected already, by <@{user}>: there is nothing left to do."
OPEN_LINK = "Here is your {provider} Connect link. It works once, for you, within 10 minutes."
DECLINED_THANKS = "Thanks for letting us know. I've told <@{inviter}> so they can invite someone else."
DECLINED_INVITER = (
    "<@{invitee}> says they are not the one to connect {provider}. "
    "Invite someone else with `/quolum invite @someone {key}`."
)
ACCEPTED_INVITER = "<@{invitee}> connected {provider}. Thanks for the invitation!"
ACCEPTED_DM = ":white_check_mark: You connected {provider}. Thank you!"
EXPIRED_INVITER = (
    "Your invitation to <@{invitee}> to connect {provider} expired after 7 days without being used. "
    "Invite them again, or someone else, with `/quolum invite @someone {key}`."
)
EXPIRED_DM = "This invitation to connect {provider} expired."
OPEN_INVITATIONS = "*Open invitations*"
OPEN_LINE = "<@{inviter}> invited <@{invitee}> to connect {provider} {when}."


def invitation_dm(spec: ProviderView, invitation_id: str, inviter: str, until) -> dict:
    inviter = blocks.escape(inviter)
    purposes = "\n".join(f"• {scope.purpose}" for scope in spec.scopes)
    return blocks.message(
        DM_TITLE.format(inviter=inviter, provider=spec.display_name),
        [
            blocks.markdown(DM_WHY.format(inviter=inviter, provider=spec.display_name)),
            blocks.markdown(DM_SCOPES.format(provider=spec.display_name, purposes=purposes)),
            blocks.context(DM_VALID.format(until=slack_date(until))),
            ActionsBlock(
                block_id="invitation",
                elements=[
                    ButtonElement(
                        text=CONNECT, action_id=INVITE_CONNECT, value=invitation_id, style="primary"
                    ),
                    ButtonElement(text=NOT_ME, action_id=INVITE_DECLINE, value=invitation_id),
                ],
            ).to_dict(),
        ],
    )


def already_connected(spec: ProviderView, account: str | None, user: str | None) -> str:
    """The reply to an invitation for a provider that is connected already (the account is the provider's)."""
    return ALREADY_CONNECTED.format(
        provider=spec.display_name, account=blocks.escape(account or "?"), user=blocks.escape(user or "")
    )


def dm_error(code: str) -> str:
    """Why Slack would not take the invitation DM: a sentence for the known codes, Slack's word otherwise."""
    return DM_ERRORS.get(code, DM_FAILED_OTHER.format(error=blocks.escape(code)))


def closed_dm(text: str) -> dict:
    """What the invitation DM becomes once it is used, declined or expired (no buttons left)."""
    return blocks.message(text, [blocks.markdown(text)])


def connect_link(spec: ProviderView, url: str) -> dict:
    text = OPEN_LINK.format(provider=spec.display_name)
    button = ButtonElement(
        text=f"Connect {spec.display_name}", action_id=f"{CONNECT_LINK}:{spec.key}", url=url, style="primary"
    )
    return blocks.message(text, [blocks.markdown(text), ActionsBlock(elements=[button]).to_dict()])


def reminder_offer(invitation: InvitationView, spec: ProviderView) -> list[dict]:
    text = ALREADY_INVITED.format(
        user=blocks.escape(invitation.invitee_id),
        provider=spec.display_name,
        when=slack_date(invitation.created_at),
    )
    button = ButtonElement(text="Send a reminder", action_id=INVITE_REMIND, value=invitation.id)
    return [blocks.markdown(text), ActionsBlock(elements=[button]).to_dict()]


def open_invitations(invitations: list[InvitationView], names: dict[str, str]) -> list[dict]:
    if not invitations:
        return []
    lines = [open_line(i, names) for i in invitations[:20]]
    return [blocks.divider(), blocks.markdown(OPEN_INVITATIONS + "\n" + "\n".join(lines))]


def open_line(invitation: InvitationView, names: dict[str, str]) -> str:
    """One open invitation, for `/quolum status` and App Home."""
    return OPEN_LINE.format(
        inviter=blocks.escape(invitation.inviter_id),
        invitee=blocks.escape(invitation.invitee_id),
        provider=blocks.escape(names.get(invitation.provider, invitation.provider)),
        when=slack_date(invitation.created_at),
    )
