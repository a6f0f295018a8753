"""Block Kit to HTML for the sandbox page: each block type, built with slack_sdk's models, drawn."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    ImageBlock,
    ImageElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    OverflowMenuElement,
    PlainTextInputElement,
    RadioButtonsElement,
    SectionBlock,
    StaticSelectElement,
)

from sandbox import render_html as rh


def html(block) -> str:
    as_dict = block.to_dict()
    assert Block.parse(as_dict) is not None  # slack_sdk knows it: a block Slack would take
    return rh.block_html(as_dict)


def options(*names: str) -> list[Option]:
    return [Option(value=n.lower(), label=n) for n in names]


def test_header():
    assert html(HeaderBlock(text="Connections")) == '<h3 class="block header">Connections</h3>'


def test_section_with_text_fields_and_an_accessory_button():
    out = html(
        SectionBlock(
            text=MarkdownTextObject(text="*HubSpot* <@U1|ada> <https://x.example|docs> & `code`"),
            fields=[MarkdownTextObject(text="*Seats*\n12"), MarkdownTextObject(text="_idle_ 3")],
            accessory=ButtonElement(text="Open", action_id="open", value="v1"),
        )
    )
    assert "<b>HubSpot</b>" in out and '<span class="mention">@ada</span>' in out
    assert '<a href="https://x.example" target="_blank" rel="noopener">docs</a>' in out and "&amp;" in out
    assert "<code>code</code>" in out and out.count('class="field"') == 2 and "<i>idle</i>" in out
    assert 'data-action-id="open"' in out and 'data-value="v1"' in out


def test_section_with_an_overflow_accessory():
    out = html(
        SectionBlock(
            text="x", accessory=OverflowMenuElement(action_id="more", options=options("Edit", "Delete"))
        )
    )
    assert '<select class="overflow"' in out and 'data-action-id="more"' in out
    assert '<option value="edit">Edit</option>' in out


def test_actions_with_link_and_plain_buttons_and_a_select():
    out = html(
        ActionsBlock(
            block_id="actions:hubspot",
            elements=[
                ButtonElement(
                    text="Connect",
                    action_id="connect_link:hubspot",
                    url="http://127.0.0.1:1/start?s=1",
                    style="primary",
                ),
                ButtonElement(
                    text="Disconnect", action_id="disconnect:hubspot", value="hubspot", style="danger"
                ),
                StaticSelectElement(action_id="pick", placeholder="Channel", options=options("general")),
            ],
        )
    )
    assert '<a class="button primary" href="http://127.0.0.1:1/start?s=1" target="_blank"' in out
    assert (
        '<button class="button danger" data-action-id="disconnect:hubspot" data-block-id="actions:hubspot"'
        in out
    )
    assert '<select class="select"' in out and "Channel" in out


def test_context_divider_and_images():
    out = html(
        ContextBlock(
            elements=[
                MarkdownTextObject(text="by *Quolum*"),
                ImageElement(image_url="https://x.example/a.png", alt_text="logo"),
            ]
        )
    )
    assert "<b>Quolum</b>" in out and "[image: logo]" in out  # never fetched off this machine
    assert html(DividerBlock()) == '<hr class="block divider">'
    assert '<img class="" src="http://127.0.0.1:9/chart.png" alt="chart">' in html(
        ImageBlock(image_url="http://127.0.0.1:9/chart.png", alt_text="chart", title="Seats")
    )


def test_input_blocks_of_modals_with_an_error():
    key = InputBlock(
        block_id="sendgrid_key",
        label="API key",
        element=PlainTextInputElement(action_id="api_key", placeholder="SG.…"),
        hint="Stored encrypted.",
    ).to_dict()
    out = rh.block_html(key, {"sendgrid_key": "That is not a SendGrid key."})
    assert (
        '<input id="in-sendgrid_key" name="sendgrid_key/api_key" data-type="plain_text_input" placeholder="SG.…"'
        in out
    )
    assert '<div class="error">That is not a SendGrid key.</div>' in out and "Stored encrypted." in out
    radios = html(
        InputBlock(
            block_id="region",
            label="Where?",
            element=RadioButtonsElement(
                action_id="r", options=options("Global", "EU"), initial_option=options("Global")[0]
            ),
        )
    )
    assert radios.count('type="radio" name="region/r"') == 2 and 'value="global" checked' in radios
    boxes = html(
        InputBlock(
            block_id="b", label="Which?", element=CheckboxesElement(action_id="c", options=options("A"))
        )
    )
    assert 'type="checkbox" name="b/c"' in boxes
    select = html(
        InputBlock(
            block_id="s", label="Pick", element=StaticSelectElement(action_id="p", options=options("One"))
        )
    )
    assert '<select id="in-s" name="s/p"' in select


def test_an_unknown_block_or_element_is_shown_not_dropped():
    assert "[unsupported block: teleporter]" in rh.message_html({"blocks": [{"type": "teleporter"}]})
    assert "[unsupported element: datepicker]" in rh.element_html({"type": "datepicker"})


def test_text_without_blocks_and_html_is_escaped():
    assert rh.message_html({"text": "<script>alert(1)</script> *hi*"}).count("<script>") == 0
    assert "&lt;b&gt;" in rh.text_html({"type": "plain_text", "text": "<b>"})


def test_a_modal_view_has_its_title_and_buttons():
    out = rh.view_html(
        {
            "type": "modal",
            "title": {"type": "plain_text", "text": "Connect SendGrid"},
            "submit": {"type": "plain_text", "text": "Connect"},
            "close": {"type": "plain_text", "text": "Cancel"},
            "blocks": [],
        }
    )
    assert '<h2 class="view-title">Connect SendGrid</h2>' in out
    assert '<button type="submit" class="button primary">Connect</button>' in out and "Cancel" in out


def test_every_emoji_the_bot_writes_is_drawn_as_a_symbol():
    """Slack draws `:name:` as an image; the sandbox must too (a raw `:grey_question:` reads as a bug)."""
    import re
    from pathlib import Path

    from sandbox.render_html import HTML_EMOJI
    from sandbox.render_terminal import EMOJI

    messages = Path(__file__).resolve().parents[2] / "messages"
    used = {m for f in messages.glob("*.py") for m in re.findall(r":[a-z_]+:", f.read_text())}
    assert used, "the bot's messages use no emoji at all?"
    assert sorted(used - EMOJI.keys()) == []
    assert sorted(used - HTML_EMOJI.keys()) == []


def test_a_chart_is_drawn_as_an_inline_svg_with_its_series_and_escaped_text():
    from messages import charts
    from sandbox import render_chart

    block = charts.line_chart(
        "R&D <tools>: seats",
        ["9 Nov", "16 Nov", "23 Nov"],
        [charts.Series("Paid seats", [40, 41, 41]), charts.Series("Active", [30, 28, 0])],
    )
    html = rh.block_html(block)
    assert html.count('<polyline class="series"') == 2
    assert "R&amp;D &lt;tools&gt;: seats" in html and "<tools>" not in html  # shown as typed, inert
    assert "■ Paid seats" in html and "23 Nov" in html
    # the highest value is at the top of the plot, zero on its axis
    points = html.split('points="')[2].split('"')[0].split()
    assert points[-1].endswith(f",{render_chart.HEIGHT - render_chart.BOTTOM:.1f}")
    assert render_chart.chart_lines(block) == [
        "📈 R&D <tools>: seats (9 Nov – 23 Nov)",
        "   Paid seats: ███ 41",
        "   Active: ▆▆▁ 0",
    ]
