"""The note key's fingerprint in the database: set by the first note, checked by every later write and read.

- :func:`claim` is called inside every transaction that writes notes (a
  recorded session, each chunk of an import): it locks the one row of
  ``psychology_key``, sets the fingerprint if none is stored yet and refuses a
  key whose fingerprint differs (:class:`~fupin_psychology.crypto.NoteKeyMismatch`);
- :func:`check` is the same test without the lock, for reading a note;
- :func:`rekey` re-encrypts every note with a new key in one transaction and
  stores the new key's fingerprint (``fupin psychology rekey``).

A database that held notes before the fingerprint existed has the row without
one: there the first key to write a note must open the earliest stored note
(the one most surely written with the database's real key), else it is refused.

Who set the fingerprint and when is kept in its row; a recorded session that
sets it also leaves an audit entry (``key_set``), an import is audited as the
import, and a rotation as ``rekey``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import attrs
import sqlalchemy as sa

from fupin import ValidationError
from fupin.ext import AccessDenied

from fupin_psychology import crypto
from fupin_psychology.tables import KEY, KEY_ROW, SESSIONS

#: Rotating the key touches every note of the database: a permission of its own (see ``fupin_roles``).
REKEY = "psychology.rekey"
#: Notes re-encrypted per statement by :func:`rekey`.
_BATCH = 500
#: Refs named in the message of a rotation refused for notes the old key does not open.
_NAMED = 5


def _short(fingerprint: str) -> str:
    return fingerprint[: crypto.SHOWN]


def mismatch(stored: str, given: str) -> crypto.NoteKeyMismatch:
    """The one-line refusal of a key whose fingerprint ``given`` is not the stored one."""
    return crypto.NoteKeyMismatch(
        f"密钥与本库不符 / the key does not match this database's key "
        f"(fingerprint {_short(stored)}, {crypto.KEY_ENV} has {_short(given)})"
    )


def stored(conn: sa.Connection, metadata: sa.MetaData, *, lock: bool = False) -> Mapping[str, Any] | None:
    """The row of ``psychology_key`` (None if it is missing); ``lock``: FOR UPDATE, until the transaction ends."""
    t = metadata.tables[KEY]
    query = sa.select(t).where(t.c.id == KEY_ROW)
    if lock:
        query = query.with_for_update()  # PostgreSQL; SQLite's writers already take turns (BEGIN IMMEDIATE)
    return conn.execute(query).mappings().first()


def _matches(row: Mapping[str, Any] | None, key: str) -> None:
    """Raise NoteKeyMismatch when ``row`` holds a fingerprint and ``key``'s is another."""
    if row is None or not row["fingerprint"]:
        return
    given = crypto.fingerprint(key, bytes.fromhex(row["salt"]))
    if given != row["fingerprint"]:
        raise mismatch(row["fingerprint"], given)


def _earliest_note(conn: sa.Connection, metadata: sa.MetaData) -> str | None:
    s = metadata.tables[SESSIONS]
    return conn.execute(sa.select(s.c.note_cipher).where(s.c.note_cipher.is_not(None)).order_by(s.c.id).limit(1)).scalar()


def _set(conn: sa.Connection, metadata: sa.MetaData, key: str, actor: str, exists: bool) -> str:
    """Store ``key``'s fingerprint under a fresh salt; the fingerprint."""
    t = metadata.tables[KEY]
    salt = crypto.new_salt()
    values = {"scheme": crypto.SCHEME, "salt": salt.hex(), "fingerprint": crypto.fingerprint(key, salt),
              "set_at": dt.datetime.now(dt.UTC), "set_by": actor}
    if exists:
        conn.execute(t.update().where(t.c.id == KEY_ROW).values(**values))
    else:  # the row was deleted by hand: make it again
        conn.execute(t.insert().values(id=KEY_ROW, **values))
    return values["fingerprint"]


def claim(conn: sa.Connection, metadata: sa.MetaData, actor: str) -> str | None:
    """Before notes are written with the environment's key in this transaction: check or set its fingerprint.

    Returns the fingerprint when this call set it (the first note of the
    database), else None. Raises NoteKeyMissing without a usable key and
    NoteKeyMismatch for a key that is not the database's (the caller then
    writes nothing).
    """
    key = crypto.env_key()
    row = stored(conn, metadata, lock=True)
    if row is not None and row["fingerprint"]:
        _matches(row, key)
        return None
    earliest = _earliest_note(conn, metadata)
    if earliest is not None and not crypto.opens(earliest, key):
        raise crypto.NoteKeyMismatch(
            "密钥与本库不符: 无法解开已存的疏导记录 / the key does not match this database's key: "
            "it does not open the notes already stored"
        )
    return _set(conn, metadata, key, actor, exists=row is not None)


def check(conn: sa.Connection, metadata: sa.MetaData) -> tuple[str, str | None]:
    """Before a note is read: (the environment's key, the stored fingerprint as shown or None before the first note).

    Raises NoteKeyMismatch when the key's fingerprint is not the stored one.
    """
    key = crypto.env_key()
    row = stored(conn, metadata)
    _matches(row, key)
    return key, (_short(row["fingerprint"]) if row is not None and row["fingerprint"] else None)


@attrs.frozen
class Rekeyed:
    """What a key rotation did: notes re-encrypted, the old and new fingerprints (as shown)."""

    notes: int
    old_fingerprint: str | None
    new_fingerprint: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return attrs.asdict(self)


def rekey(store: Any, new_key: str, reason: str | None, new_key_name: str = "--new-key") -> Rekeyed:
    """Re-encrypt every note with ``new_key`` (the old key is ``FUPIN_PSYCHOLOGY_KEY``), in one transaction.

    Needs ``psychology.rekey`` over every record (the key is the whole
    database's) and a stated reason; audited (counts and fingerprints, never a
    key or note). Refused, with nothing changed, when the old key is not the
    database's or does not open every note, or when the new key is the old one.
    """
    scopes = store.access.scopes(REKEY)
    if "all" not in scopes:
        raise AccessDenied(store.actor, REKEY, "全部疏导记录 / every counselling note" if scopes else "")
    reason = " ".join((reason or "").split())
    if len(reason) < 2:
        raise ValidationError.of("reason", "更换密钥须说明理由 (--reason) / a key rotation needs a stated reason (--reason)")
    old = crypto.env_key()
    if not new_key.strip():
        raise crypto.NoteKeyMissing(f"未设置新密钥 {new_key_name} / {new_key_name} is not set")
    new_key = crypto.valid_key(new_key, new_key_name)
    if crypto.same_key(old, new_key):
        raise ValidationError.of("new_key", f"新密钥与 {crypto.KEY_ENV} 相同 / {new_key_name} is the key already in {crypto.KEY_ENV}")
    metadata = store.metadata
    s = store.table(SESSIONS)
    with store.transaction(REKEY) as conn:
        row = stored(conn, metadata, lock=True)
        _matches(row, old)
        old_shown = _short(row["fingerprint"]) if row is not None and row["fingerprint"] else None
        done, refused, last = 0, [], 0
        # By id, a batch at a time: memory stays flat however many notes there are.
        while batch := conn.execute(
            sa.select(s.c.id, s.c.ref, s.c.note_cipher)
            .where(s.c.note_cipher.is_not(None), s.c.id > last).order_by(s.c.id).limit(_BATCH)
        ).all():
            last = batch[-1].id
            updates = []
            for r in batch:
                try:
                    note = crypto.decrypt(r.note_cipher, old)
                except crypto.NoteKeyMismatch:
                    refused.append(r.ref)
                    continue
                updates.append({"row_id": r.id, "cipher": crypto.encrypt(note, new_key)})
            if updates and not refused:  # once one is refused nothing will be kept: only count the rest
                conn.execute(s.update().where(s.c.id == sa.bindparam("row_id")).values(note_cipher=sa.bindparam("cipher")), updates)
                done += len(updates)
        if refused:
            named = "、".join(refused[:_NAMED]) + (" ..." if len(refused) > _NAMED else "")
            raise crypto.NoteKeyMismatch(
                f"{len(refused)} 条疏导记录无法用 {crypto.KEY_ENV} 解开, 未做任何更改 / {len(refused)} notes do not open with "
                f"the key in {crypto.KEY_ENV} ({named}); nothing changed"
            )
        new_fingerprint = _set(conn, metadata, new_key, str(store.actor), exists=row is not None)
        result = Rekeyed(done, old_shown, _short(new_fingerprint))
        store.audit_event("rekey", KEY, str(KEY_ROW), result.to_dict(), reason)
    return result
