import pytest

from handlers import commands
from providers.registry import INSTALLED


@pytest.mark.parametrize(
    "text,name,args",
    [
        ("help", "help", ""),
        ("HELP", "help", ""),
        ("  help   me  ", "help", "me"),
        ("?", "help", ""),
        ("connect hubspot", "connect", "hubspot"),
        ("invite <@U123|ann> sendgrid", "invite", "<@U123|ann> sendgrid"),
        ("", None, ""),
        ("helpme", None, "helpme"),
        ("what is this", None, "what is this"),
    ],
)
def test_parse_matches_longest_name(text, name, args):
    cmd, rest = commands.parse(text)
    assert (cmd.name if cmd else None, rest) == (name, args)


def test_longest_match_wins(monkeypatch):
    table = dict(commands.COMMANDS)
    monkeypatch.setattr(commands, "COMMANDS", table)
    commands.command("admins add", "admins add @user", "grant")(commands.help_command)
    commands.command("admins", "admins", "list")(commands.help_command)
    assert commands.parse("admins add <@U1>")[0].name == "admins add"
    assert commands.parse("admins")[0].name == "admins"


def test_help_lists_every_available_command_once():
    entries = commands.help_entries(INSTALLED)
    usages = [usage for usage, _ in entries]
    assert "help" in usages and len(usages) == len(set(usages))
    assert all(commands.COMMANDS[u.split()[0]].handler is not None for u in usages)
