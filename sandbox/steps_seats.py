"""The demo's idle-seats loop (issue 23), played after the story of steps.py: Ada sets HubSpot's seat
price and asks the idle seat holders; Max, who holds a paid seat he never used, clicks **Release**; Ada
gives Quolum the write permission (HubSpot's consent page again, with the write scope), reclaims Max's
seat, and the HubSpot stand-in shows it unassigned exactly once; the next scheduled digest counts one
idle seat fewer and says what was saved.
"""

from __future__ import annotations

import re

from sandbox.clock import until
from sandbox.environment import page_text
from sandbox.story import Step, Story, buttons, dms_to, expect, sections, slash
from sandbox.workspace import ADA, DANA, MAX, MAX_HUBSPOT_ID, PORTAL_ID, SAAS_USAGE, SEAT_PRICE, TEAM_ID

WRITE_SCOPE = "settings.users.write"


def _pick(message: dict, name: str) -> tuple[str, dict] | None:
    """The block id of the seats multi-select offering `name`, and the state Slack sends when it is
    chosen; None when no list offers `name`."""
    from messages import seats as sm

    for block in message.get("blocks", []):
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            if element.get("action_id") != sm.PICK:
                continue
            for option in element.get("options", []):
                if option["text"]["text"].startswith(name):
                    chosen = {"type": "multi_static_select", "selected_options": [option]}
                    return block["block_id"], {"values": {block["block_id"]: {sm.PICK: chosen}}}
    return None


def _seats(story: Story) -> dict:
    return slash(story, ADA, "seats hubspot")


def admin_asks_idle_people(story: Story) -> None:
    from messages import seats as sm

    env = story.env
    reply = slash(story, ADA, f"price hubspot {SEAT_PRICE} USD")
    expect("a month" in reply.get("text", ""), "Ada was not told HubSpot's seat price was set")
    view = _seats(story)
    text = str(view.get("blocks", []))
    expect(MAX.mention.split("|")[0] in text, "the idle seats do not name Max as a Slack member")
    picked = _pick(view, "Max")
    expect(picked is not None, "Max's idle seat cannot be chosen")
    block_id, state = picked
    mark = env.mark()
    hook = env.click(ADA, sm.ASK, block_id.split(":", 1)[1], state=state)
    answer = story.show("Ask · only visible to Ada", env.response(hook))
    expect(
        "Asked 1: Max" in answer.get("text", ""),
        f"Ada was told {answer.get('text')!r}, not that Max was asked",
    )
    dm = until(lambda: dms_to(story, MAX, mark))[-1]
    story.show("DM from Quolum to Max", dm)
    release = buttons(dm).get(sm.RELEASE_ACTION)
    expect(release is not None and sm.KEEP_ACTION in buttons(dm), "Max's DM has no Keep and Release buttons")
    expect("$" in dm["blocks"][0]["text"]["text"], "Max's DM does not say what the seat costs")
    story.facts["ask"] = release["value"]
    story.facts["connection"] = block_id.split(":", 1)[1]
    # asking again within the cooldown asks nobody: one DM per person and seat
    again = env.response(env.click(ADA, sm.ASK, story.facts["connection"], state=state))
    expect("already" in again.get("text", ""), f"asking Max again answered {again.get('text')!r}")
    expect(len(dms_to(story, MAX, mark)) == 1, "Max was asked twice")


def member_releases(story: Story) -> None:
    from messages import seats as sm

    env = story.env
    env.click(MAX, sm.RELEASE_ACTION, story.facts["ask"])

    def in_dm(person, needle):
        return [m for m in env.slack.messages_in(person.user_id) if needle in (m.get("text") or "")]

    confirmation = until(lambda: in_dm(MAX, "given back"))[-1]
    confirmation = {**confirmation, "blocks": confirmation.get("blocks") or []}  # updated to text only
    story.show("Max's DM, answered in place", confirmation)
    expect(not buttons(confirmation), "Max's answered DM still has buttons")
    summary = until(lambda: in_dm(ADA, "1 release"))[-1]
    story.show("DM from Quolum to Ada (one summary, updated as answers come)", summary)
    expect(len(in_dm(ADA, "about their idle seats")) == 1, "Ada got more than one summary")
    # Dana is not Max: she cannot answer his question
    refusal = env.response(env.click(DANA, sm.RELEASE_ACTION, story.facts["ask"]))
    expect(refusal.get("text") == sm.NOT_YOURS, "someone else could answer Max's question")


def admin_enables_reclaiming(story: Story) -> None:
    from messages import seats as sm

    env = story.env
    view = _seats(story)
    enable = buttons(view).get(sm.ENABLE)
    expect(enable is not None, "with read permissions only, the seats view offers no Enable reclaiming")
    expect(sm.RECLAIM not in buttons(view), "Reclaim is offered before Quolum may write")
    hook = env.click(ADA, sm.ENABLE, enable["value"])
    answer = story.show("Enable reclaiming · only visible to Ada", env.response(hook))
    link = re.search(r"<(http[^|>]+)\|", answer.get("text", ""))
    expect(link, "Ada was given no consent link")
    consent, page = env.follow_connect_link(link.group(1))
    story.show("browser · HubSpot consent page (stand-in), now with the write permission", {"text": consent})
    expect(WRITE_SCOPE in consent, f"HubSpot's consent page does not ask for {WRITE_SCOPE}")
    expect(page.status_code == 200, f"the page after HubSpot's consent answered {page.status_code}")
    story.show("browser · back at Quolum", {"text": page_text(page.text)})


def admin_reclaims(story: Story) -> None:
    from messages import seats as sm

    env = story.env
    view = _seats(story)
    reclaim = buttons(view).get(sm.RECLAIM)
    expect(reclaim is not None, "after the consent, the seats view offers no Reclaim")
    expect("released" in str(view["blocks"]), "the seats view does not say Max released his seat")
    picked = _pick(view, "Max")
    expect(picked is not None, "Max's seat is no longer offered")
    _, state = picked
    mark = env.mark()
    env.click(ADA, sm.RECLAIM, reclaim["value"], state=state)
    modal = until(lambda: env.calls_after("views.open", mark))[-1].args["view"]
    story.show("the confirm dialog", modal)
    saving = f"${SEAT_PRICE * 12:,}"
    expect(saving in str(modal["blocks"]), f"the confirm dialog does not say it saves {saving} a year")
    portal = env.hubspot.portals[PORTAL_ID]
    before = len(env.hubspot.seat_writes)
    answer = env.submit_view(ADA, {**modal, "id": "VRECLAIM1"}, {})
    expect(answer.status_code == 200, f"Slack would show an error on Reclaim ({answer.status_code})")
    result = until(lambda: env.calls_after("views.update", mark))[-1].args["view"]
    story.show("the dialog, after Reclaim", result)
    expect(sm.UNDO in buttons(result), "the result offers no Undo")
    writes = env.hubspot.seat_writes[before:]
    expect(len(writes) == 1, f"HubSpot received {len(writes)} seat changes, not 1")
    max_user = next(u for u in portal.users if u.id == MAX_HUBSPOT_ID)
    expect(not max_user.seat_names, "Max still holds his paid seat in HubSpot")
    story.show(
        "HubSpot · users (stand-in)", {"text": f"Max's paid seat is unassigned ({len(writes)} change)"}
    )
    # Submitting the same dialog again (a double click, a retry) changes nothing more
    env.submit_view(ADA, {**modal, "id": "VRECLAIM1"}, {})
    until(lambda: len(env.calls_after("views.update", mark)) >= 2)
    expect(len(env.hubspot.seat_writes) == before + 1, "a second submit reached HubSpot again")


def next_digest_shows_saving(story: Story) -> None:
    env = story.env

    async def next_send(services):
        subs = await services.digests.store.for_team(TEAM_ID)
        return [s.next_send_at for s in subs if s.channel_id == SAAS_USAGE]

    at = env.on_server(next_send)[0]
    before = len(env.slack.messages_in(SAAS_USAGE))
    env.clock.move_to(at)
    story.show("the clock", {"text": f"(a week passes: it is now {at:%a %d %b %Y %H:%M} UTC)"})
    expect(env.run_job("digests", now=at), "the scheduler did not run the digests job")
    digest = until(lambda: env.slack.messages_in(SAAS_USAGE)[before:])[-1]
    story.show(f"#saas-usage · scheduled digest ({at:%a %d %b %H:%M} UTC)", digest)
    text = str(digest.get("blocks", []))
    saved = f"Saved ${SEAT_PRICE * 12:,} a year since"
    expect(saved in text, f"the digest does not say {saved!r}")
    first = sections(env.slack.messages_in(SAAS_USAGE)[0]).get("HubSpot", {}).get("Paid seats")
    now = sections(digest).get("HubSpot", {}).get("Paid seats")
    expect(
        first and now and int(now) == int(first) - 1,
        f"the digest shows {now} paid seats, not one fewer than {first}",
    )


SEAT_STEPS: list[Step] = [
    Step("Ada sets HubSpot's seat price and asks Max about his idle seat", admin_asks_idle_people),
    Step("Max clicks Release; Ada's summary DM says so", member_releases),
    Step("Ada clicks Enable reclaiming and approves HubSpot's write permission", admin_enables_reclaiming),
    Step("Ada reclaims Max's seat: HubSpot shows it unassigned, once", admin_reclaims),
    Step("The next digest counts one paid seat fewer and says what was saved", next_digest_shows_saving),
]
