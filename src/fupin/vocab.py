"""Value lists (vocabularies) of the 建档立卡 card and the fupin model, as data.

The lists ship in ``fupin/data/vocabularies.toml`` (its header documents the
format). Real registers changed their lists over the years, so a province
extends them with a file in the same format instead of patching code::

    vocab = Vocabulary.default().extend("yunnan.toml")
    vocab.check("work_status", "乡(镇)内务工")      # -> "乡（镇）内务工"
    vocab.label("sex", "1", lang="en")             # -> "male"
    vocab.poverty_line(2015)                        # -> 2855 (yuan)
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import importlib.resources
import os
import tomllib
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

import attrs

from fupin.errors import NotFound, ValidationError

__all__ = ["PovertyLine", "Term", "Vocabulary", "normalize_key"]

POVERTY_LINES = "poverty_lines"
NATIONAL = "national"
_ENTRY_KEYS = frozenset({"code", "zh", "en", "aliases", "retired", "note"})
_LINE_KEYS = frozenset({"year", "yuan", "approximate", "note"})
_SHOWN_IN_ERRORS = 5


def normalize_key(value: str) -> str:
    """Return the form of ``value`` used to match it against a list.

    Removes all whitespace, folds full-width ASCII letters, digits and brackets to
    half-width (NFKC), and ignores case, so ``"乡（镇） 内务工"`` matches
    ``"乡(镇)内务工"`` and ``"Male"`` matches ``"male"``.
    """
    folded = unicodedata.normalize("NFKC", value)
    return "".join(folded.split()).casefold()


@attrs.frozen
class Term:
    """One allowed value of a list.

    Attributes:
        code: Stable machine value, unique in its list (an official code where one exists).
        zh: Canonical Chinese label; what fupin stores and prints.
        en: Short lower-case English identifier.
        aliases: Other spellings accepted on input.
        retired: Superseded by a later list; still accepted so old records load.
        note: Free text about the source or caveats.
    """

    code: str
    zh: str
    en: str
    aliases: tuple[str, ...] = ()
    retired: bool = False
    note: str = ""

    def keys(self) -> tuple[str, ...]:
        """All the spellings that resolve to this term (code, labels, aliases)."""
        return (self.code, self.zh, self.en, *self.aliases)


@attrs.frozen
class PovertyLine:
    """A poverty line for one year in one jurisdiction.

    Attributes:
        year: Calendar year.
        yuan: Whole yuan per person per year.
        jurisdiction: ``"national"`` or the key of the override that applied.
        approximate: True when the figure is commonly cited but not verified.
        note: Free text about the source.
    """

    year: int
    yuan: int
    jurisdiction: str = NATIONAL
    approximate: bool = False
    note: str = ""

    @property
    def fen(self) -> int:
        """The line in integer fen (1 yuan = 100 fen)."""
        return self.yuan * 100


Source = Mapping[str, Any] | str | os.PathLike[str]


# eq=False: compared and hashed by identity, because its mappings are unhashable.
@attrs.frozen(eq=False)
class Vocabulary:
    """Named lists of allowed values plus the poverty lines, loaded from TOML.

    A vocabulary never changes: :meth:`extend` returns a new one. Build one with
    :meth:`default`, :meth:`from_toml` or :meth:`from_mapping`.
    """

    _lists: Mapping[str, tuple[Term, ...]]
    _lines: Mapping[str, Mapping[int, PovertyLine]] = attrs.field(factory=dict)
    _index: Mapping[str, Mapping[str, Term]] = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_index", {name: _index_list(name, terms) for name, terms in self._lists.items()})

    # -- construction ------------------------------------------------------------------

    @classmethod
    def default(cls) -> Vocabulary:
        """The vocabulary packaged with fupin (loaded once, then shared)."""
        return _packaged()

    @classmethod
    def from_toml(cls, source: str | os.PathLike[str]) -> Vocabulary:
        """Load a vocabulary from a TOML file or TOML text.

        Args:
            source: A path (``Path`` or a ``str`` without ``=`` or a newline), or
                the TOML text itself.

        Raises:
            ValidationError: The TOML is malformed or breaks the format.
        """
        return cls.from_mapping(_read_toml(source))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Vocabulary:
        """Build a vocabulary from parsed TOML (the same shape as the file).

        Raises:
            ValidationError: The data breaks the format (see the TOML header).
        """
        return cls({}).extend(data)

    def extend(self, other: Source | Vocabulary) -> Vocabulary:
        """Return a new vocabulary with ``other``'s entries and poverty lines added.

        An entry whose code already exists in its list replaces that entry's
        ``zh``, ``en``, ``retired`` and ``note`` and adds its aliases; a new code is
        appended; a new list name makes a new list. Poverty lines are added or
        replaced per jurisdiction and year. ``self`` is left unchanged.

        Args:
            other: A mapping shaped like the TOML file, a path or TOML text, or
                another :class:`Vocabulary`.

        Raises:
            ValidationError: ``other`` breaks the format, or makes a spelling
                resolve to two different entries of one list.
        """
        if isinstance(other, Vocabulary):
            new_lists: dict[str, list[Term]] = {name: list(terms) for name, terms in other._lists.items()}
            new_lines = {j: list(by_year.values()) for j, by_year in other._lines.items()}
        else:
            data = other if isinstance(other, Mapping) else _read_toml(other)
            new_lists, new_lines = _parse(data)

        lists = {name: list(terms) for name, terms in self._lists.items()}
        for name, terms in new_lists.items():
            merged = lists.setdefault(name, [])
            for term in terms:
                position = next((i for i, t in enumerate(merged) if t.code == term.code), None)
                if position is None:
                    merged.append(term)
                else:
                    old = merged[position]
                    aliases = old.aliases + tuple(a for a in term.aliases if a not in old.aliases)
                    merged[position] = attrs.evolve(term, aliases=aliases)

        lines = {j: dict(by_year) for j, by_year in self._lines.items()}
        for jurisdiction, entries in new_lines.items():
            for line in entries:
                lines.setdefault(jurisdiction, {})[line.year] = line

        return Vocabulary({name: tuple(terms) for name, terms in lists.items()}, lines)

    # -- lists --------------------------------------------------------------------------

    def names(self) -> list[str]:
        """Names of all lists, in file order."""
        return list(self._lists)

    def terms(self, list_name: str) -> tuple[Term, ...]:
        """The entries of a list, in order (retired ones included).

        Raises:
            KeyError: No list has this name.
        """
        self._require(list_name)
        return self._lists[list_name]

    def find(self, list_name: str, value: object) -> Term | None:
        """The entry that ``value`` (code, label or alias) names, or None.

        Raises:
            KeyError: No list has this name.
        """
        index = self._require(list_name)
        if isinstance(value, bool) or not isinstance(value, str | int):
            return None
        return index.get(normalize_key(str(value)))

    def term(self, list_name: str, value: object, *, field: str | None = None) -> Term:
        """The entry that ``value`` names.

        Args:
            list_name: Name of the list, e.g. ``"relation"``.
            value: Its code, ``zh`` or ``en`` label, or an alias. Spaces,
                full-width ASCII and case are ignored. An ``int`` is read as its
                decimal string (spreadsheets turn codes into numbers).
            field: Field name for the error; defaults to ``list_name``.

        Raises:
            KeyError: No list has this name.
            ValidationError: ``value`` is not in the list.
        """
        found = self.find(list_name, value)
        if found is None:
            raise ValidationError.of(field or list_name, self._refusal(list_name, value), value)
        return found

    def check(self, list_name: str, value: object, *, field: str | None = None) -> str:
        """Validate ``value`` against a list and return its canonical ``zh`` label.

        Example:
            ``vocab.check("household_status", "脱贫")`` returns ``"已脱贫(享受政策)"``.

        Raises:
            KeyError: No list has this name.
            ValidationError: ``value`` is not in the list; the problem names
                ``field`` (or the list) and lists some allowed values.
        """
        return self.term(list_name, value, field=field).zh

    def label(self, list_name: str, value: object, lang: Literal["zh", "en"] = "zh") -> str:
        """The ``zh`` or ``en`` label of the entry that ``value`` names.

        Raises:
            KeyError: No list has this name.
            ValueError: ``lang`` is neither ``"zh"`` nor ``"en"``.
            ValidationError: ``value`` is not in the list.
        """
        if lang not in ("zh", "en"):
            raise ValueError(f"lang must be 'zh' or 'en', not {lang!r}")
        term = self.term(list_name, value)
        return term.zh if lang == "zh" else term.en

    def position(self, list_name: str, value: object) -> int:
        """0-based position of the entry in its list (for ``area_level``, the depth).

        Raises:
            KeyError: No list has this name.
            ValidationError: ``value`` is not in the list.
        """
        return self.terms(list_name).index(self.term(list_name, value))

    # -- poverty lines ------------------------------------------------------------------

    def poverty_line_entry(self, year: int, jurisdiction: str | None = None) -> PovertyLine:
        """The poverty line that applies in ``jurisdiction`` in ``year``.

        A division code falls back to its parents before the national line: a
        12-digit village code tries the village, its town (9 digits), county
        (6), city (``xxxx00``) and province (``xx0000``). Other keys are looked up
        as given.

        Raises:
            NotFound: Neither the jurisdiction nor the national table has ``year``.
        """
        for key in [*_jurisdiction_chain(jurisdiction), NATIONAL]:
            line = self._lines.get(key, {}).get(year)
            if line is not None:
                return line
        known = sorted(self._lines.get(NATIONAL, {}))
        span = f"{known[0]}–{known[-1]}" if known else "无/none"
        raise NotFound(f"没有 {year} 年的贫困线 (已有 {span}) / no poverty line for {year} (have {span})")

    def poverty_line(self, year: int, jurisdiction: str | None = None) -> int:
        """The poverty line in whole yuan per person per year (see :meth:`poverty_line_entry`)."""
        return self.poverty_line_entry(year, jurisdiction).yuan

    def poverty_line_fen(self, year: int, jurisdiction: str | None = None) -> int:
        """The poverty line in integer fen per person per year (see :meth:`poverty_line_entry`)."""
        return self.poverty_line_entry(year, jurisdiction).fen

    # -- helpers ------------------------------------------------------------------------

    def _require(self, list_name: str) -> Mapping[str, Term]:
        try:
            return self._index[list_name]
        except KeyError:
            known = ", ".join(self._lists) or "none"
            raise KeyError(f"unknown vocabulary list {list_name!r}; known lists: {known}") from None

    def _refusal(self, list_name: str, value: object) -> str:
        current = [t for t in self._lists[list_name] if not t.retired]
        shown = current[:_SHOWN_IN_ERRORS]
        more_zh = f" 等 {len(current)} 项" if len(current) > len(shown) else ""
        more_en = f", ... ({len(current)} in all)" if len(current) > len(shown) else ""
        zh = "、".join(t.zh for t in shown)
        en = ", ".join(t.en for t in shown)
        if value is None or (isinstance(value, str) and not value.strip()):
            return f"缺少取值; 可选: {zh}{more_zh} / value missing; allowed: {en}{more_en}"
        return f"不是「{list_name}」的取值; 可选: {zh}{more_zh} / not a value of {list_name!r}; allowed: {en}{more_en}"


@functools.cache
def _packaged() -> Vocabulary:
    text = importlib.resources.files("fupin").joinpath("data", "vocabularies.toml").read_text(encoding="utf-8")
    return Vocabulary.from_toml(text)


def _read_toml(source: str | os.PathLike[str]) -> Mapping[str, Any]:
    is_text = isinstance(source, str) and ("\n" in source or "=" in source)
    try:
        text = source if is_text else Path(source).read_text(encoding="utf-8")
        return tomllib.loads(text)  # type: ignore[arg-type]
    except OSError as exc:
        raise ValidationError.of("vocabulary", f"无法读取文件 / cannot read file: {exc}", str(source)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError.of("vocabulary", f"TOML 格式错误 / invalid TOML: {exc}") from exc


def _parse(data: Mapping[str, Any]) -> tuple[dict[str, list[Term]], dict[str, list[PovertyLine]]]:
    lists: dict[str, list[Term]] = {}
    lines: dict[str, list[PovertyLine]] = {}
    for name, value in data.items():
        if name == POVERTY_LINES:
            if not isinstance(value, Mapping):
                raise _format_error(name, "应为表 / must be a table of jurisdictions")
            for jurisdiction, entries in value.items():
                where = f"{name}.{jurisdiction}"
                lines[str(jurisdiction)] = [_parse_line(where, str(jurisdiction), e) for e in _entries(where, entries)]
        else:
            lists[name] = [_parse_term(name, e) for e in _entries(name, value)]
    return lists, lines


def _entries(where: str, value: object) -> Iterable[Mapping[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(e, Mapping) for e in value):
        raise _format_error(where, "应为表数组 [[...]] / must be an array of tables [[...]]")
    return value


def _parse_term(list_name: str, entry: Mapping[str, Any]) -> Term:
    _no_unknown_keys(list_name, entry, _ENTRY_KEYS)
    for key in ("code", "zh", "en"):
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            raise _format_error(list_name, f"条目缺少 {key} / entry lacks a non-empty string {key!r}: {dict(entry)}")
    code = entry["code"]
    aliases = entry.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip() for a in aliases):
        raise _format_error(list_name, f"aliases 应为字符串数组 / aliases must be a list of strings: {code!r}")
    retired, note = entry.get("retired", False), entry.get("note", "")
    if not isinstance(retired, bool) or not isinstance(note, str):
        raise _format_error(list_name, f"retired 应为布尔值, note 应为字符串 / retired must be a bool, note a string: {code!r}")
    return Term(code, entry["zh"], entry["en"], tuple(aliases), retired, note)


def _parse_line(where: str, jurisdiction: str, entry: Mapping[str, Any]) -> PovertyLine:
    _no_unknown_keys(where, entry, _LINE_KEYS)
    year, yuan = entry.get("year"), entry.get("yuan")
    approximate, note = entry.get("approximate", False), entry.get("note", "")
    if not (isinstance(year, int) and isinstance(yuan, int)) or isinstance(year, bool) or isinstance(yuan, bool) or year <= 0 or yuan <= 0:
        raise _format_error(where, f"year 和 yuan 应为正整数 / year and yuan must be positive integers: {dict(entry)}")
    if not isinstance(approximate, bool) or not isinstance(note, str):
        raise _format_error(where, f"approximate 应为布尔值 / approximate must be a bool, note a string: {dict(entry)}")
    return PovertyLine(year, yuan, jurisdiction, approximate, note)


def _no_unknown_keys(where: str, entry: Mapping[str, Any], allowed: frozenset[str]) -> None:
    unknown = sorted(set(entry) - allowed)
    if unknown:
        raise _format_error(where, f"未知字段 {unknown} / unknown keys {unknown}; allowed: {sorted(allowed)}")


def _index_list(list_name: str, terms: tuple[Term, ...]) -> dict[str, Term]:
    index: dict[str, Term] = {}
    for term in terms:
        for spelling in term.keys():
            key = normalize_key(spelling)
            other = index.setdefault(key, term)
            if other.code != term.code:
                both_zh = f"{spelling!r} 同时指向 {other.code!r} 和 {term.code!r}"
                both_en = f"{spelling!r} names both {other.code!r} and {term.code!r}"
                raise _format_error(list_name, f"{both_zh} / {both_en}")
    return index


def _jurisdiction_chain(jurisdiction: str | None) -> list[str]:
    if not jurisdiction:
        return []
    code = jurisdiction.strip()
    if not code.isdigit() or len(code) not in (6, 9, 12):
        return [code]
    chain = [code]
    if len(code) == 12:
        chain.append(code[:9])
    if len(code) >= 9:
        chain.append(code[:6])
    chain += [code[:4] + "00", code[:2] + "0000"]
    # dict.fromkeys keeps order and drops repeats (a city code is its own city).
    return list(dict.fromkeys(chain))


def _format_error(where: str, reason: str) -> ValidationError:
    return ValidationError.of(where, f"词表格式错误 / vocabulary format error: {reason}")


#: The vocabulary of the store at work, while fupin builds or checks a record (see :func:`current_vocabulary`).
_ACTIVE: contextvars.ContextVar[Vocabulary | None] = contextvars.ContextVar("fupin_vocabulary", default=None)


def current_vocabulary(default: Vocabulary | None = None) -> Vocabulary:
    """The vocabulary to check values against inside a details converter or validator.

    While fupin structures an action's details or asks ``fupin_validate_record``
    for a store, this is the store's vocabulary: the packaged lists merged with
    every plugin's ``fupin_vocabularies``, a province's extension of another
    plugin's list included. Outside that (a record built by hand, with no store),
    it is ``default``, or the packaged vocabulary.
    """
    active = _ACTIVE.get()
    if active is not None:
        return active
    return default if default is not None else Vocabulary.default()


@contextlib.contextmanager
def using_vocabulary(vocab: Vocabulary | None) -> Iterator[None]:
    """Make ``vocab`` the :func:`current_vocabulary` inside the block (``None``: leave it as it is)."""
    if vocab is None:
        yield
        return
    token = _ACTIVE.set(vocab)
    try:
        yield
    finally:
        _ACTIVE.reset(token)
