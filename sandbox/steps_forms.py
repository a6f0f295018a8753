"""Demo steps for the providers whose stand-ins join the sandbox by discovery (standins/sandboxed.py):
Ada connects each through its credential form with values made in its stand-in, as she would paste
them from the provider's console."""

from __future__ import annotations

from sandbox.clock import until
from sandbox.story import Step, Story, buttons, expect, slash
from sandbox.workspace import ADA, TEAM_ID


def _display(key: str) -> str:
    from providers.registry import INSTALLED

    return INSTALLED[key].display_name


def connects_with_form(key: str) -> Step:
    def run(story: Story) -> None:
        from handlers import credentials as forms
        from providers.registry import INSTALLED

        env, spec = story.env, INSTALLED[key]
        card = slash(story, ADA, "connect")
        button = buttons(card).get(forms.connect_action(spec))
        expect(button is not None, f"the card has no Connect button for {spec.display_name}")
        mark = env.mark()
        env.click(ADA, forms.connect_action(spec), button.get("value", ""))
        view = until(lambda: env.calls_after("views.open", mark))[-1].args["view"]
        story.show(f"modal opened for Ada · Connect {spec.display_name}", view)
        values = env.sandboxed[key].credentials(env.standins[key])
        state = {field: {field: {"type": "plain_text_input", "value": v}} for field, v in values.items()}
        answer = env.submit_view(ADA, {**view, "id": f"VFORM{key.upper()}"}, state)
        expect(answer.status_code == 200, f"Slack would show an error on submit ({answer.status_code})")
        shown = (answer.json() if answer.content else {}).get("view") or {}
        done = forms.title_of(forms.CONNECTED_TITLE, spec.display_name)

        def title(v: dict) -> str:
            return (v.get("title") or {}).get("text", "")

        if title(shown) != done:  # verified after the answer: the modal is updated when it is done
            shown = until(
                lambda: [
                    c.args["view"]
                    for c in env.calls_after("views.update", mark)
                    if title(c.args["view"]) == done
                ]
            )[-1]
        story.show(f"the modal after Connect · {spec.display_name}", shown)
        field = spec.form.secret
        secret = values.get(field.name) or (
            env.slack.workspaces[TEAM_ID].bot_token if field.workspace_token else None
        )
        expect(secret and secret not in str(shown), f"the modal shows the {spec.display_name} secret")

    return Step(f"Ada connects {_display(key)} with its credential form", run)


def grants(key: str) -> Step:
    """A credential form's grant (`ProviderSpec.grant`): Ada opens its link on the card and approves."""

    def run(story: Story) -> None:
        from messages.cards import CONNECT_LINK
        from providers.registry import INSTALLED

        spec = INSTALLED[key]
        card = slash(story, ADA, "connect")
        link = buttons(card).get(f"{CONNECT_LINK}:{key}")
        expect(link is not None and link.get("url"), f"the card offers no {spec.grant.label} link")
        page = story.env.follow_grant_link(link["url"])
        expect(page.status_code == 200, f"{spec.grant.label} ended on a {page.status_code} page")
        expect("is connected" in page.text, f"{spec.grant.label} did not connect")

    return Step(f"Ada approves {_grant_label(key)}", run)


def _grant_label(key: str) -> str:
    from providers.registry import INSTALLED

    return INSTALLED[key].grant.label


def form_steps() -> list[Step]:
    from providers.registry import INSTALLED
    from sandbox.standins.sandboxed import discover

    steps = []
    for sandboxed in discover():
        steps.append(connects_with_form(sandboxed.key))
        if INSTALLED[sandboxed.key].grant is not None:
            steps.append(grants(sandboxed.key))
    return steps
