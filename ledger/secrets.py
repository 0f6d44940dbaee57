"""Provider keys encrypted at rest with Fernet; several keys (newest first) allow rotation.

``STACKSPEND_SECRET_KEY`` holds one or more comma-separated Fernet keys. New tokens are
encrypted with the first; any of them decrypts. Messages never contain a key or a secret.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlmodel import Session, select

from ledger.errors import SecretKeyError
from ledger.models import Connection

SECRET_KEY_SETTING = "STACKSPEND_SECRET_KEY"
GENERATE_KEY_COMMAND = (
    'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
)
# 32 bytes in url-safe base64 with its padding, as Fernet.generate_key() writes them.
_FERNET_KEY = re.compile(r"[A-Za-z0-9_-]{43}=")
# InvalidToken: wrong key or damaged token; ValueError: a token that is not ASCII.
_BAD_TOKEN = (InvalidToken, ValueError)


def generate_secret_key() -> str:
    """A new random Fernet key, suitable for STACKSPEND_SECRET_KEY."""
    return Fernet.generate_key().decode("ascii")


def parse_secret_keys(raw: str) -> list[bytes]:
    """The Fernet keys in a comma-separated setting, newest first."""
    entries = [entry.strip() for entry in raw.split(",")]
    keys = [entry for entry in entries if entry]
    if not keys:
        raise SecretKeyError(
            f"{SECRET_KEY_SETTING} is not set. Generate a key with: {GENERATE_KEY_COMMAND}"
        )
    for position, key in enumerate(keys, start=1):
        if not _FERNET_KEY.fullmatch(key):
            raise SecretKeyError(
                f"{SECRET_KEY_SETTING} entry {position} of {len(keys)} is not a Fernet key "
                "(44 characters of url-safe base64). Keys are comma-separated, newest first. "
                f"Generate a key with: {GENERATE_KEY_COMMAND}"
            )
    return [key.encode("ascii") for key in keys]


class SecretBox:
    """Encrypts with the newest key; decrypts with any configured key."""

    def __init__(self, keys: Sequence[bytes | str]) -> None:
        if not keys:
            raise SecretKeyError(
                f"{SECRET_KEY_SETTING} is not set. Generate a key with: {GENERATE_KEY_COMMAND}"
            )
        try:
            fernets = [Fernet(key) for key in keys]
        except ValueError:
            raise SecretKeyError(
                f"{SECRET_KEY_SETTING} holds a value that is not a Fernet key. "
                f"Generate a key with: {GENERATE_KEY_COMMAND}"
            ) from None
        self._newest = fernets[0]
        self._all = MultiFernet(fernets)

    @classmethod
    def from_setting(cls, raw: str) -> SecretBox:
        """A box for the value of STACKSPEND_SECRET_KEY."""
        return cls(parse_secret_keys(raw))

    def encrypt(self, plaintext: str) -> str:
        """A token for ``plaintext``, under the newest key."""
        return self._all.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        """The plaintext of ``token``; SecretKeyError when no configured key reads it."""
        try:
            return self._all.decrypt(token).decode("utf-8")
        except _BAD_TOKEN:
            raise _unreadable() from None

    def needs_rotation(self, token: str) -> bool:
        """True when ``token`` was not encrypted with the newest key."""
        try:
            self._newest.extract_timestamp(token)
        except _BAD_TOKEN:
            pass
        else:
            return False
        try:
            self._all.extract_timestamp(token)
        except _BAD_TOKEN:
            raise _unreadable() from None
        return True

    def rotate(self, token: str) -> str:
        """The same secret, encrypted again with the newest key."""
        try:
            return self._all.rotate(token).decode("ascii")
        except _BAD_TOKEN:
            raise _unreadable() from None


def _unreadable() -> SecretKeyError:
    return SecretKeyError(
        f"A stored provider key cannot be decrypted: it was encrypted with a {SECRET_KEY_SETTING} "
        f"that is no longer configured (or the stored value is damaged). Add the old key back to "
        f"{SECRET_KEY_SETTING} (comma-separated, newest first), or reconnect the provider with "
        "its API key."
    )


def reencrypt_connections(session: Session, box: SecretBox) -> int:
    """Re-encrypt every connection's key with the newest key; returns the rows changed.

    Rows already under the newest key are left alone, so a second run returns 0.
    The caller commits.
    """
    changed = 0
    for connection in session.exec(select(Connection)).all():
        if box.needs_rotation(connection.encrypted_key):
            connection.encrypted_key = box.rotate(connection.encrypted_key)
            session.add(connection)
            changed += 1
    session.flush()
    return changed
