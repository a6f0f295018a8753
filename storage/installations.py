"""Slack installations, encrypted whole: an AsyncInstallationStore for Bolt.

slack_sdk's AsyncSQLAlchemyInstallationStore keeps bot tokens in plaintext
columns, so we implement the (small) store interface ourselves over one row per
workspace whose installation JSON is MultiFernet ciphertext.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from sqlalchemy import delete, select

from storage.crypto import Encryptor
from storage.db import Database
from storage.models import SlackInstallation

log = logging.getLogger("quolum.storage.installations")


def _key(
    enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None
) -> tuple[str, str]:
    # An org-wide install is found by enterprise id alone, whichever workspace the request came from.
    return enterprise_id or "", "" if is_enterprise_install else (team_id or "")


class EncryptedInstallationStore(AsyncInstallationStore):
    def __init__(self, db: Database, encryptor: Encryptor) -> None:
        self.db = db
        self.encryptor = encryptor
        # called with (enterprise_id, team_id) after a save or delete: caches of this process listen
        self.on_change: list = []

    def _changed(self, enterprise_id: str | None, team_id: str | None) -> None:
        for listener in self.on_change:
            listener(enterprise_id, team_id)

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_save(self, installation: Installation) -> None:
        data = {k: v for k, v in installation.to_dict_for_copying().items() if v is not None}
        enterprise_key, team_key = _key(
            installation.enterprise_id, installation.team_id, installation.is_enterprise_install
        )
        async with self.db.session() as session, session.begin():
            row = await session.scalar(
                select(SlackInstallation)
                .where(
                    SlackInstallation.enterprise_key == enterprise_key, SlackInstallation.team_key == team_key
                )
                .with_for_update()
            )
            if row is None:
                row = SlackInstallation(enterprise_key=enterprise_key, team_key=team_key)
                session.add(row)
            row.is_enterprise_install = bool(installation.is_enterprise_install)
            row.bot_user_id = installation.bot_user_id
            row.installer_user_id = installation.user_id
            row.installed_at = datetime.fromtimestamp(installation.installed_at, UTC)
            row.data_enc = self.encryptor.encrypt_json(data)
        self._changed(installation.enterprise_id, installation.team_id)

    async def async_save_bot(self, bot: Bot) -> None:  # Bolt saves through async_save; kept for the interface
        installation = await self.async_find_installation(
            enterprise_id=bot.enterprise_id,
            team_id=bot.team_id,
            is_enterprise_install=bot.is_enterprise_install,
        )
        if installation is None:
            return
        installation.bot_token = bot.bot_token
        installation.bot_refresh_token = bot.bot_refresh_token
        installation.bot_token_expires_at = bot.bot_token_expires_at
        await self.async_save(installation)

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        enterprise_key, team_key = _key(enterprise_id, team_id, is_enterprise_install)
        async with self.db.session() as session:
            row = await session.scalar(
                select(SlackInstallation).where(
                    SlackInstallation.enterprise_key == enterprise_key, SlackInstallation.team_key == team_key
                )
            )
        if row is None:
            return None
        installation = Installation(**self.encryptor.decrypt_json(row.data_enc))
        if user_id is not None and installation.user_id != user_id:
            # We only keep bot installations; a user-token lookup for someone else finds the bot only.
            installation.user_token = None
        return installation

    async def async_find_bot(
        self, *, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None = False
    ) -> Bot | None:
        installation = await self.async_find_installation(
            enterprise_id=enterprise_id, team_id=team_id, is_enterprise_install=is_enterprise_install
        )
        if installation is None or not installation.bot_token:
            return None
        return installation.to_bot()

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self.async_delete_all(enterprise_id=enterprise_id, team_id=team_id)

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        if user_id is None:
            await self.async_delete_all(enterprise_id=enterprise_id, team_id=team_id)

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        async with self.db.session() as session, session.begin():
            await session.execute(
                delete(SlackInstallation).where(
                    SlackInstallation.enterprise_key == (enterprise_id or ""),
                    SlackInstallation.team_key == (team_id or ""),
                )
            )
        self._changed(enterprise_id, team_id)

    async def team_ids(self) -> list[str]:
        async with self.db.session() as session:
            return list(await session.scalars(select(SlackInstallation.team_key)))
