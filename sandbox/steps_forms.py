"""Demo steps for the providers whose stand-ins join the sandbox by discovery (standins/sandboxed.py):
Ada connects each through its credential form with values made in its stand-in, as she would paste
them from the provider's console."""

from __future__ import annotations

from sandbox.clock import until
from sandbox.story import Step, Story, buttons, expect, slash
from sandbox.workspace import ADA


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
        secret = next((values[f.name] for f in spec.form.fields if f.secret), None)
        expect(secret and secret not in str(shown), f"the modal shows the {spec.display_name} secret")

    return Step(f"Ada connects {_display(key)} with its credential form", run)


def form_steps() -> list[Step]:
    from sandbox.standins.sandboxed import discover

    return [connects_with_form(s.key) for s in discover()]
