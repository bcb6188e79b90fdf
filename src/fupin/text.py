"""Text helpers for reports: CJK-aware alignment, money in yuan, masking of personal data."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

from fupin.errors import ValidationError


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: CJK and full-width characters take two, combining marks none."""
    return sum(
        0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text
    )


def pad(text: str, width: int, align: str = "left") -> str:
    """Pad ``text`` with spaces to ``width`` display columns (``align`` left or right)."""
    fill = " " * max(0, width - display_width(text))
    return fill + text if align == "right" else text + fill


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], indent: str = "  ") -> list[str]:
    """Lines of a plain-text table whose columns line up with CJK text."""
    widths = [display_width(h) for h in headers]
    for row in rows:
        widths = [max(w, display_width(str(c))) for w, c in zip(widths, row, strict=True)]
    out = [indent + "  ".join(pad(h, w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    out.append(indent + "  ".join("-" * w for w in widths))
    out.extend(indent + "  ".join(pad(str(c), w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows)
    return out


def yuan(fen: int) -> str:
    """Format integer fen as yuan with thousands separators: ``40000000`` -> ``"400,000.00"``."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{cents:02d}"


def yuan_to_fen(text: str) -> int:
    """Parse an amount in yuan (``"1234.5"``) into integer fen, refusing sub-fen digits."""
    try:
        value = Decimal(text.replace(",", "").strip())
    except InvalidOperation:
        raise ValidationError.of("amount", "不是金额 / not an amount in yuan", text) from None
    fen = value * 100
    if fen != fen.to_integral_value():
        raise ValidationError.of("amount", "金额最多两位小数 / at most two decimals (fen)", text)
    return int(fen)


def mask_id(number: str | None) -> str:
    """Mask an ID number, keeping only the first 6 characters (the area of registration).

    Nothing after them is shown: the birth date (digits 7-14) is exported and
    displayed beside the number, so the sequence and check characters are
    what keep the number from being rebuilt (with the birth date and sex known,
    500 numbers remain possible). The area code is the household's own,
    which every output already shows.
    """
    if not number:
        return ""
    if len(number) <= 6:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 6)


def mask_account(account: str | None) -> str:
    """Mask a bank account number, keeping the first 6 (the bank) and the last 4 characters."""
    if not account:
        return ""
    if len(account) <= 10:
        return "*" * len(account)
    return account[:6] + "*" * (len(account) - 10) + account[-4:]


def mask_phone(phone: str | None) -> str:
    """Mask a phone number, keeping the first 3 and last 4 digits."""
    if not phone:
        return ""
    if len(phone) <= 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
