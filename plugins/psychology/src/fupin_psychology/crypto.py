"""Encryption of session notes at rest (Fernet, from ``cryptography``), and the key's fingerprint.

The key comes from the environment variable ``FUPIN_PSYCHOLOGY_KEY`` (a
Fernet key: ``python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"``)
and never enters the database, a log or a message. Without it notes can be
neither written nor read; everything else works.

The database keeps the key's *fingerprint* instead (see :mod:`fupin_psychology.keys`),
so a note written or read with another valid key is refused with a clear
message rather than stored unreadable. The fingerprint is
HKDF-SHA256(key, salt, info) truncated to 128 bits, with a random salt per
database (:func:`fingerprint`). Why this and not a plain hash of the key:

- it is a one-way derivation under its own label (``info``), so it tells
  nothing about the two halves Fernet uses the key as (signing, encryption);
- the salt makes the same key give different fingerprints in two databases
  (a fingerprint does not link them) and rules out precomputed tables;
- it gives an attacker holding the database no help: checking a guessed key
  against it costs what checking that guess against any stored note costs
  (Fernet's HMAC), and a note already needs only the 128-bit signing half
  guessed, the fingerprint the whole 256-bit key. Guessing either is hopeless
  for a key made by ``Fernet.generate_key``.
"""

from __future__ import annotations

import base64
import binascii
import os

from fupin import FupinError

KEY_ENV = "FUPIN_PSYCHOLOGY_KEY"
#: How fingerprints are made, stored beside them so that a later scheme can tell them apart.
SCHEME = "hkdf-sha256-v1"
#: The HKDF label: a fingerprint is never the output of any other use of the key.
_INFO = b"fupin-psychology note key fingerprint v1"
#: Hex digits of a fingerprint shown in messages (64 bits: enough to tell two keys apart by eye).
SHOWN = 16


class NoteKeyError(FupinError):
    """The note key is missing, invalid or wrong (the message never contains the key)."""


class NoteKeyMissing(NoteKeyError):
    """No usable key in the environment (not set, or not a Fernet key): a matter of the environment."""

    exit_code = 4


class NoteKeyMismatch(NoteKeyError):
    """A valid key, but not this database's: refused, nothing written."""


def has_key() -> bool:
    """Whether a note key is set in the environment."""
    return bool(os.environ.get(KEY_ENV, "").strip())


def env_key(name: str = KEY_ENV) -> str:
    """The Fernet key in environment variable ``name``; NoteKeyMissing if unset or not a Fernet key."""
    key = os.environ.get(name, "").strip()
    if not key:
        raise NoteKeyMissing(f"未设置 {name}: 无法加密或解密疏导记录 / {name} is not set: counselling notes cannot be written or read")
    return valid_key(key, name)


def valid_key(key: str, name: str = KEY_ENV) -> str:
    """``key`` stripped, once it is found to be a Fernet key; NoteKeyMissing (naming ``name``, never the key) if not."""
    key = key.strip()
    _raw(key, name)
    return key


def _raw(key: str, name: str = KEY_ENV) -> bytes:
    """The 32 bytes of a Fernet key (as Fernet itself decodes it)."""
    try:
        raw = base64.urlsafe_b64decode(key.encode("ascii"))
    except (ValueError, UnicodeEncodeError, binascii.Error):
        raw = b""
    if len(raw) != 32:
        raise NoteKeyMissing(f"{name} 不是有效的 Fernet 密钥 / {name} is not a valid Fernet key")
    return raw


def _fernet(key: str | None = None):  # noqa: ANN202
    from cryptography.fernet import Fernet

    return Fernet((key or env_key()).encode("ascii"))


def fingerprint(key: str, salt: bytes) -> str:
    """The fingerprint of ``key`` under ``salt``: 32 hex digits (see the module's docstring for why it is safe to store)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=hashes.SHA256(), length=16, salt=salt, info=_INFO).derive(_raw(key)).hex()


def new_salt() -> bytes:
    """A fresh random salt for a database's fingerprint."""
    return os.urandom(16)


def same_key(a: str, b: str) -> bool:
    """Whether two key texts are the same key (compared as bytes, whatever the padding)."""
    return _raw(a) == _raw(b)


def encrypt(note: str, key: str | None = None) -> str:
    """The note as a Fernet token (text), with ``key`` or else the key in the environment."""
    return _fernet(key).encrypt(note.encode("utf-8")).decode("ascii")


def decrypt(token: str, key: str | None = None) -> str:
    """The note of a Fernet token; NoteKeyMismatch if the key (``key``, else the environment's) does not open it."""
    from cryptography.fernet import InvalidToken

    try:
        return _fernet(key).decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken:
        raise NoteKeyMismatch(f"{KEY_ENV} 无法解开此记录 (密钥不符) / the key in {KEY_ENV} does not open this note") from None


def opens(token: str, key: str) -> bool:
    """Whether ``key`` opens the Fernet token ``token`` (the note itself is dropped at once)."""
    try:
        decrypt(token, key)
    except NoteKeyMismatch:
        return False
    return True
