import os
import stat

import pytest

from core.config import ConfigError
from storage.crypto import DecryptionError, Encryptor, generate_key, load_keys
from storage.rotation import rotate_all
from tests.conftest import TEST_KEY, install


def test_first_key_encrypts_every_key_decrypts():
    old, new = generate_key(), generate_key()
    token = Encryptor([old]).encrypt("xoxb-secret")
    both = Encryptor([new, old])
    assert both.decrypt(token) == "xoxb-secret"
    rotated = both.rotate(token)
    assert Encryptor([new]).decrypt(rotated) == "xoxb-secret"
    with pytest.raises(DecryptionError) as error:
        Encryptor([old]).decrypt(rotated)
    assert rotated not in str(error.value)


@pytest.mark.parametrize("keys", [[], ["not-a-key"], ["c2hvcnQ="]])
def test_bad_keys_are_a_configuration_error(keys):
    with pytest.raises(ConfigError):
        Encryptor(keys)


def test_generated_key_file_is_private_and_announced(tmp_path, caplog):
    keys = load_keys((), tmp_path / "data")
    path = tmp_path / "data" / "encryption.key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert "back it up" in caplog.text
    assert keys[0] not in caplog.text
    assert load_keys((), tmp_path / "data") == keys  # the second start reads it back


def test_configured_keys_win_over_the_file(tmp_path):
    load_keys((), tmp_path)
    assert load_keys(("a", "b"), tmp_path) == ["a", "b"]


async def test_rotate_reencrypts_every_secret_column(storage, slack):
    from storage.crypto import Encryptor as E

    new = generate_key()
    await install(storage, slack)
    rotated = await rotate_all(storage.db, E([new, TEST_KEY]))
    assert rotated >= 1
    storage.installations.encryptor = E([new])  # the old key is gone now
    bot = await storage.installations.async_find_bot(enterprise_id=None, team_id="T0001")
    assert bot.bot_token == slack.workspaces["T0001"].bot_token
