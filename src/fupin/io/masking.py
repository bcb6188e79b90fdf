"""Masked personal data, out and back: the masks, record tokens, and what a masked cell means on import.

An export masks ID numbers, phones and bank accounts unless the actor may
see them in full (``export.unmasked``). Read back, a masked cell means
"unchanged", never a new value: the importer puts the stored value in its
place (:func:`unmask_rows`) and the row goes on as any other. A masked cell
that does not mask the stored value (digits edited around the stars), or one
for a record not stored yet, is refused: a full value is needed to change it.

Where the record's own key is masked (a person's ID number), the export adds
a record token column (``记录标识``): the row's id and a keyed hash of the id
and the natural key, under a secret kept in the database (``settings``). It
names the record without showing it, and a token of another database, or one
pasted onto another row, is refused rather than matched to the wrong person.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from fupin.errors import Problem
from fupin.storage import schema as S
from fupin.text import mask_account, mask_id, mask_phone


def _mask_answers(text: str) -> str:
    """Questionnaire answers (JSON): ID numbers and phones inside them are masked like the columns."""
    try:
        answers = json.loads(text)
    except ValueError:
        return text
    if not isinstance(answers, dict):
        return text
    for key, value in answers.items():
        if isinstance(value, str) and key.endswith("id_number"):
            answers[key] = mask_id(value)
        elif isinstance(value, str) and key.endswith("phone"):
            answers[key] = mask_phone(value)
    return json.dumps(answers, ensure_ascii=False, sort_keys=True)


def _mask_beneficiaries(text: str) -> str:
    """Beneficiaries ``person:ID、household:NUMBER``: the persons' ID numbers masked."""
    return "、".join(f"person:{mask_id(b[7:])}" if b.startswith("person:") else b for b in text.split("、"))


#: Column.personal -> the function that masks a cell of it (as text).
MASKS: dict[str, Callable[[str], str]] = {
    "id": mask_id, "phone": mask_phone, "account": mask_account, "answers": _mask_answers, "beneficiaries": _mask_beneficiaries,
}
#: Personal kinds whose cells are masked whole: a star in them can only be a mask.
_WHOLE = ("id", "phone", "account")

#: The record token column of a masked export (Chinese and English headers).
TOKEN_ZH = "记录标识"
TOKEN_EN = "record_token"
_SECRET = "export_token_key"


def mask(personal: str, value: Any) -> Any:
    """``value`` masked as a cell of a ``personal`` column (blank stays blank)."""
    return MASKS[personal](str(value)) if value not in (None, "") else value


def looks_masked(personal: str, raw: Any) -> bool:
    """Whether a cell of a ``personal`` column may be a masked value (it has the mask's stars)."""
    return personal in MASKS and isinstance(raw, str) and "*" in raw


class MaskedRow:
    """A row with masked cells, sent from parsing to the importer to be resolved against the stored record."""

    __slots__ = ("cells",)

    def __init__(self, cells: dict[str, Any]) -> None:
        self.cells = cells

    def __reduce__(self) -> tuple[Any, ...]:
        return (MaskedRow, (self.cells,))


def token_secret(conn: sa.Connection, *, create: bool = False) -> bytes | None:
    """The database's key for record tokens; made on first use when ``create``."""
    found = conn.execute(sa.select(S.settings.c.value).where(S.settings.c.name == _SECRET)).scalar()
    if found is None and create:
        value = secrets.token_hex(32)
        try:
            with conn.begin_nested():
                conn.execute(S.settings.insert().values(name=_SECRET, value=value))
            found = value
        except sa.exc.IntegrityError:  # another export made it first
            found = conn.execute(sa.select(S.settings.c.value).where(S.settings.c.name == _SECRET)).scalar_one()
    return None if found is None else bytes.fromhex(found)


def make_token(secret: bytes, table: str, row_id: int, key: Sequence[Any]) -> str:
    """The token of row ``row_id`` of ``table`` whose natural key is ``key``."""
    text = "|".join([table, str(row_id), *map(str, key)])
    return f"{row_id}-{hmac.new(secret, text.encode(), hashlib.sha256).hexdigest()[:16]}"


def token_id(token: str) -> int | None:
    """The row id a token names (unverified), or None if it is no token."""
    head, sep, mac = token.strip().partition("-")
    return int(head) if sep and head.isdigit() and len(mac) == 16 else None


def token_matches(secret: bytes | None, token: str, table: str, row_id: int, key: Sequence[Any]) -> bool:
    """Whether ``token`` is this database's token of that row."""
    return secret is not None and hmac.compare_digest(token.strip(), make_token(secret, table, row_id, key))


#: Why masked cells are refused.
MASKED_NEW = "遮蔽的值不能登记 / a masked value cannot be stored: give the full value"
MASKED_CHANGED = "遮蔽的值与已登记的不符 / a masked value that does not mask the stored one: give the full value to change it"
MASKED_KEY = f"关键列被遮蔽, 需要 {TOKEN_ZH} 列 / the key is masked: the row needs its {TOKEN_ZH} ({TOKEN_EN}) from the masked export"
BAD_TOKEN = f"{TOKEN_ZH} 无效 / not a record token of this database for this row"


def unmask_cells(
    cells: dict[str, Any],
    personal: Mapping[str, str],
    stored: Mapping[str, Any] | None,
) -> list[Problem] | dict[str, Any]:
    """The row's cells with masked ones replaced by the stored values, or why not.

    ``personal`` maps the file's headers of personal columns to their kind
    (``"id"``, ``"phone"`` ...); ``stored`` maps the same headers to the stored
    record's cells as an unmasked export writes them (None: no such record).
    """
    out = dict(cells)
    problems = []
    for header, kind in personal.items():
        raw = cells.get(header)
        if not looks_masked(kind, raw):
            continue
        if stored is None:
            if kind in _WHOLE:
                problems.append(Problem(header, MASKED_NEW, raw))
            continue
        value = stored.get(header)
        if value not in (None, "") and mask(kind, value) == raw.strip():
            out[header] = value
        elif kind in _WHOLE:
            problems.append(Problem(header, MASKED_CHANGED, raw))
    return problems or out
