from slack_sdk.oauth.installation_store.models.installation import Installation

from tests.handlers.test_events import assert_nowhere_in_database


def installation(team_id="T1", token="xoxb-1-secret-token", **kw):
    return Installation(
        app_id="A1",
        team_id=team_id,
        team_name="Acme",
        bot_token=token,
        bot_id="B1",
        bot_user_id="UB1",
        bot_scopes="commands,chat:write",
        user_id="U1",
        **kw,
    )


async def test_save_find_replace_delete(storage):
    store = storage.installations
    await store.async_save(installation())
    await store.async_save(
        installation(
            token="xoxb-1-newer-token", bot_refresh_token="xoxe-1-refresh", bot_token_expires_in=43200
        )
    )
    bot = await store.async_find_bot(enterprise_id=None, team_id="T1")
    assert bot.bot_token == "xoxb-1-newer-token"
    assert bot.bot_refresh_token == "xoxe-1-refresh" and bot.bot_token_expires_at
    found = await store.async_find_installation(enterprise_id=None, team_id="T1")
    assert found.team_name == "Acme" and found.bot_scopes == ["commands", "chat:write"]
    assert await store.team_ids() == ["T1"]  # replaced, not duplicated
    for secret in ("xoxb-1-newer-token", "xoxe-1-refresh"):
        await assert_nowhere_in_database(storage, secret)
    await store.async_delete_all(enterprise_id=None, team_id="T1")
    assert await store.async_find_bot(enterprise_id=None, team_id="T1") is None


async def test_org_wide_install_is_found_from_any_workspace(storage):
    store = storage.installations
    await store.async_save(installation(team_id=None, enterprise_id="E1", is_enterprise_install=True))
    bot = await store.async_find_bot(enterprise_id="E1", team_id="T42", is_enterprise_install=True)
    assert bot is not None and bot.enterprise_id == "E1"
    assert await store.async_find_bot(enterprise_id=None, team_id="T42") is None
