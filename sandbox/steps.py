"""The story `quolum-bot demo` plays, step by step: each acts as a person would (a slash command, a
click, a browser visit), shows what Slack displayed, and checks it against what should be there (the
seeded portal's figures, the bot's own message texts). A step that does not do what it should raises
`StepFailed`. Further features add their steps to `STEPS`.
"""

from __future__ import annotations

from datetime import timedelta

from sandbox.clock import until
from sandbox.environment import page_text
from sandbox.steps_forms import form_steps
from sandbox.steps_seats import SEAT_STEPS
from sandbox.story import Step, Story, buttons, dms_to, expect, label, sections, slash
from sandbox.workspace import ADA, DANA, MAX, PORTAL_DOMAIN, PORTAL_ID, SAAS_USAGE, SENDGRID_SCOPES, TEAM_ID


def admin_opens_card(story: Story) -> None:
    from messages import cards

    card = slash(story, ADA, "connect")
    connect = buttons(card).get("connect_link:hubspot")
    expect(connect is not None, "the card has no HubSpot Connect button for a Slack admin")
    expect(
        label(connect) == cards.CONNECT, f"the HubSpot button says {label(connect)!r}, not {cards.CONNECT!r}"
    )
    expect(cards.NOT_CONNECTED in str(card["blocks"]), "the card does not say HubSpot is not connected")
    story.facts["connect_url"] = connect["url"]


def admin_connects_hubspot(story: Story) -> None:
    from messages import cards
    from services.connect_outcomes import CONNECTED_PAGE

    env, mark = story.env, story.env.mark()
    before = len(env.slack.responses)
    consent, page = env.follow_connect_link(story.facts["connect_url"])
    story.show("browser · HubSpot consent page (stand-in)", {"text": consent})
    expect(PORTAL_DOMAIN in consent, "HubSpot's consent page does not name the account")
    story.show("browser · back at Quolum", {"text": page_text(page.text)})
    expected = CONNECTED_PAGE.format(domain=PORTAL_DOMAIN)
    expect(page.status_code == 200 and expected in page.text, f"the browser page does not say {expected!r}")
    card = until(lambda: env.slack.responses[before:] and env.slack.responses[-1])
    story.show("the card, updated in place", card)
    expect(
        label(buttons(card).get("connect_link:hubspot", {})) == cards.RECONNECT,
        "the card does not say Reconnect",
    )
    dm = until(lambda: dms_to(story, ADA, mark))[-1]
    story.show("DM from Quolum to Ada", dm)
    expect(PORTAL_DOMAIN in dm.get("text", ""), "Ada's DM does not name the HubSpot account")


def card_says_reconnect(story: Story) -> None:
    from messages import cards

    card = slash(story, ADA, "status")
    hubspot = buttons(card).get("connect_link:hubspot", {})
    expect(label(hubspot) == cards.RECONNECT, f"HubSpot's button says {label(hubspot)!r}, not Reconnect")
    expect(PORTAL_DOMAIN in str(card["blocks"]), "the card does not name the connected portal")


def member_sees_states_only(story: Story) -> None:
    from messages import cards

    card = slash(story, MAX, "connect")
    expect(not buttons(card), "a member sees Connect buttons")
    expect(cards.MEMBER_HINT in str(card["blocks"]), "the card does not tell a member to invite an admin")


def member_invites_sendgrid_admin(story: Story) -> None:
    from messages import invite_blocks as ib

    mark = story.env.mark()
    reply = slash(story, MAX, f"invite {DANA.mention} sendgrid")
    expected = ib.SENT.format(user=DANA.user_id, provider="SendGrid")
    expect(reply.get("text", "").startswith(expected), f"Max was not told {expected!r}")
    dm = until(lambda: dms_to(story, DANA, mark))[-1]
    story.show("DM from Quolum to Dana", dm)
    connect = buttons(dm).get(ib.INVITE_CONNECT)
    expect(connect is not None, "Dana's invitation has no Connect button")
    story.facts["invitation"] = connect["value"]


def invitee_connects_sendgrid(story: Story) -> None:
    from messages import invite_blocks as ib
    from sandbox import sendgrid_modal as modal

    env, mark = story.env, story.env.mark()
    env.click(DANA, ib.INVITE_CONNECT, story.facts["invitation"])
    view = until(lambda: env.calls_after("views.open", mark))[-1].args["view"]
    story.show("modal opened for Dana", view)
    key = env.sendgrid.add_key("acme", SENDGRID_SCOPES)  # Dana creates a restricted key in SendGrid
    region = next(
        o for b in view["blocks"] if b.get("block_id") == modal.REGION_BLOCK for o in b["element"]["options"]
    )
    values = {
        modal.KEY_BLOCK: {modal.KEY_ACTION: {"type": "plain_text_input", "value": key}},
        modal.REGION_BLOCK: {modal.REGION_ACTION: {"type": "radio_buttons", "selected_option": region}},
    }
    answer = env.submit_view(DANA, view, values)
    expect(answer.status_code == 200, f"Slack would show an error on submit ({answer.status_code})")
    result = answer.json().get("view", {})
    story.show("the modal after Connect", result)
    title = (result.get("title") or {}).get("text")
    expect(title == modal.CONNECTED_TITLE, f"the modal says {title!r}, not {modal.CONNECTED_TITLE!r}")
    expect(key not in str(result), "the modal shows the API key")
    told = until(lambda: dms_to(story, MAX, mark))[-1]
    story.show("DM from Quolum to Max", told)
    expected = ib.ACCEPTED_INVITER.format(invitee=DANA.user_id, provider="SendGrid")
    expect(told.get("text") == expected, f"Max was not told {expected!r}")


def _app_home(story: Story) -> dict:
    """Ada opens the bot's App Home tab; the view the bot published for her."""
    env, mark = story.env, story.env.mark()
    response = env.event(
        {"type": "app_home_opened", "user": ADA.user_id, "channel": "DADA00001", "tab": "home"}
    )
    expect(response.status_code == 200, f"the event answered {response.status_code}")

    def published():
        return [c for c in env.calls_after("views.publish", mark) if c.args.get("user_id") == ADA.user_id]

    view = until(published)[-1].args["view"]
    return story.show("App Home · Ada", view)


def admin_opens_app_home(story: Story) -> None:
    from messages import app_home

    text = str(_app_home(story)["blocks"])
    expect(PORTAL_DOMAIN in text, "App Home does not show the HubSpot connection")
    expect(app_home.CONNECTED in text, "App Home does not show the connection states")
    expect(app_home.NO_INVITATIONS in text, "App Home still lists an invitation that was accepted")


def both_connected(story: Story) -> None:
    from messages import cards
    from sandbox import sendgrid_modal as modal

    card = slash(story, ADA, "status")
    found = buttons(card)
    expect(
        label(found.get("connect_link:hubspot", {})) == cards.RECONNECT, "HubSpot is not shown as connected"
    )
    expect(
        label(found.get(modal.CONNECT_ACTION, {})) == cards.RECONNECT, "SendGrid is not shown as connected"
    )


def _paid_seats_in_seed(story: Story) -> int:
    """Paid HubSpot seats as the seeded portal has them: a seat assigned, or a role that needs billing."""
    portal = story.env.hubspot.portals[PORTAL_ID]
    billing = {r.id for r in portal.roles if r.requires_billing_write}
    return sum(
        1
        for u in portal.users
        if u.deactivated_at_ms is None and (u.seat_names or any(r in billing for r in u.role_ids))
    )


def admin_previews_digest(story: Story) -> None:
    preview = slash(story, ADA, "digest preview")
    text = str(preview.get("blocks", []))
    paid = _paid_seats_in_seed(story)
    expect(paid > 0, "the seeded portal has no paid seats to show")
    parts = sections(preview)
    shown = parts.get("HubSpot", {})
    expect(
        shown.get("Paid seats") == str(paid),
        f"the preview shows {shown.get('Paid seats')!r} paid seats, the seed has {paid}",
    )
    active = (
        int(shown.get("Active paid users", "x").split(" ")[0])
        if shown.get("Active paid users", "").split(" ")[0].isdigit()
        else None
    )
    expect(
        active is not None and 0 <= active <= paid,
        f"the preview's active paid users ({shown.get('Active paid users')!r}) do not fit {paid} paid seats",
    )
    idle = paid - active
    headline = (
        f"{idle} of {paid} paid seats idle" if idle else f"Every paid seat was used* ({paid} of {paid})"
    )
    expect(headline in text, f"the preview does not say {headline!r}")
    story.facts["idle_headline"] = headline
    for key, sandboxed in story.env.sandboxed.items():  # the other providers' parts, against their seeds
        from providers.registry import INSTALLED

        name = INSTALLED[key].display_name
        seeded = sandboxed.paid_seats(story.env.standins[key], story.env.clock())
        got = parts.get(name, {}).get("Paid seats")
        expect(got == str(seeded), f"the preview shows {got!r} paid {name} seats, the seed has {seeded}")


def admin_subscribes_channel(story: Story) -> None:
    reply = slash(story, ADA, f"digest subscribe <#{SAAS_USAGE}|saas-usage>")
    expect(f"<#{SAAS_USAGE}" in reply.get("text", ""), "Ada was not told #saas-usage is subscribed")

    async def next_send(services):
        subs = await services.digests.store.for_team(TEAM_ID)
        return [s.next_send_at for s in subs if s.channel_id == SAAS_USAGE]

    sends = story.env.on_server(next_send)
    expect(len(sends) == 1, f"{len(sends)} subscriptions for #saas-usage, not 1")
    story.facts["next_send"] = sends[0]


def scheduled_digest_posted(story: Story) -> None:
    env = story.env
    expect(not env.slack.messages_in(SAAS_USAGE), "#saas-usage had a message before the digest was due")
    at = story.facts["next_send"]
    env.clock.move_to(at)  # the bot, HubSpot and SendGrid all read this clock: it is now the send time
    story.show("the clock", {"text": f"(time passes: it is now {at:%a %d %b %Y %H:%M} UTC)"})
    expect(env.run_job("digests", now=at), "the scheduler did not run the digests job")
    posted = until(lambda: env.slack.messages_in(SAAS_USAGE))
    for message in posted:
        story.show(f"#saas-usage · scheduled digest ({at:%a %d %b %H:%M} UTC)", message)
    expect(len(posted) == 1, f"{len(posted)} digests landed in #saas-usage, not exactly 1")
    paid = sections(posted[0]).get("HubSpot", {}).get("Paid seats")
    expect(paid == str(_paid_seats_in_seed(story)), f"the digest shows {paid!r} paid seats, not the seed's")
    # the job run again for the same send time posts nothing more: each digest is sent once
    env.run_job("digests", now=at)
    expect(len(env.slack.messages_in(SAAS_USAGE)) == 1, "running the job again posted a second digest")


def _alerts(story: Story) -> list[dict]:
    from messages import alerts as am

    return [m for m in story.env.slack.messages_in(ADA.user_id) if am.ALERT_RECONNECT_ACTION in buttons(m)]


def hubspot_access_revoked(story: Story) -> None:
    from messages import alerts as am
    from messages import cards

    env = story.env
    expect(not _alerts(story), "Ada had a reconnect alert before anything broke")
    env.hubspot.uninstall(PORTAL_ID)  # the customer removed the app in HubSpot: both tokens are refused
    story.show(
        f"HubSpot · app uninstalled from portal {PORTAL_ID}",
        {"text": "Quolum's access was revoked in HubSpot"},
    )
    # each connection is checked hourly (the digest's collection just counted as a check): an hour passes
    later = env.clock() + timedelta(hours=1)
    env.clock.move_to(later)
    story.show("the clock", {"text": f"(an hour passes: it is now {later:%a %d %b %Y %H:%M} UTC)"})
    expect(env.run_job("connection_health"), "the scheduler did not run the connection_health job")
    alerts = until(lambda: _alerts(story))
    story.show("DM from Quolum to Ada", alerts[-1])
    expect(len(alerts) == 1, f"{len(alerts)} reconnect alerts, not 1")
    button = buttons(alerts[0])[am.ALERT_RECONNECT_ACTION]
    expect(
        label(button) == cards.RECONNECT,
        f"the alert's button says {label(button)!r}, not {cards.RECONNECT!r}",
    )
    story.facts["alert"] = alerts[0]
    story.facts["incident"] = button["value"]


def admin_reconnects(story: Story) -> None:
    import re

    from messages import alerts as am

    env = story.env
    hook = env.click(ADA, am.ALERT_RECONNECT_ACTION, story.facts["incident"])
    answer = story.show("Reconnect · only visible to Ada", env.response(hook))
    link = re.search(r"<(http[^|>]+)\|", answer.get("text", ""))
    expect(link, "Ada was given no reconnect link")
    consent, page = env.follow_connect_link(link.group(1))
    story.show("browser · HubSpot consent page (stand-in)", {"text": consent})
    expect(page.status_code == 200, f"the page after HubSpot's consent answered {page.status_code}")
    story.show("browser · back at Quolum", {"text": page_text(page.text)})
    ts = story.facts["alert"]["ts"]

    def resolved():
        found = [m for m in env.slack.messages_in(ADA.user_id) if m["ts"] == ts]
        return found and "Resolved" in found[0].get("text", "") and found[0]

    alert = until(resolved)
    story.show("the alert, updated in place", alert)
    expect(not _alerts(story), "the alert still offers Reconnect")


def app_home_after_the_story(story: Story) -> None:
    from messages import app_home

    text = str(_app_home(story)["blocks"])
    expect(f"<#{SAAS_USAGE}> · weekly · next" in text, "App Home does not list #saas-usage's subscription")
    expect(app_home.NO_DIGEST not in text, "App Home says no digest has been sent")
    expect(f"Posted in <#{SAAS_USAGE}>" in text, "App Home does not say where the last digest went")
    expect(app_home.NO_INCIDENTS in text, "App Home still lists the resolved incident")


STEPS: list[Step] = [
    Step("Ada (a Slack admin) opens the Connections card", admin_opens_card),
    Step("Ada clicks Connect, approves on HubSpot's consent page", admin_connects_hubspot),
    Step("The card now says Reconnect for HubSpot", card_says_reconnect),
    Step("Max (a member) sees the states, no buttons", member_sees_states_only),
    Step("Max invites Dana, SendGrid's admin", member_invites_sendgrid_admin),
    Step("Dana clicks Connect in the invitation and pastes a restricted key", invitee_connects_sendgrid),
    Step("Ada opens the bot's App Home", admin_opens_app_home),
    Step("Both accounts are connected", both_connected),
    *form_steps(),
    Step("Ada previews the digest: each account's seats as its seed has them", admin_previews_digest),
    Step("Ada subscribes #saas-usage to the weekly digest", admin_subscribes_channel),
    Step("At the next send time the scheduler posts one digest to #saas-usage", scheduled_digest_posted),
    Step("HubSpot access is revoked; the health check DMs Ada one alert", hubspot_access_revoked),
    Step("Ada clicks Reconnect, approves on HubSpot; the alert says Resolved", admin_reconnects),
    *SEAT_STEPS,
    Step("App Home lists the subscription and the last digest, no open incident", app_home_after_the_story),
]
