"""Plans (实施方案) as data: the model, the TOML loader and a text rendering.

A plan is what a helping unit promised its paired village(s): who takes part,
for how long, and a list of commitments, each a measurable target with
parameters. Plans are TOML files; the format is documented at the top of the
packaged reference plan ``fupin/data/plans/qjnu-tuomu.toml``. Nothing about a
particular unit or village lives in this module.

Example:
    >>> plan = load_plan("qjnu-tuomu")
    >>> plan.commitment("C02").params["min_amount_fen"]
    40000000
"""

from __future__ import annotations

import datetime as dt
import importlib.resources
import os
import re
import tomllib
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

import attrs

from fupin.errors import PlanError
from fupin.serial import Serialisable
from fupin.text import display_width, pad, table, yuan
from fupin.tomlread import KINDS, TomlReader, describe, is_date, is_int, join, toml_reason

__all__ = [
    "FORMAT_VERSION",
    "AreaRef",
    "CadreRank",
    "Cadres",
    "Commitment",
    "HelpingUnit",
    "Plan",
    "Village",
    "VillageProfile",
    "load_plan",
    "packaged_plans",
    "render_plan",
]

#: The plan-file format this module reads.
FORMAT_VERSION = 1

# Other units number their commitments with their own prefixes ("EDU3", "QJ_C12").
_COMMITMENT_ID = re.compile(r"[A-Z][A-Z0-9_]*\d+")
_TARGET = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")
_PLAN_NAME = re.compile(r"[a-z0-9][a-z0-9._-]*")
_YEAR = re.compile(r"\d{4}")

_NO_EXPORT = {"export": False}


# --------------------------------------------------------------------------- model


def _freeze(value: Any) -> Any:
    """Return a read-only deep copy: tables become mapping proxies, arrays tuples."""
    if isinstance(value, Mapping):
        return types.MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    return value


def _empty() -> Mapping[str, Any]:
    return types.MappingProxyType({})


@attrs.frozen
class AreaRef:
    """An administrative area above a village, as named in a plan.

    Attributes:
        level: ``"province"``, ``"city"``, ``"county"``, ``"town"``, ...
        code: The division code (GB/T 2260 or the 12-digit statistical code).
        name_zh: Chinese name.
        name_en: English name, may be empty.
    """

    level: str
    code: str
    name_zh: str
    name_en: str = ""


@attrs.frozen
class VillageProfile:
    """Facts about a village for one year, as the plan states them.

    Figures are kept as stated, even where they disagree with each other; keys
    ending in ``_stated`` mark figures known to disagree. Keys the plan file
    adds beyond the typed ones are kept in ``extra``.
    """

    year: int
    households: int | None = None
    population: int | None = None
    area_km2: float | None = None
    altitude_m: float | None = None
    mean_temp_c: float | None = None
    rainfall_mm: float | None = None
    arable_mu: float | None = None
    arable_mu_per_person_stated: float | None = None
    net_income_per_capita_fen: int | None = None
    earth_wood_houses: int | None = None
    poor_households: int | None = None
    poor_people: int | None = None
    migrant_workers: int | None = None
    villager_groups: tuple[str, ...] = ()
    extra: Mapping[str, Any] = attrs.field(factory=_empty, hash=False)


# Typed profile figures and whether each must be an integer.
_PROFILE_FIGURES: dict[str, bool] = {
    "households": True,
    "population": True,
    "area_km2": False,
    "altitude_m": False,
    "mean_temp_c": False,
    "rainfall_mm": False,
    "arable_mu": False,
    "arable_mu_per_person_stated": False,
    "net_income_per_capita_fen": True,
    "earth_wood_houses": True,
    "poor_households": True,
    "poor_people": True,
    "migrant_workers": True,
}


@attrs.frozen
class Village:
    """A village the plan helps.

    Attributes:
        code: The 12-digit statistical code.
        name_zh: Chinese name.
        name_en: English name, may be empty.
        code_is_placeholder: True when the real code is not known and ``code``
            stands in for it until configured.
        parents: The areas above the village, largest first.
        profile: The village facts stated in the plan, if any.
    """

    code: str
    name_zh: str
    name_en: str = ""
    code_is_placeholder: bool = False
    parents: tuple[AreaRef, ...] = ()
    profile: VillageProfile | None = None

    def parent(self, level: str) -> AreaRef | None:
        """Return the area above the village at ``level`` (e.g. ``"town"``), or None."""
        return next((a for a in self.parents if a.level == level), None)


@attrs.frozen
class HelpingUnit:
    """The organisation that made the plan (挂包帮 helping unit)."""

    code: str
    name_zh: str
    name_en: str = ""


@attrs.frozen
class CadreRank:
    """Cadres of one rank taking part, and each one's household quotas.

    Attributes:
        rank: The rank as the plan names it (``"厅级"``, ``"处级"``).
        count: Head count of cadres of this rank.
        key_help: Key-help (重点帮扶) households per cadre, None if not set.
        contact: Contact (联系) households per cadre, None if not set.
        rank_en: English name of the rank.
        who_zh: Who the rank covers, in Chinese.
        who_en: Who the rank covers, in English.
    """

    rank: str
    count: int
    key_help: int | None = None
    contact: int | None = None
    rank_en: str = ""
    who_zh: str = ""
    who_en: str = ""


@attrs.frozen
class Cadres:
    """Cadre participation and quotas, with the totals the plan states.

    The ``stated_*`` figures are kept exactly as written; compare them with
    :meth:`head_count` and :meth:`quota_totals` to find disagreements.
    """

    ranks: tuple[CadreRank, ...] = ()
    stated_total: int | None = None
    stated_visited: int | None = None
    stated_key_help: int | None = None
    stated_contact: int | None = None

    def rank(self, rank: str) -> CadreRank:
        """Return the entry for ``rank``.

        Raises:
            PlanError: The plan has no such rank.
        """
        for entry in self.ranks:
            if entry.rank == rank:
                return entry
        known = ", ".join(r.rank for r in self.ranks) or "none"
        raise PlanError(f'cadres.ranks: no rank "{rank}" (ranks: {known})')

    def head_count(self) -> int:
        """Return the number of cadres over all ranks."""
        return sum(r.count for r in self.ranks)

    def quota_totals(self) -> dict[str, int]:
        """Return the households the quotas imply: ``{"key_help": n, "contact": n}``."""
        return {
            "key_help": sum(r.count * (r.key_help or 0) for r in self.ranks),
            "contact": sum(r.count * (r.contact or 0) for r in self.ranks),
        }


@attrs.frozen
class Commitment(Serialisable):
    """One promise of a plan, as a measurable target with parameters.

    Attributes:
        id: Identifier unique in the plan (``"C02"``).
        title_zh: What was promised, in Chinese.
        title_en: The same in English, may be empty.
        section: The plan section that makes the promise (``"六(一)"``).
        target: Name of the target kind that evaluates it, namespaced by the
            package that provides it (``"funding.budget_per_year"``).
        params: The target's parameters (read-only; dates are ``datetime.date``,
            money is integer fen in keys ending ``_fen``).
        measurable_as_zh: How it is measured, in Chinese.
        measurable_as_en: How it is measured, in English.
        see_also: Further plan sections that repeat the promise.
        note_zh: A remark, in Chinese.
        note_en: A remark, in English.
    """

    id: str
    title_zh: str
    title_en: str
    section: str
    target: str
    params: Mapping[str, Any] = attrs.field(factory=_empty, hash=False)
    measurable_as_zh: str = ""
    measurable_as_en: str = ""
    see_also: tuple[str, ...] = ()
    note_zh: str = ""
    note_en: str = ""

    def title(self, lang: str = "zh") -> str:
        """Return the title in ``lang`` ("zh" or "en"), falling back to Chinese."""
        return (self.title_en if lang == "en" else "") or self.title_zh


@attrs.frozen
class Plan(Serialisable):
    """A helping unit's plan for its village(s): period, cadres, commitments.

    Build one with :meth:`from_toml`, :meth:`from_path` or :func:`load_plan`.
    Two plans are equal when their content is equal, wherever they were read
    from.

    Attributes:
        name: Short name (``"qjnu-tuomu"``).
        title_zh: Title in Chinese.
        title_en: Title in English, may be empty.
        helping_unit: The unit that made the plan.
        villages: The villages it helps.
        period_start: First day of the plan.
        period_end: Last day of the plan.
        commitments: The commitments, in file order.
        issued: Date the plan was issued, if known.
        issuer_zh: Who issued it, in Chinese.
        issuer_en: Who issued it, in English.
        source: Title of the source document.
        source_url: Where the source document was published.
        cadres: Cadre participation and quotas.
        calendar: Dates of movable yearly events by name then year
            (``calendar["spring_festival"][2016]``).
        plugins: Each plugin's own parameters, from ``[plugins.NAME]``.
        data: The whole parsed file, read-only, for plugins that need their
            own sections.
        origin: The file name or label the plan was read from (for messages).
        source_path: The file the plan was read from, if any.
        text: The TOML text the plan was parsed from (stored with the plan).
    """

    name: str
    title_zh: str
    title_en: str
    helping_unit: HelpingUnit
    villages: tuple[Village, ...]
    period_start: dt.date
    period_end: dt.date
    commitments: tuple[Commitment, ...]
    issued: dt.date | None = None
    issuer_zh: str = ""
    issuer_en: str = ""
    source: str = ""
    source_url: str = ""
    cadres: Cadres = attrs.field(factory=Cadres)
    calendar: Mapping[str, Mapping[int, dt.date]] = attrs.field(factory=_empty, hash=False)
    plugins: Mapping[str, Mapping[str, Any]] = attrs.field(factory=_empty, hash=False)
    data: Mapping[str, Any] = attrs.field(
        factory=_empty, eq=False, repr=False, metadata=_NO_EXPORT
    )
    origin: str = attrs.field(default="<string>", eq=False, metadata=_NO_EXPORT)
    source_path: Path | None = attrs.field(default=None, eq=False, metadata=_NO_EXPORT)
    text: str = attrs.field(default="", eq=False, repr=False, metadata=_NO_EXPORT)

    @classmethod
    def from_toml(cls, text: str, *, source: str = "<string>", path: Path | None = None) -> Plan:
        """Parse and validate a plan from TOML text.

        Args:
            text: The TOML document.
            source: The file name or label to name in error messages.
            path: The file the text came from, kept as ``source_path``.

        Raises:
            PlanError: The text is not valid TOML or not a valid plan; the
                message names ``source``, the key path and the reason.
        """
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise PlanError(f"{source}: invalid TOML: {toml_reason(exc, text)}") from None
        return attrs.evolve(_Reader(source).plan(data, path), text=text)

    @classmethod
    def from_path(cls, path: str | os.PathLike[str], *, source: str | None = None) -> Plan:
        """Read a plan from a TOML file (UTF-8, with or without a BOM).

        Args:
            path: The file.
            source: The label for error messages; the path as given by default.

        Raises:
            PlanError: The file cannot be read or is not a valid plan.
        """
        p = Path(path)
        label = source or str(path)
        try:
            text = p.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            raise PlanError(f"{label}: not UTF-8 text (byte {exc.start})") from None
        except OSError as exc:
            raise PlanError(f"{label}: cannot read plan: {exc.strerror or exc}") from None
        return cls.from_toml(text, source=label, path=p)

    def commitment(self, id: str) -> Commitment:
        """Return the commitment with this id.

        Raises:
            PlanError: The plan has no such commitment.
        """
        for c in self.commitments:
            if c.id == id:
                return c
        raise PlanError(f'{self.origin}: no commitment with id "{id}"')

    def years(self) -> list[int]:
        """Return the calendar years the plan period touches, in order."""
        return list(range(self.period_start.year, self.period_end.year + 1))

    def calendar_date(self, event: str, year: int) -> dt.date:
        """Return the date of a movable yearly ``event`` in ``year``.

        Raises:
            PlanError: The plan's calendar lacks the event or the year.
        """
        dates = self.calendar.get(event)
        if dates is None:
            raise PlanError(f"{self.origin}: calendar.{event}: no such calendar in the plan")
        if year not in dates:
            raise PlanError(f"{self.origin}: calendar.{event}: no date for {year}")
        return dates[year]

    def spring_festival(self, year: int) -> dt.date:
        """Return the date of the Spring Festival (春节) in ``year``.

        Raises:
            PlanError: ``[calendar.spring_festival]`` lacks the year.
        """
        return self.calendar_date("spring_festival", year)


# --------------------------------------------------------------------------- loading


class _Reader(TomlReader):
    """Validates a parsed plan file and builds the model; raises on the first problem."""

    def count(self, table: Mapping[str, Any], key: str, prefix: str, *, required: bool) -> int | None:
        value = self.get(table, key, prefix, "integer", required=required)
        if value is not None and value < 0:
            self.fail(join(prefix, key), f"must not be negative, got {value}")
        return cast("int | None", value)

    def money(self, value: Any, path: str) -> None:
        """Every value under a key ending in ``_fen`` must be integer fen."""
        if isinstance(value, dict):
            for k, v in value.items():
                sub = join(path, k)
                if k.endswith("_fen"):
                    ok = is_int(v) or (isinstance(v, list) and all(is_int(x) for x in v))
                    if not ok:
                        self.fail(sub, f"money must be an integer number of fen, got {describe(v)}")
                else:
                    self.money(v, sub)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                self.money(v, f"{path}[{i}]")

    # -- sections

    def plan(self, data: dict[str, Any], path: Path | None) -> Plan:
        self.only(data, ["format_version", "plan", "cadres", "commitments", "calendar", "plugins"], "")
        version = self.get(data, "format_version", "", "integer", required=False, default=1)
        if version != FORMAT_VERSION:
            self.fail("format_version", f"this fupin reads format {FORMAT_VERSION}, not {version}")
        self.money(data, "")

        head = self.get(data, "plan", "", "table")
        self.only(
            head,
            [
                "name", "title_zh", "title_en", "issued", "issuer_zh", "issuer_en",
                "source", "source_url", "period", "helping_unit", "villages",
            ],
            "plan",
        )
        name = self.get(head, "name", "plan", "string")
        if not _PLAN_NAME.fullmatch(name):
            self.fail("plan.name", f'"{name}" is not a plan name (lower-case letters, digits, ".", "_", "-")')

        period = self.get(head, "period", "plan", "table")
        self.only(period, ["start", "end"], "plan.period")
        start = self.get(period, "start", "plan.period", "date")
        end = self.get(period, "end", "plan.period", "date")
        if end < start:
            self.fail("plan.period.end", f"{end} is before plan.period.start {start}")

        unit = self.get(head, "helping_unit", "plan", "table")
        self.only(unit, ["code", "name_zh", "name_en"], "plan.helping_unit")
        helping_unit = HelpingUnit(
            code=self.get(unit, "code", "plan.helping_unit", "string"),
            name_zh=self.get(unit, "name_zh", "plan.helping_unit", "string"),
            name_en=self.get(unit, "name_en", "plan.helping_unit", "string", required=False, default=""),
        )

        villages = self.get(head, "villages", "plan", "tables")
        if not villages:
            self.fail("plan.villages", "a plan needs at least one village")

        commitments = self.get(data, "commitments", "", "tables")
        seen: dict[str, int] = {}
        parsed = []
        for i, entry in enumerate(commitments):
            c = self.commitment(entry, f"commitments[{i}]")
            if c.id in seen:
                self.fail(
                    f"commitments[{i}].id",
                    f'duplicate id "{c.id}" (first at commitments[{seen[c.id]}])',
                )
            seen[c.id] = i
            parsed.append(c)

        plugins = self.get(data, "plugins", "", "table", required=False, default={})
        for key, value in plugins.items():
            if not isinstance(value, dict):
                self.fail(f"plugins.{key}", f"expected a table, got {describe(value)}")

        return Plan(
            name=name,
            title_zh=self.get(head, "title_zh", "plan", "string"),
            title_en=self.get(head, "title_en", "plan", "string", required=False, default=""),
            helping_unit=helping_unit,
            villages=tuple(self.village(v, f"plan.villages[{i}]") for i, v in enumerate(villages)),
            period_start=start,
            period_end=end,
            commitments=tuple(parsed),
            issued=self.get(head, "issued", "plan", "date", required=False),
            issuer_zh=self.get(head, "issuer_zh", "plan", "string", required=False, default=""),
            issuer_en=self.get(head, "issuer_en", "plan", "string", required=False, default=""),
            source=self.get(head, "source", "plan", "string", required=False, default=""),
            source_url=self.get(head, "source_url", "plan", "string", required=False, default=""),
            cadres=self.cadres(self.get(data, "cadres", "", "table", required=False, default={})),
            calendar=self.calendar(self.get(data, "calendar", "", "table", required=False, default={})),
            plugins=_freeze(plugins),
            data=_freeze(data),
            origin=self.source,
            source_path=path,
        )

    def village(self, table: dict[str, Any], prefix: str) -> Village:
        self.only(table, ["code", "code_is_placeholder", "name_zh", "name_en", "parents", "profile"], prefix)
        parents = []
        for i, p in enumerate(self.get(table, "parents", prefix, "tables", required=False, default=[])):
            where = f"{prefix}.parents[{i}]"
            self.only(p, ["level", "code", "name_zh", "name_en"], where)
            parents.append(
                AreaRef(
                    level=self.get(p, "level", where, "string"),
                    code=self.get(p, "code", where, "string"),
                    name_zh=self.get(p, "name_zh", where, "string"),
                    name_en=self.get(p, "name_en", where, "string", required=False, default=""),
                )
            )
        profile = self.get(table, "profile", prefix, "table", required=False)
        return Village(
            code=self.get(table, "code", prefix, "string"),
            name_zh=self.get(table, "name_zh", prefix, "string"),
            name_en=self.get(table, "name_en", prefix, "string", required=False, default=""),
            code_is_placeholder=self.get(
                table, "code_is_placeholder", prefix, "boolean", required=False, default=False
            ),
            parents=tuple(parents),
            profile=None if profile is None else self.profile(profile, f"{prefix}.profile"),
        )

    def profile(self, table: dict[str, Any], prefix: str) -> VillageProfile:
        figures = {
            key: self.get(table, key, prefix, "integer" if whole else "number", required=False)
            for key, whole in _PROFILE_FIGURES.items()
        }
        for key, value in figures.items():
            if value is not None and value < 0 and key != "mean_temp_c":
                self.fail(join(prefix, key), f"must not be negative, got {value}")
        known = {"year", "villager_groups", *_PROFILE_FIGURES}
        return VillageProfile(
            year=self.get(table, "year", prefix, "integer"),
            villager_groups=tuple(self.get(table, "villager_groups", prefix, "strings", required=False, default=[])),
            extra=_freeze({k: v for k, v in table.items() if k not in known}),
            **figures,
        )

    def cadres(self, table: dict[str, Any]) -> Cadres:
        self.only(table, ["ranks", "stated"], "cadres")
        ranks: list[CadreRank] = []
        for i, r in enumerate(self.get(table, "ranks", "cadres", "tables", required=False, default=[])):
            where = f"cadres.ranks[{i}]"
            self.only(r, ["rank", "rank_en", "who_zh", "who_en", "count", "key_help", "contact"], where)
            rank = CadreRank(
                rank=self.get(r, "rank", where, "string"),
                count=cast(int, self.count(r, "count", where, required=True)),
                key_help=self.count(r, "key_help", where, required=False),
                contact=self.count(r, "contact", where, required=False),
                rank_en=self.get(r, "rank_en", where, "string", required=False, default=""),
                who_zh=self.get(r, "who_zh", where, "string", required=False, default=""),
                who_en=self.get(r, "who_en", where, "string", required=False, default=""),
            )
            if any(x.rank == rank.rank for x in ranks):
                self.fail(f"{where}.rank", f'duplicate rank "{rank.rank}"')
            ranks.append(rank)
        stated = self.get(table, "stated", "cadres", "table", required=False, default={})
        self.only(stated, ["total", "visited", "key_help", "contact"], "cadres.stated")
        return Cadres(
            ranks=tuple(ranks),
            stated_total=self.count(stated, "total", "cadres.stated", required=False),
            stated_visited=self.count(stated, "visited", "cadres.stated", required=False),
            stated_key_help=self.count(stated, "key_help", "cadres.stated", required=False),
            stated_contact=self.count(stated, "contact", "cadres.stated", required=False),
        )

    def commitment(self, table: dict[str, Any], prefix: str) -> Commitment:
        self.only(
            table,
            [
                "id", "section", "see_also", "title_zh", "title_en", "target", "params",
                "measurable_as_zh", "measurable_as_en", "note_zh", "note_en",
            ],
            prefix,
        )
        cid = self.get(table, "id", prefix, "string")
        if not _COMMITMENT_ID.fullmatch(cid):
            self.fail(f"{prefix}.id", f'"{cid}" is not a commitment id (like "C01": capitals, then digits)')
        target = self.get(table, "target", prefix, "string")
        if not _TARGET.fullmatch(target):
            self.fail(f"{prefix}.target", f'"{target}" is not a namespaced target name (like "core.roles")')

        def text(key: str) -> str:
            return cast(str, self.get(table, key, prefix, "string", required=False, default=""))

        return Commitment(
            id=cid,
            title_zh=self.get(table, "title_zh", prefix, "string"),
            title_en=text("title_en"),
            section=self.get(table, "section", prefix, "string"),
            target=target,
            params=_freeze(self.get(table, "params", prefix, "table", required=False, default={})),
            measurable_as_zh=text("measurable_as_zh"),
            measurable_as_en=text("measurable_as_en"),
            see_also=tuple(self.get(table, "see_also", prefix, "strings", required=False, default=[])),
            note_zh=text("note_zh"),
            note_en=text("note_en"),
        )

    def calendar(self, table: dict[str, Any]) -> Mapping[str, Mapping[int, dt.date]]:
        events: dict[str, dict[int, dt.date]] = {}
        for event, dates in table.items():
            if not isinstance(dates, dict):
                self.fail(f"calendar.{event}", f"expected a table of YEAR = date, got {describe(dates)}")
            events[event] = {}
            for key, day in dates.items():
                where = f"calendar.{event}.{key}"
                if not _YEAR.fullmatch(key):
                    self.fail(where, "key must be a four-digit year")
                if not is_date(day):
                    self.fail(where, f"expected {KINDS['date'][1]}, got {describe(day)}")
                if day.year != int(key):
                    self.fail(where, f"date {day} is not in {key}")
                events[event][int(key)] = day
        return cast("Mapping[str, Mapping[int, dt.date]]", _freeze(events))


# --------------------------------------------------------------------------- finding plans


def _plans_dir() -> Any:
    return importlib.resources.files("fupin") / "data" / "plans"


def packaged_plans() -> list[str]:
    """Return the names of the plans shipped with fupin, sorted."""
    return sorted(
        entry.name.removesuffix(".toml")
        for entry in _plans_dir().iterdir()
        if entry.name.endswith(".toml") and entry.is_file()
    )


def load_plan(name_or_path: str | os.PathLike[str]) -> Plan:
    """Load a plan from a ``.toml`` file or by the name of a packaged plan.

    Args:
        name_or_path: A path to a plan file, or a packaged plan's name
            (``"qjnu-tuomu"``, see :func:`packaged_plans`).

    Raises:
        PlanError: No such file or packaged plan, or the plan is invalid.
    """
    if isinstance(name_or_path, os.PathLike):
        return Plan.from_path(name_or_path)
    text = str(name_or_path)
    if text.endswith(".toml") or "/" in text or os.sep in text or Path(text).is_file():
        return Plan.from_path(text)
    resource = _plans_dir() / f"{text}.toml"
    if not resource.is_file():
        known = ", ".join(packaged_plans()) or "none"
        raise PlanError(f'no packaged plan named "{text}" (packaged: {known}); give a path to a .toml file')
    if isinstance(resource, Path):
        return Plan.from_path(resource, source=resource.name)
    return Plan.from_toml(resource.read_text(encoding="utf-8"), source=f"{text}.toml")


# --------------------------------------------------------------------------- rendering


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}={_fmt(v)}" for k, v in value.items()) + "}"
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    return str(value)


def _dash(value: int | None) -> str:
    return "-" if value is None else str(value)


_LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "name": "方案", "unit": "帮扶单位", "villages": "帮扶村", "period": "期限", "to": "至",
        "issued": "印发", "source": "来源", "placeholder": "代码为占位", "profile": "村情",
        "as_stated": "方案所述", "groups": "村民小组", "problems": "存在问题", "note": "备注",
        "cadres": "参加干部与结对标准", "rank": "级别", "count": "人数", "key_help": "重点帮扶户/人",
        "contact": "联系户/人", "stated": "方案所述合计", "total": "干部", "visited": "遍访户",
        "key_help_total": "重点帮扶户", "contact_total": "联系户",
        "commitments": "承诺", "id": "编号", "section": "章节", "title": "内容", "target": "目标",
        "params": "参数", "yuan": "元", "sep": "，", "list_sep": "、",
    },
    "en": {
        "name": "Plan", "unit": "Helping unit", "villages": "Villages", "period": "Period", "to": "to",
        "issued": "Issued", "source": "Source", "placeholder": "code is a placeholder", "profile": "Village profile",
        "as_stated": "as stated", "groups": "villager groups", "problems": "problems", "note": "note",
        "cadres": "Cadres and quotas", "rank": "rank", "count": "count", "key_help": "key-help each",
        "contact": "contact each", "stated": "Stated totals", "total": "cadres", "visited": "visited",
        "key_help_total": "key-help", "contact_total": "contact",
        "commitments": "Commitments", "id": "id", "section": "section", "title": "title", "target": "target",
        "params": "params", "yuan": "yuan", "sep": ", ", "list_sep": ", ",
    },
}

_PROFILE_LABELS: dict[str, tuple[str, str]] = {
    "households": ("户数", "households"),
    "population": ("人口", "population"),
    "area_km2": ("国土面积(平方公里)", "area (km²)"),
    "altitude_m": ("海拔(米)", "altitude (m)"),
    "mean_temp_c": ("年平均气温(℃)", "mean temperature (℃)"),
    "rainfall_mm": ("年降水量(毫米)", "rainfall (mm/yr)"),
    "arable_mu": ("耕地面积(亩)", "arable land (mu)"),
    "arable_mu_per_person_stated": ("人均耕地(亩,所述)", "arable per person (mu, stated)"),
    "net_income_per_capita_fen": ("人均纯收入", "net income per capita"),
    "earth_wood_houses": ("土木结构住房户", "earth-and-wood houses"),
    "poor_households": ("贫困户", "poor households"),
    "poor_people": ("贫困人口", "poor people"),
    "migrant_workers": ("外出务工人员", "migrant workers"),
}


def _bilingual(item: Any, lang: str) -> str:
    """Text of a {zh=..., en=...} or {name_zh=..., name_en=...} table, or the value itself."""
    if isinstance(item, Mapping):
        for key in ((lang, "zh") if lang == "en" else ("zh",)):
            for k in (key, f"name_{key}"):
                if item.get(k):
                    return str(item[k])
        return _fmt(item)
    return str(item)


def _in(lang: str, zh: str, en: str) -> str:
    return (en if lang == "en" else "") or zh


def render_plan(plan: Plan, lang: str = "zh") -> str:
    """Render a plan as readable text, for ``fupin plan show``.

    Args:
        plan: The plan.
        lang: ``"zh"`` (default) or ``"en"``; English falls back to Chinese
            wherever the plan has no English text.

    Returns:
        The text: header, village profiles, cadres and quotas, and a table of
        all commitments, aligned for terminals where CJK characters take two
        columns.
    """
    t = _LABELS["en" if lang == "en" else "zh"]
    title = _in(lang, plan.title_zh, plan.title_en)
    out = [title, "=" * min(display_width(title), 100)]

    unit = plan.helping_unit
    head: list[tuple[str, str]] = [
        (t["name"], plan.name),
        (t["unit"], f"{_in(lang, unit.name_zh, unit.name_en)} ({unit.code})"),
    ]
    for v in plan.villages:
        names = [_in(lang, a.name_zh, a.name_en) for a in v.parents]
        # Chinese addresses run from the province down, English ones upwards.
        areas = ", ".join(reversed(names)) if lang == "en" else "".join(names)
        code = f"{v.code} ({t['placeholder']})" if v.code_is_placeholder else v.code
        head.append((t["villages"], t["sep"].join([_in(lang, v.name_zh, v.name_en), areas, code])))
    head.append((t["period"], f"{plan.period_start} {t['to']} {plan.period_end}"))
    if plan.issued:
        head.append((t["issued"], f"{plan.issued} {_in(lang, plan.issuer_zh, plan.issuer_en)}".rstrip()))
    if plan.source:
        head.append((t["source"], plan.source))
    out += _pairs(head, indent="")

    for v in plan.villages:
        p = v.profile
        if p is None:
            continue
        out += ["", f"{t['profile']}: {_in(lang, v.name_zh, v.name_en)} ({p.year}, {t['as_stated']})"]
        rows = []
        for key, (zh, en) in _PROFILE_LABELS.items():
            value = getattr(p, key)
            if value is None:
                continue
            shown = f"{yuan(value)} {t['yuan']}" if key.endswith("_fen") else f"{value:,}"
            rows.append((_in(lang, zh, en), shown))
        if p.villager_groups:
            rows.append((t["groups"], t["list_sep"].join(p.villager_groups)))
        if p.extra.get("problems"):
            rows.append((t["problems"], t["sep"].join(_bilingual(x, lang) for x in p.extra["problems"])))
        note = _in(lang, str(p.extra.get("note_zh", "")), str(p.extra.get("note_en", "")))
        if note:
            rows.append((t["note"], note))
        out += _pairs(rows)

    cadres = plan.cadres
    if cadres.ranks or cadres.stated_total is not None:
        out += ["", t["cadres"]]
        out += table(
            [t["rank"], t["count"], t["key_help"], t["contact"]],
            [
                [_in(lang, r.rank, r.rank_en), str(r.count), _dash(r.key_help), _dash(r.contact)]
                for r in cadres.ranks
            ],
        )
        stated = [
            (t["total"], cadres.stated_total),
            (t["visited"], cadres.stated_visited),
            (t["key_help_total"], cadres.stated_key_help),
            (t["contact_total"], cadres.stated_contact),
        ]
        shown = t["sep"].join(f"{k} {v}" for k, v in stated if v is not None)
        if shown:
            out.append(f"  {t['stated']}: {shown}")

    out += ["", f"{t['commitments']} ({len(plan.commitments)})"]
    out += table(
        [t["id"], t["section"], t["title"], t["target"], t["params"]],
        [
            [c.id, c.section, c.title(lang), c.target, _fmt(dict(c.params))[1:-1]]
            for c in plan.commitments
        ],
    )
    return "\n".join(out) + "\n"


def _pairs(rows: list[tuple[str, str]], indent: str = "  ") -> list[str]:
    width = max((display_width(k) for k, _ in rows), default=0)
    return [f"{indent}{pad(k, width)}  {v}".rstrip() for k, v in rows]
