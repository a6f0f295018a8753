"""Encryption at rest with MultiFernet: the first key encrypts, every key decrypts.

Keys come from QUOLUM_ENCRYPTION_KEYS; when it is unset a key is generated once
into the data directory (mode 0600) and the operator is told to back it up.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from core.config import ConfigError

log = logging.getLogger("quolum.storage.crypto")

KEY_FILE = "encryption.key"


class DecryptionError(Exception):
    """A stored secret could not be decrypted with any configured key."""

    def __str__(self) -> str:  # never echo the ciphertext
        return "a stored secret could not be decrypted with any key in QUOLUM_ENCRYPTION_KEYS"


class Encryptor:
    def __init__(self, keys: list[str] | tuple[str, ...]) -> None:
        if not keys:
            raise ConfigError("QUOLUM_ENCRYPTION_KEYS holds no key.")
        try:
            self._fernet = MultiFernet([Fernet(k.encode()) for k in keys])
        except (ValueError, TypeError):
            raise ConfigError(
                "QUOLUM_ENCRYPTION_KEYS holds a value that is not a Fernet key "
                "(make one with `quolum-bot keys generate`)."
            ) from None

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken:
            raise DecryptionError() from None

    def encrypt_json(self, value: object) -> str:
        return self.encrypt(json.dumps(value, separators=(",", ":"), default=str))

    def decrypt_json(self, ciphertext: str):
        return json.loads(self.decrypt(ciphertext))

    def rotate(self, ciphertext: str) -> str:
        """Re-encrypt under the first key (MultiFernet.rotate)."""
        try:
            return self._fernet.rotate(ciphertext.encode()).decode()
        except InvalidToken:
            raise DecryptionError() from None


def generate_key() -> str:
    return Fernet.generate_key().decode()


def load_keys(configured: tuple[str, ...], data_dir: Path) -> list[str]:
    """The configured keys, else the key file in the data dir, created on first use."""
    if configured:
        return list(configured)
    path = data_dir / KEY_FILE
    if path.exists():
        return [line.strip() for line in path.read_text().splitlines() if line.strip()]
    data_dir.mkdir(parents=True, exist_ok=True)
    key = generate_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    log.warning(
        "generated a new encryption key in %s: back it up (or move it into QUOLUM_ENCRYPTION_KEYS); "
        "without it the stored tokens cannot be read",
        path,
    )
    return [key]
