"""Readable renderings: the household card and the yearly report. Chinese first, English available.

Personal data (ID numbers, phone numbers, bank accounts) is masked in every
rendering here; the yearly report (:func:`build_report`, ``fupin report``)
shows counts and record numbers only.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs
import sqlalchemy as sa

from fupin.charts import Chart, Series
from fupin.checks import CheckResult, Status
from fupin.errors import ValidationError
from fupin.serial import Serialisable, plain
from fupin.storage import schema as S
from fupin.store import HouseholdCard
from fupin.text import mask_account, mask_id, mask_phone, table, yuan
from fupin.vocab import Vocabulary

if TYPE_CHECKING:
    from fupin.plans import Plan


def _label(vocab: Vocabulary, list_name: str, value: str | None, lang: str) -> str:
    if value is None:
        return "-"
    return vocab.label(list_name, value, lang=lang) if lang == "en" else value


def household_card_dict(card: HouseholdCard) -> dict[str, Any]:
    """The card as ``fupin show household --json`` prints it: :meth:`HouseholdCard.to_dict` (masked as the
    card is, and masked again here if it was not), with the villager group's name, each action summed up
    (id, kind, start, end, title, amount_fen) and each problem as one line."""
    data = card.to_dict()
    h = data["household"]
    h["phone"], h["bank_account"] = mask_phone(h.get("phone")), mask_account(h.get("bank_account"))
    for member in data["members"]:
        member["id_number"], member["phone"] = mask_id(member["id_number"]), mask_phone(member.get("phone"))
    for tag in data["tags"]:
        tag["id_number"] = mask_id(tag["id_number"])
    data["group"] = card.group.name if card.group else None
    data["actions"] = [{key: a[key] for key in ("id", "kind", "start", "end", "title", "amount_fen")} for a in data["actions"]]
    data["problems"] = [str(p) for p in card.problems]
    return data


def render_household_card(card: HouseholdCard, vocab: Vocabulary, lang: str = "zh") -> str:
    """The card as text, like the printed 扶贫手册 page."""
    zh = lang != "en"
    h = card.household
    t = (lambda a, b: a) if zh else (lambda a, b: b)
    lines = [
        t(f"贫困户建档立卡信息  户编号 {h.number}", f"Household registration card  number {h.number}"),
        "",
        f"  {t('户主', 'head')}: {h.head_name}    {t('村民小组', 'villager group')}: "
        f"{card.group.name if card.group else h.group_code}",
        f"  {t('贫困户属性', 'attribute')}: {_label(vocab, 'household_attribute', h.attribute, lang)}    "
        f"{t('脱贫状态', 'status')}: {_label(vocab, 'household_status', h.status, lang)}",
        f"  {t('主要致贫原因', 'main cause')}: {_label(vocab, 'poverty_cause', h.main_cause, lang)}    "
        f"{t('其他致贫原因', 'other causes')}: "
        + (("、" if zh else ", ").join(_label(vocab, "poverty_cause", c, lang) for c in h.other_causes) or "-"),
    ]
    if h.net_income_per_capita_fen is not None:
        lines.append(f"  {t('人均纯收入', 'net income per person')}: {yuan(h.net_income_per_capita_fen)} {t('元', 'yuan')}")
    if h.housing_structure:
        lines.append(f"  {t('住房结构', 'housing')}: {_label(vocab, 'housing_structure', h.housing_structure, lang)}")
    if h.phone:
        lines.append(f"  {t('联系电话', 'phone')}: {mask_phone(h.phone)}")
    lines += ["", t(f"家庭成员 ({len(card.members)} 人)", f"Members ({len(card.members)})")]
    rows = [
        [
            p.name,
            _label(vocab, "relation", p.relation, lang),
            _label(vocab, "sex", p.sex, lang),
            p.birth_date.isoformat() if p.birth_date else "-",
            mask_id(p.id_number),
            _label(vocab, "education", p.education, lang),
            _label(vocab, "health", p.health, lang),
            _label(vocab, "labour", p.labour, lang),
        ]
        for p in card.members
    ]
    headers = (
        ["姓名", "与户主关系", "性别", "出生日期", "证件号码", "文化程度", "健康状况", "劳动技能"]
        if zh
        else ["name", "relation", "sex", "born", "ID number", "education", "health", "labour"]
    )
    lines += table(headers, rows)
    if card.tags:
        names = {p.id_number: p.name for p in card.members}
        lines += ["", t("标签", "Tags")]
        for tag in card.tags:
            until = tag.end.isoformat() if tag.end else t("至今", "now")
            lines.append(
                f"  {names.get(tag.id_number, mask_id(tag.id_number))}: "
                f"{_label(vocab, 'person_tag', tag.tag, lang)} ({tag.start.isoformat()} – {until})"
            )
    lines += ["", t("脱贫状态变化", "Status history")]
    for change in card.status_history:
        lines.append(f"  {change.effective.isoformat()}  {_label(vocab, 'household_status', change.status, lang)}  {change.reason}")
    lines += ["", t(f"帮扶记录 ({len(card.actions)} 条)", f"Help received ({len(card.actions)})")]
    for action in card.actions:
        money = f"  {yuan(action.amount_fen)} {t('元', 'yuan')}" if action.amount_fen else ""
        lines.append(f"  {action.start.isoformat()}  {action.kind}  {action.title}{money}")
    if card.problems:
        lines += ["", t("需核对", "To check")]
        lines += [f"  ! {p.reason}" for p in card.problems]
    return "\n".join(lines)


# -- the yearly report (fupin report) -----------------------------------------------------------


#: The parts of the yearly report, in order, as the offices write a 年度帮扶工作总结:
#: key -> (Chinese heading, English heading). ``plan_office`` is an appendix for
#: the plan office (the plan's own problems), not for the leader.
REPORT_PARTS: dict[str, tuple[str, str]] = {
    "profile": ("一、基本情况", "1. The village"),
    "work": ("二、主要工作及成效", "2. Work done and its results"),
    "commitments": ("三、承诺完成情况", "3. Commitments kept"),
    "problems": ("四、存在问题", "4. Problems"),
    "next": ("五、下一步工作打算", "5. Next steps"),
    "appendix": ("附表", "Appendix tables"),
    "plan_office": ("附：规划核查（供规划办）", "Annex: plan review (for the plan office)"),
}


@attrs.frozen
class ReportSection(Serialisable):
    """A section of the yearly report, contributed by the core or a plugin (``fupin_report_sections``).

    Attributes:
        key: a stable id, namespaced by the plugin (``"education.teachers"``).
        title_zh / title_en: the heading.
        paragraphs_zh / paragraphs_en: text, one paragraph each.
        headers_zh / headers_en: column headings of the optional table.
        rows: the table's rows (plain values; counts, never personal data).
        shortfalls_zh / shortfalls_en: what fell short, said plainly (highlighted;
            gathered again under 四、存在问题).
        part: where the section goes in the 年度帮扶工作总结 (:data:`REPORT_PARTS`):
            plugins' streams belong in ``"work"`` (二、主要工作及成效).
        charts: charts drawn with the section (:class:`fupin.charts.Chart`).
        next_steps_zh / next_steps_en: what is due or missing, for 五、下一步工作打算
            (overdue households, unpaid aid ...), said plainly.
        rows_en: the table's rows in English, where a cell is a word (a status, a rank); empty when
            ``rows`` reads the same in both languages. Renderers take :meth:`table_rows`.
    """

    key: str
    title_zh: str
    title_en: str
    paragraphs_zh: tuple[str, ...] = ()
    paragraphs_en: tuple[str, ...] = ()
    headers_zh: tuple[str, ...] = ()
    headers_en: tuple[str, ...] = ()
    rows: tuple[tuple[Any, ...], ...] = ()
    shortfalls_zh: tuple[str, ...] = ()
    shortfalls_en: tuple[str, ...] = ()
    part: str = "work"
    charts: tuple[Chart, ...] = ()
    next_steps_zh: tuple[str, ...] = ()
    next_steps_en: tuple[str, ...] = ()
    rows_en: tuple[tuple[Any, ...], ...] = ()

    def title(self, lang: str) -> str:
        """The heading in ``lang``."""
        return self.title_en if lang == "en" and self.title_en else self.title_zh

    def paragraphs(self, lang: str) -> tuple[str, ...]:
        """The paragraphs in ``lang`` (Chinese when there is no English)."""
        return self.paragraphs_en if lang == "en" and self.paragraphs_en else self.paragraphs_zh

    def headers(self, lang: str) -> tuple[str, ...]:
        """The table headings in ``lang``."""
        return self.headers_en if lang == "en" and self.headers_en else self.headers_zh

    def shortfalls(self, lang: str) -> tuple[str, ...]:
        """The shortfalls in ``lang``."""
        return self.shortfalls_en if lang == "en" and self.shortfalls_en else self.shortfalls_zh

    def table_rows(self, lang: str) -> tuple[tuple[Any, ...], ...]:
        """The table's rows in ``lang`` (``rows_en`` in English when given, else ``rows``)."""
        return self.rows_en if lang == "en" and self.rows_en else self.rows

    def next_steps(self, lang: str) -> tuple[str, ...]:
        """The next steps in ``lang``."""
        return self.next_steps_en if lang == "en" and self.next_steps_en else self.next_steps_zh

    def to_dict(self, lang: str = "zh") -> dict[str, Any]:
        """JSON-ready form in ``lang``: key, part, title, paragraphs, headers, rows, shortfalls, next steps, charts
        (each with its categories and series in ``lang``)."""
        return {
            "key": self.key, "part": self.part, "title": self.title(lang), "paragraphs": plain(self.paragraphs(lang)),
            "headers": plain(self.headers(lang)), "rows": plain(self.table_rows(lang)), "shortfalls": plain(self.shortfalls(lang)),
            "next_steps": plain(self.next_steps(lang)), "charts": [_chart_dict(c, lang) for c in self.charts],
        }


def _chart_dict(chart: Chart, lang: str) -> dict[str, Any]:
    return {
        "key": chart.key, "kind": chart.kind, "title": chart.title(lang), "categories": list(chart.categories(lang)),
        "series": [{"name": s.name(lang), "values": list(s.values), "unit": s.unit_en if lang == "en" else s.unit_zh, "axis": s.axis}
                   for s in chart.series],
        "highlight": list(chart.highlight), "note": chart.note(lang),
    }


@attrs.frozen
class YearlyReport(Serialisable):
    """Everything ``fupin report`` shows for one plan and year."""

    plan: Plan
    year: int
    as_of: dt.date
    results: tuple[CheckResult, ...]
    sections: tuple[ReportSection, ...]

    def to_dict(self, lang: str = "zh") -> dict[str, Any]:
        """JSON-ready form in ``lang``."""
        titles = {c.id: c.title(lang) for c in self.plan.commitments}
        return {
            "plan": self.plan.name,
            "title": self.plan.title_en if lang == "en" and self.plan.title_en else self.plan.title_zh,
            "year": self.year,
            "as_of": plain(self.as_of),
            "commitments": [{**r.to_dict(), "title": titles.get(r.commitment, "")} for r in self.results],
            "parts": [{"key": k, "title": zh if lang != "en" else en} for k, (zh, en) in REPORT_PARTS.items()
                      if any(s.part == k for s in self.sections)],
            "sections": [s.to_dict(lang) for s in self.sections],
        }


def default_as_of(year: int, today: dt.date | None = None) -> dt.date:
    """The day a report of ``year`` is "as of" by default: the year's last day, or today while the year runs."""
    return min(today or dt.date.today(), dt.date(year, 12, 31))


def build_report(store: Any, plan: Any, year: int, *, as_of: dt.date | None = None) -> YearlyReport:
    """The yearly report in the shape of a 年度帮扶工作总结 (:data:`REPORT_PARTS`, in order): 一、基本情况,
    二、主要工作及成效 (plugins' sections by their ``part``), 三、承诺完成情况 (with the year-by-year grid),
    四、存在问题, 五、下一步工作打算, 附表, and the plan office's annex.

    ``as_of`` defaults to the year's last day (today while the year runs): a past year's report is as of
    that year's end.
    """
    from fupin.checks import check_plan

    as_of = as_of or default_as_of(year)
    results = check_plan(store, plan, year, as_of=as_of)
    years = [y for y in plan.years() if y <= year]
    by_year = {y: (results if y == year else check_plan(store, plan, y, as_of=as_of)) for y in years}
    with store.reading("aggregates.read") as conn:
        sheets = cadre_sheets(store, conn, plan, year, as_of)
        core = [
            _profile_section(store, conn, plan, year),
            _incidence_section(store, conn, plan, year, as_of),
            _pairing_section(conn, plan, year, as_of),
            _visit_section(store, conn, plan, year, as_of, results, by_year),
            _cadre_work_section(store, sheets, year),
            _exit_section(store, conn, plan, year, as_of),
            _commitments_section(plan, results, store.vocab),
            _grid_section(plan, year, by_year),
            _cadre_section(store, sheets),
            _evidence_section(plan, results, store.vocab),
            _lint_section(plan),
        ]
    plugins = list(store.hooks.report_sections(store, plan, year, as_of))
    gathered = core + plugins
    core += [_problems_section(store, plan, results, gathered), _next_section(store, plan, year, as_of, gathered)]
    order = list(REPORT_PARTS)
    rank = {k: i for i, k in enumerate(order)}
    sections = sorted(core + plugins, key=lambda s: rank.get(s.part, rank["appendix"]))
    return YearlyReport(plan, year, as_of, tuple(results), tuple(sections))


def _profile_section(store: Any, conn: Any, plan: Any, year: int) -> ReportSection:
    rows = []
    for v in plan.villages:
        stored = conn.execute(
            sa.select(S.village_profiles).where(S.village_profiles.c.village_code == v.code, S.village_profiles.c.year <= year)
            .order_by(S.village_profiles.c.year.desc())
        ).mappings().first()
        p = stored or ({"year": v.profile.year, "households": v.profile.households, "population": v.profile.population,
                        "poor_households": v.profile.poor_households, "poor_people": v.profile.poor_people,
                        "net_income_per_capita_fen": v.profile.net_income_per_capita_fen} if v.profile else None)
        registered = conn.execute(
            sa.select(sa.func.count()).select_from(S.households).where(sa.func.substr(S.households.c.group_code, 1, 12) == v.code)
        ).scalar_one()
        if p:
            income = p["net_income_per_capita_fen"]
            rows.append((v.name_zh, p["year"], p["households"], p["population"], p["poor_households"], p["poor_people"],
                         yuan(income) if income is not None else "-", registered))
    return ReportSection(
        "core.profile", "村情概况", "Village profile", part="profile",
        headers_zh=("村", "年份", "户数", "人口", "贫困户", "贫困人口", "人均纯收入(元)", "已建档户"),
        headers_en=("village", "year", "households", "population", "poor households", "poor people", "income per person (yuan)", "registered"),
        rows=tuple(rows),
    )


def _plan_households(plan: Any) -> sa.Select:
    from fupin.queries import plan_villages_condition

    return sa.select(S.households.c.id).where(plan_villages_condition(plan))


def _population(conn: Any, plan: Any, year: int) -> int | None:
    """The registered population of the plan's villages in ``year``: each village's latest profile up to the year."""
    total, found = 0, False
    for v in plan.villages:
        stored = conn.execute(
            sa.select(S.village_profiles.c.population).where(S.village_profiles.c.village_code == v.code, S.village_profiles.c.year <= year)
            .order_by(S.village_profiles.c.year.desc())
        ).scalar()
        if stored is None and v.profile is not None and v.profile.year <= year:
            stored = v.profile.population
        if stored is not None:
            total, found = total + int(stored), True
    return total if found else None


def incidence_by_year(store: Any, conn: Any, plan: Any, year: int, as_of: dt.date) -> list[dict[str, Any]]:
    """贫困发生率 and income, one row per plan year up to ``year``, from the records.

    For each year, on its last day (or ``as_of`` if earlier): ``poor_households`` and ``poor_people`` (members of
    households whose dated status is 未脱贫 or 返贫), ``population`` (the villages' registered population: their
    latest profile up to the year), ``incidence`` (poor people / population, in %, two decimals; None without a
    population), ``income_fen`` (the mean of the households' per-capita income answered in that year's visits,
    whole fen; None without answers) and ``income_households`` (how many households answered).
    """
    from fupin.pairing import POOR_STATUSES
    from fupin.queries import status_on
    from fupin.visits import latest_answers

    from fupin.exits import INCOME_QUESTION

    ids = [i for (i,) in conn.execute(_plan_households(plan))]
    out = []
    for y in [y for y in plan.years() if y <= year]:
        day = min(dt.date(y, 12, 31), as_of)
        st = status_on(day)
        poor = sa.select(st.c.household_id).where(st.c.status.in_(POOR_STATUSES), st.c.household_id.in_(_plan_households(plan)))
        households = conn.execute(sa.select(sa.func.count()).select_from(poor.subquery())).scalar_one()
        people = conn.execute(sa.select(sa.func.count()).select_from(S.persons).where(S.persons.c.household_id.in_(poor))).scalar_one()
        population = _population(conn, plan, y)
        incomes = [
            int(answers[INCOME_QUESTION]) for _, when, _, answers in latest_answers(conn, ids, day).values()
            if when.year == y and answers.get(INCOME_QUESTION) is not None
        ]
        out.append({
            "year": y, "poor_households": households, "poor_people": people, "population": population,
            "incidence": round(100 * people / population, 2) if population else None,
            "income_fen": round(sum(incomes) / len(incomes)) if incomes else None, "income_households": len(incomes),
        })
    return out


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}%"


def _incidence_section(store: Any, conn: Any, plan: Any, year: int, as_of: dt.date) -> ReportSection:
    rows_ = incidence_by_year(store, conn, plan, year, as_of)
    years = [str(r["year"]) for r in rows_]
    rows = tuple(
        (r["year"], r["poor_households"], r["poor_people"], r["population"] if r["population"] is not None else "-", _pct(r["incidence"]),
         yuan(r["income_fen"]) if r["income_fen"] is not None else "-", r["income_households"])
        for r in rows_
    )
    last = rows_[-1]
    chart = Chart(
        "core.poverty_by_year", "bar_line", "贫困户与贫困发生率", "Poor households and poverty incidence",
        tuple(years), tuple(years),
        (Series("贫困户", "poor households", tuple(r["poor_households"] for r in rows_), "户", "households"),
         Series("贫困发生率", "poverty incidence", tuple(r["incidence"] for r in rows_), "%", "%", axis="right")),
        highlight=(len(years) - 1,),
        note_zh="贫困发生率 = 贫困人口 / 村户籍人口, 按每年年末的脱贫状态计。",
        note_en="Poverty incidence = poor people / the villages' registered population, by each household's status at the year's end.",
    )
    income_zh = f"走访问卷人均纯收入 {yuan(last['income_fen'])} 元 ({last['income_households']} 户)" if last["income_fen"] is not None else "本年走访问卷未记收入"
    income_en = (f"income per person from the visit questionnaires {yuan(last['income_fen'])} yuan ({last['income_households']} households)"
                 if last["income_fen"] is not None else "no income recorded in this year's visit questionnaires")
    return ReportSection(
        "core.incidence", "贫困发生率与收入 (逐年)", "Poverty incidence and income by year", part="profile",
        paragraphs_zh=(f"{year} 年末: 贫困户 {last['poor_households']} 户 {last['poor_people']} 人, 贫困发生率 {_pct(last['incidence'])}; {income_zh}。",),
        paragraphs_en=(f"End of {year}: {last['poor_households']} poor households, {last['poor_people']} poor people, "
                       f"poverty incidence {_pct(last['incidence'])}; {income_en}.",),
        headers_zh=("年份", "贫困户", "贫困人口", "户籍人口", "贫困发生率", "人均纯收入(元)", "有收入答案的户"),
        headers_en=("year", "poor households", "poor people", "population", "incidence", "income per person (yuan)", "households answering"),
        rows=rows, charts=(chart,),
    )


def _pairing_section(conn: Any, plan: Any, year: int, as_of: dt.date) -> ReportSection:
    from fupin.core_targets import poor_households_on
    from fupin.pairing import CONTACT, KEY_HELP, cadre_summary

    day = min(dt.date(year, 12, 31), as_of, plan.period_end)
    poor = set(conn.execute(poor_households_on(plan, day)).scalars())
    p = S.pairings
    held = conn.execute(
        sa.select(p.c.household_id, p.c.kind).where(
            p.c.level == "帮户", p.c.start_date <= day, sa.or_(p.c.end_date.is_(None), p.c.end_date >= day),
            p.c.household_id.in_(sorted(poor)) if poor else sa.false(),
        )
    ).all()
    kinds = {KEY_HELP: set(), CONTACT: set()}
    for hid, kind in held:
        kinds.setdefault(kind, set()).add(hid)
    paired = {hid for hid, _ in held}
    sheet = cadre_summary(conn, plan, day)
    at_quota = sum(1 for c in sheet if c["key_help"] == c["key_help_quota"] and c["contact"] == c["contact_quota"])
    unpaired = len(poor - paired)
    shortfalls_zh = (f"{unpaired} 户贫困户没有本方案的帮扶干部",) if unpaired else ()
    shortfalls_en = (f"{unpaired} poor households have no cadre of this plan",) if unpaired else ()
    return ReportSection(
        "core.pairing", "挂包帮结对", "Pairing of cadres and households",
        paragraphs_zh=(f"截至 {day}: 贫困户 {len(poor)} 户, 已结对 {len(paired)} 户 (重点帮扶 {len(kinds[KEY_HELP])}, 联系 {len(kinds[CONTACT])}); "
                       f"干部 {len(sheet)} 名, 其中 {at_quota} 名结对户数符合定额。",),
        paragraphs_en=(f"On {day}: {len(poor)} poor households, {len(paired)} paired ({len(kinds[KEY_HELP])} key-help, "
                       f"{len(kinds[CONTACT])} contact); {len(sheet)} cadres, {at_quota} of them at their quota.",),
        shortfalls_zh=shortfalls_zh, shortfalls_en=shortfalls_en,
    )


def _en(vocab: Vocabulary, list_name: str, value: Any) -> str:
    """A vocabulary's English label read as words (``first_round`` -> ``first round``); the value itself if unknown."""
    try:
        return vocab.label(list_name, value, "en").replace("_", " ")
    except Exception:  # noqa: BLE001  (a value outside the list is shown as it is)
        return str(value)


def _zh(vocab: Vocabulary, list_name: str, value: Any) -> str:
    """A vocabulary's Chinese label; the value itself if unknown."""
    try:
        return vocab.label(list_name, value, "zh")
    except Exception:  # noqa: BLE001
        return str(value)


def _visit_section(
    store: Any, conn: Any, plan: Any, year: int, as_of: dt.date, results: Sequence[Any] = (), by_year: dict[int, Sequence[Any]] | None = None,
) -> ReportSection:
    """转走访 coverage as the check counts it (C10's figures, never a second definition), the visits by kind, and
    coverage and timeliness year by year."""
    from fupin.queries import plan_units
    from fupin.visits import CampaignRule, campaign_household_ids

    vocab = store.vocab
    rule = CampaignRule.of(plan, vocab)
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    c10 = next((r for r in results if r.commitment == rule.commitment), None)
    units = plan_units(conn, plan)
    if c10 is not None and "households" in c10.figures:
        households, visited, late = c10.figures["households"], c10.figures["visited"], c10.figures.get("visited_late", 0)
    else:  # before the first round: no figures
        households = visited = late = 0
    camp = [hid for (hid,) in conn.execute(campaign_household_ids(plan, start, end, units))]
    by_kind = _visit_kinds(conn, camp, start, end)
    missing = households - visited - late
    need = rule.visits_needed(year)
    deadline = rule.first_round_by if year == rule.first_year else end
    kinds = "、".join(f"{_zh(vocab, 'visit_kind', k)} {n}" for k, n in sorted(by_kind.items())) or "0"
    kinds_en = ", ".join(f"{_en(vocab, 'visit_kind', k)} {n}" for k, n in sorted(by_kind.items())) or "0"
    short_zh, short_en = [], []
    if late:
        short_zh.append(f"{late} 户走访晚于期限")
        short_en.append(f"{late} households visited after their deadline")
    if missing and as_of > deadline:
        short_zh.append(f"{missing} 户本年未按要求走访")
        short_en.append(f"{missing} households not visited as required this year")
    counted = "、".join(_zh(vocab, "visit_kind", k) for k in rule.counts_as_visit)
    counted_en = ", ".join(_en(vocab, "visit_kind", k) for k in rule.counts_as_visit)
    charts = ()
    if by_year:
        years = sorted(by_year)
        cover, timely = [], []
        for y in years:
            r = next((r for r in by_year[y] if r.commitment == rule.commitment), None)
            f = r.figures if r is not None else {}
            n = f.get("households") or 0
            cover.append(round(100 * (f.get("visited", 0) + f.get("visited_late", 0)) / n, 1) if n else None)
            timely.append(round(100 * f.get("visited", 0) / n, 1) if n else None)
        labels = tuple(str(y) for y in years)
        charts = (Chart(
            "core.visits_by_year", "bar_line", "走访覆盖率与按时率 (逐年)", "Visit coverage and timeliness by year", labels, labels,
            (Series("已走访", "visited", tuple(cover), "%", "%"), Series("按时走访", "visited on time", tuple(timely), "%", "%", axis="right")),
            highlight=(len(years) - 1,),
            note_zh="应走访户中已走访和按期限走访的比例, 与承诺检查的口径相同。",
            note_en="The share of the households to visit that were visited, and visited by their deadline, counted as the commitment check counts them.",
        ),)
    return ReportSection(
        "core.visits", "转走访", "Visits to households",
        paragraphs_zh=(f"应走访 {households} 户, 每户 {need} 次 (期限 {deadline}; 计入: {counted}): 按要求 {visited} 户, 逾期 {late} 户, "
                       f"未走访 {missing} 户。走访次数 (全部类型): {kinds}。",),
        paragraphs_en=(f"{households} households to visit, {need} visit(s) each (deadline {deadline}; counted: {counted_en}): {visited} as required, "
                       f"{late} late, {missing} not visited. Visits (all kinds): {kinds_en}.",),
        shortfalls_zh=tuple(short_zh), shortfalls_en=tuple(short_en), charts=charts,
    )


def _first_visits(conn: Any, rule: Any, plan: Any, units: Sequence[str], households: list[int], year: int) -> dict[int, dt.date]:
    """Household id -> its first counted visit of ``year`` (for the first-round year, any from the plan's first day)."""
    from fupin.visits import counted_visit

    v = S.visits
    since = rule.counts_from(dt.date(1, 1, 1) if year <= rule.first_year else dt.date(year, 1, 1))
    counted = counted_visit(rule, plan, units)
    out: dict[int, dt.date] = {}
    for i in range(0, len(households), 900):
        out.update(conn.execute(
            sa.select(v.c.household_id, sa.func.min(v.c.visit_date)).where(
                v.c.household_id.in_(households[i : i + 900]), counted,
                v.c.visit_date >= since, v.c.visit_date <= dt.date(year, 12, 31),
            ).group_by(v.c.household_id)
        ).all())
    return out


def _visit_kinds(conn: Any, households: list[int], start: dt.date, end: dt.date) -> dict[str, int]:
    v = S.visits
    out: dict[str, int] = {}
    for i in range(0, len(households), 900):
        for kind, n in conn.execute(
            sa.select(v.c.kind, sa.func.count()).where(
                v.c.household_id.in_(households[i : i + 900]), v.c.visit_date >= start, v.c.visit_date <= end
            ).group_by(v.c.kind)
        ):
            out[kind] = out.get(kind, 0) + n
    return out


def cadre_sheets(store: Any, conn: Any, plan: Any, year: int, as_of: dt.date) -> list[dict[str, Any]]:
    """C34: one assessment sheet per cadre of the plan: households paired, visits made, on time or late, cases handled."""
    from fupin.pairing import CONTACT, KEY_HELP, plan_cadres
    from fupin.queries import plan_units
    from fupin.visits import CampaignRule, campaign_households, in_force_during, visit_deadline

    rule = CampaignRule.of(plan, store.vocab)
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    cadres = dict(plan_cadres(conn, plan))
    names = dict(conn.execute(sa.select(S.cadres.c.code, S.cadres.c.name).where(S.cadres.c.code.in_(list(cadres)))).all())
    p, v, vc = S.pairings, S.visits, S.visit_cadres
    pairs = conn.execute(
        sa.select(p.c.cadre_code, p.c.household_id, p.c.kind).where(p.c.level == "帮户", in_force_during(start, end), p.c.cadre_code.in_(list(cadres)))
    ).all()
    units = plan_units(conn, plan)
    camp = dict(conn.execute(campaign_households(plan, start, end, units)).all())
    due = {hid: visit_deadline(rule, year, paired_from) for hid, paired_from in camp.items()}
    first = _first_visits(conn, rule, plan, units, sorted({hid for _, hid, _ in pairs}), year)
    made = dict(conn.execute(
        sa.select(vc.c.cadre_code, sa.func.count()).join(v, v.c.id == vc.c.visit_id)
        .where(v.c.visit_date >= start, v.c.visit_date <= end, vc.c.cadre_code.in_(list(cadres))).group_by(vc.c.cadre_code)
    ).all())
    k = S.cases
    opened = dict(conn.execute(sa.select(k.c.cadre_code, sa.func.count()).where(k.c.opened >= start, k.c.opened <= end).group_by(k.c.cadre_code)).all())
    closed = dict(conn.execute(sa.select(k.c.cadre_code, sa.func.count()).where(k.c.closed >= start, k.c.closed <= end).group_by(k.c.cadre_code)).all())
    d = S.diary_entries
    diary = dict(conn.execute(sa.select(d.c.cadre_code, sa.func.count()).where(d.c.entry_date >= start, d.c.entry_date <= end).group_by(d.c.cadre_code)).all())
    sheets = []
    active = {c for c, _, _ in pairs} | set(made) | set(opened) | set(closed) | set(diary)
    for code, rank in sorted(cadres.items()):
        if code not in active:
            continue  # not taking part that year (joined later, or left before)
        mine = [(hid, kind) for c, hid, kind in pairs if c == code]
        hids = {hid for hid, _ in mine}
        on_time = sum(1 for hid in hids if hid in first and first[hid] <= due.get(hid, end))
        late = sum(1 for hid in hids if hid in first and first[hid] > due.get(hid, end))
        sheets.append({
            "cadre": code, "name": names.get(code, ""), "rank": rank,
            "key_help": sum(1 for _, kind in mine if kind == KEY_HELP), "contact": sum(1 for _, kind in mine if kind == CONTACT),
            "visits_made": made.get(code, 0), "visited_on_time": on_time, "visited_late": late,
            "not_visited": len(hids) - on_time - late if as_of > end else 0,
            "cases_opened": opened.get(code, 0), "cases_closed": closed.get(code, 0), "diary_entries": diary.get(code, 0),
        })
    return sheets


def visit_outliers(counts: Sequence[int]) -> tuple[int, ...]:
    """Indexes of the counts far above the others: above the median + 3 × the scaled median absolute deviation
    (at least 1), or above 3 × the median. A robust rule: one cadre's 102 visits stand out among 7 to 11."""
    if len(counts) < 3:
        return ()
    ordered = sorted(counts)

    def median(xs: Sequence[float]) -> float:
        n = len(xs)
        return float(xs[n // 2]) if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2

    m = median(ordered)
    mad = median(sorted(abs(c - m) for c in counts)) * 1.4826
    limit = min(m + 3 * max(mad, 1.0), 3 * m) if m > 0 else m + 3 * max(mad, 1.0)
    return tuple(i for i, c in enumerate(counts) if c > limit)


def _cadre_work_section(store: Any, sheets: Sequence[dict[str, Any]], year: int) -> ReportSection:
    """The cadres' work in the year: how many took part, visits made, cases and diary; a chart of each cadre's visits."""
    visits = [s["visits_made"] for s in sheets]
    out = visit_outliers(visits)
    names = tuple(s["name"] or s["cadre"] for s in sheets)
    median = sorted(visits)[len(visits) // 2] if visits else 0
    odd_zh = "、".join(f"{names[i]} ({visits[i]} 次)" for i in out)
    odd_en = ", ".join(f"{names[i]} ({visits[i]} visits)" for i in out)
    total, cases, closed, diary = sum(visits), sum(s["cases_opened"] for s in sheets), sum(s["cases_closed"] for s in sheets), sum(s["diary_entries"] for s in sheets)
    chart = Chart(
        "core.cadre_visits", "bar", f"{year} 年各干部走访次数", f"Visits made by each cadre in {year}", names, names,
        (Series("走访次数", "visits", tuple(visits), "次", "visits"),), highlight=out,
        note_zh=("突出显示的干部走访次数远高于其他人 (高于中位数加 3 倍绝对中位差, 或中位数的 3 倍), 宜核实: " + odd_zh) if out
        else f"各干部走访次数相近 (中位数 {median} 次)。",
        note_en=("The highlighted cadres made far more visits than the others (above the median plus 3 median absolute deviations, "
                 "or 3 times the median); worth checking: " + odd_en) if out else f"The cadres made similar numbers of visits (median {median}).",
    )
    return ReportSection(
        "core.cadre_work", "干部帮扶工作", "The cadres' work",
        paragraphs_zh=(f"{len(sheets)} 名干部参与本年帮扶: 走访 {total} 次, 受理案件 {cases} 件、办结 {closed} 件, 民情日记 {diary} 篇。"
                       "各干部的考核表见附表。",),
        paragraphs_en=(f"{len(sheets)} cadres took part this year: {total} visits, {cases} cases opened and {closed} closed, {diary} diary entries. "
                       "Each cadre's assessment sheet is in the appendix.",),
        shortfalls_zh=(f"走访次数异常, 宜核实: {odd_zh}",) if out else (),
        shortfalls_en=(f"Unusual visit counts, worth checking: {odd_en}",) if out else (),
        charts=(chart,),
    )


def _cadre_section(store: Any, sheets: Sequence[dict[str, Any]]) -> ReportSection:
    def row(s: dict[str, Any], rank: str) -> tuple[Any, ...]:
        return (s["cadre"], s["name"], rank, s["key_help"], s["contact"], s["visits_made"], s["visited_on_time"], s["visited_late"],
                s["not_visited"], s["cases_opened"], s["cases_closed"], s["diary_entries"])

    rows = tuple(row(s, s["rank"]) for s in sheets)
    rows_en = tuple(row(s, _en(store.vocab, "cadre_rank", s["rank"])) for s in sheets)
    behind = [s for s in sheets if s["visited_late"] or s["not_visited"]]
    return ReportSection(
        "core.cadres", "干部年度考核表", "Cadre assessment sheets", part="appendix",
        headers_zh=("干部编号", "姓名", "职级", "重点帮扶", "联系", "走访次数", "按时", "逾期", "未访", "受理案件", "办结", "民情日记"),
        headers_en=("cadre no.", "name", "rank", "key-help", "contact", "visits", "on time", "late", "not visited", "cases opened", "closed", "diary"),
        rows=rows, rows_en=rows_en,
        shortfalls_zh=(f"{len(behind)} 名干部有逾期或未走访的户",) if behind else (),
        shortfalls_en=(f"{len(behind)} cadres have households visited late or not at all",) if behind else (),
    )


def guarantees(store: Any, conn: Any, plan: Any, day: dt.date) -> list[dict[str, Any]]:
    """两不愁三保障 (and safe water) as the exit assessment reads them: for each criterion of the household
    questionnaires, how many registered households of the plan's villages meet it, do not, or have no answer,
    by each household's latest visit answers up to ``day``. Keys: id, label_zh, label_en, met, not_met, unanswered."""
    from fupin.questionnaires import load_questionnaire
    from fupin.visits import latest_answers

    ids = [i for (i,) in conn.execute(_plan_households(plan))]
    answers = latest_answers(conn, ids, day)
    order: dict[str, dict[str, Any]] = {}
    loaded: dict[str, Any] = {}
    results: list[dict[str, bool | None]] = []
    for _, _, key, given in answers.values():
        name, _, version = (key or "").partition("@")
        if not name:
            continue
        if key not in loaded:
            loaded[key] = load_questionnaire(name, int(version))
        q = loaded[key]
        for c in q.criteria:
            order.setdefault(c.id, {"id": c.id, "label_zh": c.label_zh, "label_en": c.label_en, "met": 0, "not_met": 0, "unanswered": 0})
        results.append(q.criteria_results(given))
    for found in results:
        for cid, row in order.items():
            ok = found.get(cid)
            row["met" if ok else "not_met" if ok is False else "unanswered"] += 1
    for row in order.values():
        row["unanswered"] += len(ids) - len(results)
    return list(order.values())


def _exit_section(store: Any, conn: Any, plan: Any, year: int, as_of: dt.date) -> ReportSection:
    from fupin.queries import plan_villages_condition, status_on

    vocab = store.vocab
    e, h = S.exit_assessments, S.households
    villages = plan_villages_condition(plan)
    exited = conn.execute(
        sa.select(sa.func.count()).select_from(e.join(h, h.c.id == e.c.household_id)).where(e.c.year == year, e.c.passed.is_(True), villages)
    ).scalar_one()
    day = min(dt.date(year, 12, 31), plan.period_end, as_of)
    st = status_on(day)
    status = dict(conn.execute(
        sa.select(st.c.status, sa.func.count()).join(h, h.c.id == st.c.household_id).where(villages).group_by(st.c.status)
    ).all())
    summary = "、".join(f"{_zh(vocab, 'household_status', k)} {n}" for k, n in sorted(status.items()))
    summary_en = ", ".join(f"{_en(vocab, 'household_status', k)} {n}" for k, n in sorted(status.items()))
    table_ = guarantees(store, conn, plan, day)
    rows = tuple((g["label_zh"], g["met"], g["not_met"], g["unanswered"]) for g in table_)
    rows_en = tuple((g["label_en"], g["met"], g["not_met"], g["unanswered"]) for g in table_)
    return ReportSection(
        "core.exits", "脱贫退出与两不愁三保障", "Exits from poverty, and the basic guarantees",
        paragraphs_zh=(f"{year} 年经评估脱贫 {exited} 户。{day} 的状态: {summary}。",
                       "两不愁三保障及饮水安全 (按各户截至当日最近一次走访问卷, 与脱贫评估的口径相同):" if rows else "尚无走访问卷答案, 无法统计两不愁三保障。"),
        paragraphs_en=(f"{exited} households assessed out of poverty in {year}. Status on {day}: {summary_en}.",
                       "The basic guarantees and safe water (by each household's latest visit questionnaire up to that day, as the exit assessment reads them):"
                       if rows else "No visit questionnaire answers yet: the basic guarantees cannot be counted."),
        headers_zh=("标准", "达标户", "未达标户", "未作答户"), headers_en=("criterion", "households meeting it", "not meeting it", "not answered"),
        rows=rows, rows_en=rows_en,
    )


_CJK = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]+")
_CODE = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")
#: Words of the checks' figures, for an English reader (the rest of a check's text is bilingual already).
_GLOSSARY = {
    "名干部达定额": "cadres at quota", "名干部": "cadres", "重点帮扶": "key-help", "联系": "contact", "截至": "as of", "在任": "held",
    "平时抽查": "spot checks", "年终检查": "year-end checks", "考核": "assessed", "村规划": "village plan", "户计划": "household plans",
    "次宣传": "events", "条意见": "opinions", "收入": "in", "支出": "out", "余额": "balance", "元": "yuan", "户": "households",
    "人次": "attendances", "人": "people", "次": "times", "场": "sessions", "个": "", "支": "teams", "门": "techniques", "学时": "hours",
    "亩": "mu", "天": "days", "篇": "", "出勤": "attendance", "个案": "cases", "新开": "opened", "结案": "closed", "办结": "closed",
    "超期": "overdue", "案件": "cases", "本年": "this year", "寒假": "winter vacation", "暑假": "summer vacation",
}


def _codes(text: str, vocab: Vocabulary, lang: str) -> str:
    """Vocabulary codes in a check's text (``group_head``) as their labels."""
    def word(m: re.Match[str]) -> str:
        for name in vocab.names():
            term = vocab.find(name, m.group(0))
            if term is not None:
                return term.zh if lang != "en" else term.en.replace("_", " ")
        return m.group(0).replace("_", " ")
    return _CODE.sub(word, text)


def say(text: str, lang: str, vocab: Vocabulary) -> str:
    """A check's bilingual text (``">= 2 次研究 / leadership meetings"``) in one language, codes as labels.

    Chinese keeps the Chinese side of each ``中文 / English`` pair; English keeps the English side with the
    figures before it, and reads the remaining Chinese words of the figures from a glossary."""
    text = _codes(re.sub(r"\s*\(fupin [^)]*\)", "", text), vocab, lang)
    if lang != "en":
        kept = []
        for seg in text.split("; "):
            if _CJK.search(text) and not _CJK.search(seg) and re.search(r"[A-Za-z]{3}", seg):
                continue  # the English of the segment before
            seg = re.sub(r" / (?:\d+ )?[A-Za-z][A-Za-z ,'’-]*", " ", seg)
            kept.append(re.sub(r"\s+", " ", seg).replace(" )", ")").replace(" ,", ",").strip())
        return "; ".join(k for k in kept if k)
    parts = []
    for seg in text.split("; "):
        if " / " in seg:
            zh, en = seg.split(" / ", 1)
            lead = re.match(r"[^\u3400-\u9fff]*", zh)
            prefix = lead.group(0) if lead else ""
            seg = en if not re.search(r"\d", prefix) or en.startswith(prefix.strip()) else prefix + en
            if seg.count(")") > seg.count("("):
                seg = seg.replace(")", "", seg.count(")") - seg.count("("))
        for zh_word, en_word in sorted(_GLOSSARY.items(), key=lambda kv: -len(kv[0])):
            seg = re.sub(rf"\s*{zh_word}", f" {en_word}" if en_word else "", seg)
        parts.append(re.sub(r"\s+", " ", _CJK.sub(lambda m: m.group(0) if _proper(m.group(0)) else "", seg)).strip(" 、"))
    return "; ".join(p for p in parts if p)


def _proper(word: str) -> bool:
    """Place and school names stay as they are in English (拖木村, 者海镇一中)."""
    return word.endswith(("村", "镇", "县", "乡", "中", "小学", "学校", "学院"))


def _commitments_section(plan: Any, results: Sequence[CheckResult], vocab: Vocabulary) -> ReportSection:
    """三、承诺完成情况: every commitment with its status in words, what the plan requires and what was found."""
    counts = Counter(r.status for r in results)
    titles = {c.id: (c.title("zh"), c.title_en or c.title("zh")) for c in plan.commitments}

    def row(r: CheckResult, lang: str) -> tuple[Any, ...]:
        title = titles.get(r.commitment, ("", ""))[1 if lang == "en" else 0]
        return (r.commitment, title, r.status.label(lang), say(r.required, lang, vocab) or "-", say(r.actual, lang, vocab) or "-")

    return ReportSection(
        "core.commitments", "承诺完成情况", "Commitments", part="commitments",
        paragraphs_zh=("、".join(f"{s.label('zh')} {counts.get(s, 0)} 项" for s in Status) + "。",),
        paragraphs_en=(", ".join(f"{s.label('en')} {counts.get(s, 0)}" for s in Status) + ".",),
        headers_zh=("编号", "承诺", "状态", "要求", "实际"), headers_en=("no.", "commitment", "status", "required", "found"),
        rows=tuple(row(r, "zh") for r in results), rows_en=tuple(row(r, "en") for r in results),
    )


#: Marks of the year-by-year grid, as ``make demo`` prints them.
GRID_MARKS = {"met": "✓", "not_met": "✗", "not_due": "…", "no_data": "–", "not_measurable": "○"}


def _grid_section(plan: Any, year: int, by_year: dict[int, Sequence[CheckResult]]) -> ReportSection:
    """Every commitment year by year up to ``year`` (✓ met, ✗ not met, … not yet due, – no data, ○ not measurable),
    and a chart of how many were met each year."""
    years = sorted(by_year)
    status = {y: {r.commitment: r.status for r in by_year[y]} for y in years}
    rows = tuple(
        (c.id, *(GRID_MARKS[status[y][c.id].value] if c.id in status[y] else "" for y in years))
        for c in plan.commitments if any(c.id in status[y] for y in years)
    )
    labels = tuple(str(y) for y in years)

    def n(y: int, *wanted: Status) -> int:
        return sum(1 for st in status[y].values() if st in wanted)

    chart = Chart(
        "core.commitments_by_year", "stacked_bar", "承诺逐年完成情况", "Commitments met year by year", labels, labels,
        (Series("已达成", "met", tuple(n(y, Status.MET) for y in years), "项", "commitments"),
         Series("未达成", "not met", tuple(n(y, Status.NOT_MET) for y in years), "项", "commitments"),
         Series("未到期或无数据", "not yet due or no data", tuple(n(y, Status.NOT_YET_DUE, Status.NO_DATA) for y in years), "项", "commitments"),
         Series("不可量化", "not measurable", tuple(n(y, Status.NOT_MEASURABLE) for y in years), "项", "commitments")),
        highlight=(len(years) - 1,),
        note_zh="每年各承诺的检查结果, 按状态计数。", note_en="The check of every commitment in each year, counted by status.",
    )
    return ReportSection(
        "core.commitment_grid", "承诺逐年检查", "Commitments year by year", part="commitments",
        paragraphs_zh=("✓ 已达成  ✗ 未达成  … 未到期  – 无数据  ○ 不可量化",),
        paragraphs_en=("✓ met  ✗ not met  … not yet due  – no data  ○ not measurable",),
        headers_zh=("编号", *labels), headers_en=("no.", *labels), rows=rows, charts=(chart,),
    )


def _evidence_section(plan: Any, results: Sequence[CheckResult], vocab: Vocabulary) -> ReportSection:
    """附表: how many records prove each commitment's figure, by kind of record."""
    def name(kind: str, lang: str) -> str:
        try:  # the kinds are the vocabulary's evidence_kind list, which plugins extend with their tables
            return vocab.label("evidence_kind", kind, "en" if lang == "en" else "zh")
        except (KeyError, ValidationError):  # a plugin that names no label for its table: never show the code
            return "其他记录" if lang != "en" else "other records"

    def kinds(r: CheckResult, lang: str) -> str:
        c = Counter(name(e.split(":", 1)[0], lang) for e in r.evidence)
        return ("、" if lang != "en" else ", ").join(f"{k} {n}" for k, n in sorted(c.items())) or "-"

    return ReportSection(
        "core.evidence", "承诺证明记录统计", "Records proving each commitment", part="appendix",
        headers_zh=("编号", "状态", "证明记录", "按类型"), headers_en=("no.", "status", "records", "by kind"),
        rows=tuple((r.commitment, r.status.label("zh"), len(r.evidence), kinds(r, "zh")) for r in results),
        rows_en=tuple((r.commitment, r.status.label("en"), len(r.evidence), kinds(r, "en")) for r in results),
    )


def _problems_section(store: Any, plan: Any, results: Sequence[CheckResult], sections: Sequence[ReportSection]) -> ReportSection:
    """四、存在问题: every commitment not met with its reason in words, then every section's shortfalls."""
    vocab = store.vocab
    titles = {c.id: (c.title("zh"), c.title_en or c.title("zh")) for c in plan.commitments}
    zh, en = [], []
    for r in results:
        if r.status is not Status.NOT_MET:
            continue
        t_zh, t_en = titles.get(r.commitment, ("", ""))
        why_zh = say(r.note, "zh", vocab) if r.note else ""
        why_en = say(r.note, "en", vocab) if r.note else ""
        zh.append(f"{r.commitment} {t_zh}: 未达成。要求 {say(r.required, 'zh', vocab)}, 实际 {say(r.actual, 'zh', vocab)}" + (f"; {why_zh}" if why_zh else "") + "。")
        en.append(f"{r.commitment} {t_en}: not met. Required {say(r.required, 'en', vocab)}; found {say(r.actual, 'en', vocab)}" + (f"; {why_en}" if why_en else "") + ".")
    for s in sections:
        zh += [f"{s.title('zh')}: {say(x, 'zh', vocab)}" for x in s.shortfalls_zh]
        en += [f"{s.title('en')}: {say(x, 'en', vocab)}" for x in (s.shortfalls_en or s.shortfalls_zh)]
    return ReportSection(
        "core.problems", "存在问题", "Problems", part="problems",
        paragraphs_zh=tuple(zh) or ("本年未发现未达成的承诺或不足。",), paragraphs_en=tuple(en) or ("No commitment unmet and no shortfall this year.",),
    )


def _next_section(store: Any, plan: Any, year: int, as_of: dt.date, sections: Sequence[ReportSection]) -> ReportSection:
    """五、下一步工作打算: the households overdue for a visit (how many; the villager groups and cadres most
    behind), the commitments not yet due, and every section's next steps."""
    from fupin.visits import due_list

    # Only counts of the worklist are shown: a reader of aggregates (a department's clerk) gets them too.
    due = due_list(store, plan, as_of=as_of, permission="aggregates.read")
    overdue = [d for d in due if d.status == "overdue"]
    zh, en = [], []
    if overdue:
        groups = Counter(d.group_code for d in overdue)
        cadres = Counter(c for d in overdue for c in d.cadres)
        names = _area_names(store, list(groups))
        top_g = groups.most_common(3)
        top_c = cadres.most_common(3)
        who = _cadre_names(store, [c for c, _n in top_c])  # a leader reads names, not cadre codes
        zh.append(f"{len(overdue)} 户已逾期未走访, 尽快走访; 最多的村民小组: " + "、".join(f"{names.get(g, g)} {n} 户" for g, n in top_g)
                  + ("; 最多的干部: " + "、".join(f"{who.get(c, c)} {n} 户" for c, n in top_c) if top_c else "") + "。")
        en.append(f"{len(overdue)} households are overdue for a visit: visit them soon; most in villager groups "
                  + ", ".join(f"{names.get(g, g)} ({n})" for g, n in top_g)
                  + ("; cadres most behind: " + ", ".join(f"{who.get(c, c)} ({n})" for c, n in top_c) if top_c else "") + ".")
    pending = [d for d in due if d.status == "due"]
    if pending:
        zh.append(f"{len(pending)} 户即将到期, 按期走访。")
        en.append(f"{len(pending)} households are due for a visit soon.")
    for s in sections:
        zh += list(s.next_steps_zh)
        en += list(s.next_steps_en or s.next_steps_zh)
    return ReportSection(
        "core.next", "下一步工作打算", "Next steps", part="next",
        paragraphs_zh=tuple(zh) or ("按方案继续开展帮扶工作。",), paragraphs_en=tuple(en) or ("Carry on the work as the plan says.",),
    )


def _area_names(store: Any, codes: list[str]) -> dict[str, str]:
    if not codes:
        return {}
    with store.reading("aggregates.read") as conn:
        return dict(conn.execute(sa.select(S.areas.c.code, S.areas.c.name).where(S.areas.c.code.in_(codes))).all())


def _cadre_names(store: Any, codes: list[str]) -> dict[str, str]:
    if not codes:
        return {}
    with store.reading("aggregates.read") as conn:
        return dict(conn.execute(sa.select(S.cadres.c.code, S.cadres.c.name).where(S.cadres.c.code.in_(codes))).all())


def _lint_section(plan: Any) -> ReportSection:
    from fupin.lint import lint_plan

    findings = lint_plan(plan)
    return ReportSection(
        "core.plan_lint", "方案自身的不一致", "Where the plan contradicts itself", part="plan_office",
        paragraphs_zh=tuple(f.message("zh") for f in findings) or ("未发现 / none found",),
        paragraphs_en=tuple(f.message("en") for f in findings) or ("none found",),
    )


# -- rendering ---------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    return "-" if value is None else str(value)


def render_report_text(report: YearlyReport, lang: str = "zh") -> str:
    """The yearly report as plain text, part by part (一、基本情况 ... 附表), with CJK-aligned tables and each
    chart's figures as a small table."""
    zh = lang != "en"
    t = (lambda a, b: a) if zh else (lambda a, b: b)
    plan = report.plan
    title = plan.title_zh if zh or not plan.title_en else plan.title_en
    lines = [t(f"{report.year} 年度帮扶工作总结", f"Year {report.year} report"), title, t(f"截至 {report.as_of}", f"as of {report.as_of}")]
    for part, (head_zh, head_en) in REPORT_PARTS.items():
        mine = [s for s in report.sections if s.part == part]
        if not mine:
            continue
        lines += ["", t(head_zh, head_en)]
        for section in mine:
            lines += ["", f"{section.title(lang)}"]
            lines += [f"  {p}" for p in section.paragraphs(lang)]
            if section.rows:
                lines += table(section.headers(lang), [[_cell(c) for c in row] for row in section.table_rows(lang)])
            for chart in section.charts:
                lines += ["", f"  {t('图', 'Chart')}: {chart.title(lang)}"]
                lines += table(["", *chart.categories(lang)], [[s.name(lang), *(_cell(v) for v in s.values)] for s in chart.series])
                if chart.note(lang):
                    lines.append(f"  {chart.note(lang)}")
            lines += [f"  ! {s}" for s in section.shortfalls(lang)]
    return "\n".join(lines)


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def render_report_html(report: YearlyReport, lang: str = "zh") -> str:
    """The yearly report as one self-contained HTML page (no scripts, no external files), for printing on A4
    (:mod:`fupin.report_html`)."""
    from fupin.report_html import render_report_html as render

    return render(report, lang)


#: The formats :func:`render_report` writes as text, and those :func:`render_report_bytes` writes as a file.
TEXT_FORMATS = ("text", "json", "html")
BINARY_FORMATS = ("docx", "xlsx")


def _check_lang(lang: str) -> None:

    if lang not in ("zh", "en"):
        raise ValidationError.of("lang", "语言应为 zh 或 en / lang is zh or en", lang)


def render_report(report: YearlyReport, fmt: str = "html", lang: str = "zh") -> str:
    """The yearly report as ``fmt``: ``"html"`` (a page to print), ``"text"`` or ``"json"``, in ``lang`` (zh or en).

    Word and Excel are files, not text: :func:`render_report_bytes` writes them.

    Raises:
        ValidationError: An unknown format or language, or a binary format (``"docx"``, ``"xlsx"``).
    """
    import json


    _check_lang(lang)
    if fmt in BINARY_FORMATS:
        raise ValidationError.of("fmt", f"{fmt} 是文件格式, 用 render_report_bytes / {fmt} is a file: use render_report_bytes", fmt)
    if fmt == "html":
        return render_report_html(report, lang)
    if fmt == "text":
        return render_report_text(report, lang)
    if fmt == "json":
        return json.dumps(report.to_dict(lang), ensure_ascii=False, indent=2, default=str)
    raise ValidationError.of("fmt", "格式应为 html, text, json, docx 或 xlsx / fmt is html, text, json, docx or xlsx", fmt)


def render_report_bytes(report: YearlyReport, fmt: str = "docx", lang: str = "zh") -> bytes:
    """The yearly report as the bytes of a file: ``"docx"`` (Word) or ``"xlsx"`` (Excel), in ``lang`` (zh or en);
    the text formats (``"html"``, ``"text"``, ``"json"``) as UTF-8.

    The Word document has the parts of the 年度帮扶工作总结 as headings (Word's navigation pane lists them),
    the sections' paragraphs, tables and charts; the workbook has a contents sheet, then one sheet per table
    (the commitments, every section's table, every chart's data). Both are the same bytes for the same
    report: their dates are the report's as-of day.

    Raises:
        ValidationError: An unknown format or language.
    """
    _check_lang(lang)
    if fmt == "docx":
        from fupin.render.docx import render_report_docx

        return render_report_docx(report, lang)
    if fmt == "xlsx":
        from fupin.render.xlsx import render_report_xlsx

        return render_report_xlsx(report, lang)
    return (render_report(report, fmt, lang) + "\n").encode("utf-8")
