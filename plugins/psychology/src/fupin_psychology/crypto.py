"""Encryption of session notes at rest (Fernet, from ``cryptography``).

The key comes from the environment variable ``FUPIN_PSYCHOLOGY_KEY`` (a
Fernet key: ``python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"``)
and never enters the database, a log or a message. Without it notes can be
neither written nor read; everything else works.
"""

from __future__ import annotations

import os

from fupin import FupinError

KEY_ENV = "FUPIN_PSYCHOLOGY_KEY"


class NoteKeyError(FupinError):
    """The note key is missing or wrong (the message never contains the key)."""


def has_key() -> bool:
    """Whether a note key is set in the environment."""
    return bool(os.environ.get(KEY_ENV, "").strip())


def _fernet():  # noqa: ANN202
    from cryptography.fernet import Fernet

    key = os.environ.get(KEY_ENV, "").strip()
    if not key:
        raise NoteKeyError(f"未设置 {KEY_ENV}: 无法加密或解密疏导记录 / {KEY_ENV} is not set: counselling notes cannot be written or read")
    try:
        return Fernet(key.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise NoteKeyError(f"{KEY_ENV} 不是有效的 Fernet 密钥 / {KEY_ENV} is not a valid Fernet key") from None


def encrypt(note: str) -> str:
    """The note as a Fernet token (text)."""
    return _fernet().encrypt(note.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    """The note of a Fernet token; NoteKeyError if the key does not open it."""
    from cryptography.fernet import InvalidToken

    try:
        return _fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken:
        raise NoteKeyError(f"{KEY_ENV} 无法解开此记录 (密钥不符) / the key in {KEY_ENV} does not open this note") from None
