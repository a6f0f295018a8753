"""The Slack stand-in's users.info and users.list answer as Slack does for the three kinds of people the
admin check meets: a member at home, a member of an Enterprise Grid org, and someone from another
workspace seen in a shared channel."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient


def client(slack, team_id: str = "T0001") -> AsyncWebClient:
    return AsyncWebClient(token=slack.workspaces[team_id].bot_token, base_url=f"{slack.url}/api/")


async def test_users_info_carries_the_home_team_and_for_grid_users_enterprise_user(slack):
    slack.add_workspace("T0005", "Org Workspace", enterprise_id="E0001")
    slack.add_user("U0001", is_admin=True)
    slack.add_user("UGRID", "T0005", teams=["T0006"], org_admin=True)
    slack.add_user("UGUEST", "T0009", is_owner=True)
    web = client(slack)

    plain = (await web.users_info(user="U0001"))["user"]
    assert plain["team_id"] == "T0001" and plain["is_admin"] is True and "enterprise_user" not in plain

    grid = (await web.users_info(user="UGRID"))["user"]
    assert grid["team_id"] == "T0005"
    assert grid["enterprise_user"] == {
        "id": "UGRID",
        "enterprise_id": "E0001",
        "enterprise_name": "Org Workspace Org",
        "is_admin": True,
        "is_owner": False,
        "teams": ["T0005", "T0006"],
    }
    assert grid["is_admin"] is False  # the workspace role is its own flag

    guest = (await web.users_info(user="UGUEST"))["user"]  # Slack Connect: their own team, their own roles
    assert guest["team_id"] == "T0009" and guest["is_owner"] is True


async def test_users_list_holds_the_workspace_members_grid_members_of_it_included(slack):
    slack.add_workspace("T0005", "Org Workspace", enterprise_id="E0001")
    slack.add_workspace("T0006", "Sister", enterprise_id="E0001")
    slack.add_user("UHOME", "T0006")
    slack.add_user("UALSO", "T0005", teams=["T0006"])
    slack.add_user("UAWAY", "T0005")
    members = {m["id"] for m in (await client(slack, "T0006").users_list())["members"]}
    assert members == {"UHOME", "UALSO"}
