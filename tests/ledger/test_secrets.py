"""Provider keys encrypted at rest: round trip, rotation, clear errors, nothing in clear on disk."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlmodel import select

from ledger import migrate
from ledger.db import make_engine, session_scope
from ledger.errors import SecretKeyError
from ledger.models import Connection, Workspace
from ledger.secrets import (
    SecretBox,
    generate_secret_key,
    parse_secret_keys,
    reencrypt_connections,
)

KEY = "crsr_" + hashlib.sha256(b"stackspend test key").hexdigest()
OTHER_KEY = "crsr_" + hashlib.sha256(b"another test key").hexdigest()


def new_key() -> bytes:
    return Fernet.generate_key()


def test_round_trip() -> None:
    box = SecretBox([new_key()])

    token = box.encrypt(KEY)

    assert KEY not in token
    assert box.decrypt(token) == KEY
    assert box.encrypt(KEY) != token


def test_rotation_keeps_old_tokens_readable_and_moves_them_to_the_new_key() -> None:
    old, new = new_key(), new_key()
    token = SecretBox([old]).encrypt(KEY)
    box = SecretBox([new, old])

    assert box.decrypt(token) == KEY
    assert box.needs_rotation(token)

    rotated = box.rotate(token)

    assert SecretBox([new]).decrypt(rotated) == KEY
    assert not box.needs_rotation(rotated)
    with pytest.raises(SecretKeyError):
        SecretBox([old]).decrypt(rotated)


def test_new_tokens_use_the_newest_key() -> None:
    old, new = new_key(), new_key()

    token = SecretBox([new, old]).encrypt(KEY)

    assert SecretBox([new]).decrypt(token) == KEY


def test_decrypt_with_a_key_no_longer_configured_says_what_to_do() -> None:
    token = SecretBox([new_key()]).encrypt(KEY)
    box = SecretBox([new_key()])

    with pytest.raises(SecretKeyError) as caught:
        box.decrypt(token)

    message = str(caught.value)
    assert "STACKSPEND_SECRET_KEY" in message
    assert "no longer configured" in message
    assert KEY not in message
    assert KEY[-30:] not in message
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


@pytest.mark.parametrize("method", ["needs_rotation", "rotate"])
def test_unreadable_tokens_cannot_be_rotated(method: str) -> None:
    token = SecretBox([new_key()]).encrypt(KEY)
    box = SecretBox([new_key()])

    with pytest.raises(SecretKeyError, match="no longer configured"):
        getattr(box, method)(token)


@pytest.mark.parametrize("token", ["", "not a token", "gAAAAAé", KEY])
@pytest.mark.parametrize("method", ["decrypt", "needs_rotation", "rotate"])
def test_damaged_tokens_give_the_clear_error(method: str, token: str) -> None:
    box = SecretBox([new_key()])

    with pytest.raises(SecretKeyError) as caught:
        getattr(box, method)(token)

    assert KEY not in str(caught.value)


def test_parse_accepts_comma_separated_keys_newest_first() -> None:
    first, second = generate_secret_key(), generate_secret_key()

    keys = parse_secret_keys(f" {first} , {second},")

    assert keys == [first.encode(), second.encode()]
    older_token = SecretBox([second]).encrypt(KEY)
    assert SecretBox.from_setting(f"{first},{second}").decrypt(older_token) == KEY


VALID = "x" * 43 + "="


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        ",,",
        "not-a-fernet-key",
        KEY,
        VALID[:-1],
        VALID.replace("x", "!", 1),
        f"{VALID},{KEY}",
        f"{VALID} {VALID}",
    ],
)
def test_malformed_settings_name_the_setting_and_never_echo_it(raw: str) -> None:
    with pytest.raises(SecretKeyError) as caught:
        parse_secret_keys(raw)

    message = str(caught.value)
    assert "STACKSPEND_SECRET_KEY" in message
    assert "Fernet.generate_key().decode()" in message
    for entry in raw.split(","):
        if entry.strip():
            assert entry.strip() not in message


def test_box_refuses_no_keys_and_bad_keys_without_echoing_them() -> None:
    with pytest.raises(SecretKeyError, match="STACKSPEND_SECRET_KEY"):
        SecretBox([])
    with pytest.raises(SecretKeyError, match="STACKSPEND_SECRET_KEY") as caught:
        SecretBox([KEY])
    assert KEY not in str(caught.value)


def test_generated_keys_are_valid_settings() -> None:
    raw = generate_secret_key()

    assert parse_secret_keys(raw) == [raw.encode()]


def database_bytes(db_path: Path) -> bytes:
    """The raw bytes of the SQLite file and of its write-ahead log, if any."""
    files = [db_path, db_path.with_name(db_path.name + "-wal")]
    return b"".join(path.read_bytes() for path in files if path.exists())


def test_keys_are_never_stored_in_clear_and_can_be_rotated(tmp_path: Path) -> None:
    db_path = tmp_path / "ledger.db"
    url = f"sqlite:///{db_path}"
    migrate.upgrade(url)
    old = new_key()
    box = SecretBox([old])
    secrets = {"T1": KEY, "T2": OTHER_KEY}

    engine = make_engine(url)
    with session_scope(engine) as session:
        for team_id, secret in secrets.items():
            workspace = Workspace(slack_team_id=team_id)
            session.add(workspace)
            session.flush()
            assert workspace.id is not None
            session.add(
                Connection(
                    workspace_id=workspace.id,
                    encrypted_key=box.encrypt(secret),
                    key_hint=secret[-4:],
                )
            )
    with session_scope(engine) as session:
        tokens = [row.encrypted_key for row in session.exec(select(Connection))]
    assert db_path.with_name("ledger.db-wal").exists()
    while_open = database_bytes(db_path)
    engine.dispose()
    after_close = database_bytes(db_path)

    for raw in (while_open, after_close):
        assert all(token.encode() in raw for token in tokens)
        for secret in secrets.values():
            assert secret.encode() not in raw
            assert secret[-30:].encode() not in raw

    new = new_key()
    rotating = SecretBox([new, old])
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            assert reencrypt_connections(session, rotating) == 2
        with session_scope(engine) as session:
            assert reencrypt_connections(session, rotating) == 0
        with session_scope(engine) as session:
            stored = {
                workspace.slack_team_id: connection.encrypted_key
                for connection, workspace in session.exec(
                    select(Connection, Workspace).where(Connection.workspace_id == Workspace.id)
                )
            }
    finally:
        engine.dispose()

    only_new = SecretBox([new])
    assert {team: only_new.decrypt(token) for team, token in stored.items()} == secrets
    for secret in secrets.values():
        assert secret.encode() not in database_bytes(db_path)
