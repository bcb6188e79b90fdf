"""Readable renderings: the household card and the yearly report. Chinese first, English available.

Personal data (ID numbers, phone numbers, bank accounts) is masked in every
rendering here; the yearly report (:func:`build_report`, ``fupin report``)
shows counts and record numbers only.
"""

from __future__ import annotations

import datetime as dt
import html
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs
import sqlalchemy as sa

from fupin.charts import Chart
from fupin.checks import CheckResult, Status, grouped_notes
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

    def to_dict(self, lang: str = "zh") -> dict[str, Any]:
        """JSON-ready form in ``lang``: key, title, paragraphs, headers, rows, shortfalls."""
        return {
            "key": self.key, "title": self.title(lang), "paragraphs": plain(self.paragraphs(lang)),
            "headers": plain(self.headers(lang)), "rows": plain(self.rows), "shortfalls": plain(self.shortfalls(lang)),
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
            "sections": [s.to_dict(lang) for s in self.sections],
        }


def build_report(store: Any, plan: Any, year: int, *, as_of: dt.date | None = None) -> YearlyReport:
    """The yearly report: village profile, pairing and visit coverage, commitments, cadre sheets, plugins' sections."""
    from fupin.checks import check_plan

    as_of = as_of or dt.date.today()
    results = check_plan(store, plan, year, as_of=as_of)
    with store.reading("aggregates.read") as conn:
        sections = [
            _profile_section(store, conn, plan, year),
            _pairing_section(conn, plan, year, as_of),
            _visit_section(store, conn, plan, year, as_of, results),
            _cadre_section(store, conn, plan, year, as_of),
            _exit_section(conn, plan, year),
            _lint_section(plan),
        ]
    sections += store.hooks.report_sections(store, plan, year, as_of)
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
        "core.profile", "村情概况", "Village profile",
        headers_zh=("村", "年份", "户数", "人口", "贫困户", "贫困人口", "人均纯收入(元)", "已建档户"),
        headers_en=("village", "year", "households", "population", "poor households", "poor people", "income per person (yuan)", "registered"),
        rows=tuple(rows),
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
        "core.pairing", "挂包帮结对", "Pairing (挂包帮)",
        paragraphs_zh=(f"截至 {day}: 贫困户 {len(poor)} 户, 已结对 {len(paired)} 户 (重点帮扶 {len(kinds[KEY_HELP])}, 联系 {len(kinds[CONTACT])}); "
                       f"干部 {len(sheet)} 名, 其中 {at_quota} 名结对户数符合定额。",),
        paragraphs_en=(f"On {day}: {len(poor)} poor households, {len(paired)} paired ({len(kinds[KEY_HELP])} key-help, "
                       f"{len(kinds[CONTACT])} contact); {len(sheet)} cadres, {at_quota} of them at their quota.",),
        shortfalls_zh=shortfalls_zh, shortfalls_en=shortfalls_en,
    )


def _visit_section(store: Any, conn: Any, plan: Any, year: int, as_of: dt.date, results: Sequence[Any] = ()) -> ReportSection:
    """转走访 coverage as the check counts it (C10's figures, never a second definition), and the visits by kind."""
    from fupin.queries import plan_units
    from fupin.visits import CampaignRule, campaign_household_ids

    rule = CampaignRule.of(plan, store.vocab)
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
    kinds = "、".join(f"{k} {n}" for k, n in sorted(by_kind.items())) or "0"
    kinds_en = ", ".join(f"{store.vocab.label('visit_kind', k, 'en')} {n}" for k, n in sorted(by_kind.items())) or "0"
    short_zh, short_en = [], []
    if late:
        short_zh.append(f"{late} 户走访晚于期限")
        short_en.append(f"{late} households visited after their deadline")
    if missing and as_of > deadline:
        short_zh.append(f"{missing} 户本年未按要求走访")
        short_en.append(f"{missing} households not visited as required this year")
    counted = "、".join(rule.counts_as_visit)
    return ReportSection(
        "core.visits", "转走访", "Visits (转走访)",
        paragraphs_zh=(f"应走访 {households} 户, 每户 {need} 次 (期限 {deadline}; 计入: {counted}): 按要求 {visited} 户, 逾期 {late} 户, "
                       f"未走访 {missing} 户。走访次数 (全部类型): {kinds}。",),
        paragraphs_en=(f"{households} households to visit, {need} visit(s) each (deadline {deadline}; counted: {counted}): {visited} as required, "
                       f"{late} late, {missing} not visited. Visits (all kinds): {kinds_en}.",),
        shortfalls_zh=tuple(short_zh), shortfalls_en=tuple(short_en),
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


def _cadre_section(store: Any, conn: Any, plan: Any, year: int, as_of: dt.date) -> ReportSection:
    sheets = cadre_sheets(store, conn, plan, year, as_of)
    rows = tuple(
        (s["cadre"], s["name"], s["rank"], s["key_help"], s["contact"], s["visits_made"], s["visited_on_time"], s["visited_late"],
         s["not_visited"], s["cases_opened"], s["cases_closed"], s["diary_entries"])
        for s in sheets
    )
    behind = [s for s in sheets if s["visited_late"] or s["not_visited"]]
    return ReportSection(
        "core.cadres", "干部年度考核表 (C34)", "Cadre assessment sheets (C34)",
        headers_zh=("干部", "姓名", "职级", "重点帮扶", "联系", "走访次数", "按时", "逾期", "未访", "受理案件", "办结", "民情日记"),
        headers_en=("cadre", "name", "rank", "key-help", "contact", "visits", "on time", "late", "not visited", "cases opened", "closed", "diary"),
        rows=rows,
        shortfalls_zh=(f"{len(behind)} 名干部有逾期或未走访的户",) if behind else (),
        shortfalls_en=(f"{len(behind)} cadres have households visited late or not at all",) if behind else (),
    )


def _exit_section(conn: Any, plan: Any, year: int) -> ReportSection:
    from fupin.queries import plan_villages_condition

    e, h = S.exit_assessments, S.households
    villages = plan_villages_condition(plan)
    exited = conn.execute(
        sa.select(sa.func.count()).select_from(e.join(h, h.c.id == e.c.household_id)).where(e.c.year == year, e.c.passed.is_(True), villages)
    ).scalar_one()
    from fupin.queries import status_on

    day = min(dt.date(year, 12, 31), plan.period_end)
    st = status_on(day)
    status = dict(conn.execute(
        sa.select(st.c.status, sa.func.count()).join(h, h.c.id == st.c.household_id).where(villages).group_by(st.c.status)
    ).all())
    summary = "、".join(f"{k} {n}" for k, n in sorted(status.items()))
    return ReportSection(
        "core.exits", "脱贫退出", "Exits from poverty",
        paragraphs_zh=(f"{year} 年经评估脱贫 {exited} 户。{day} 的状态: {summary}。",),
        paragraphs_en=(f"{exited} households assessed out of poverty in {year}. Status on {day}: {summary}.",),
    )


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
    """The yearly report as plain text (CJK-aligned tables)."""
    zh = lang != "en"
    t = (lambda a, b: a) if zh else (lambda a, b: b)
    plan = report.plan
    title = plan.title_zh if zh or not plan.title_en else plan.title_en
    lines = [t(f"{report.year} 年度帮扶工作报告", f"Year {report.year} report"), title, t(f"截至 {report.as_of}", f"as of {report.as_of}"), ""]
    counts = Counter(r.status for r in report.results)
    lines.append(t("承诺检查", "Commitments") + ": " + ", ".join(f"{s.label(lang)} {counts.get(s, 0)}" for s in Status))
    titles = {c.id: c.title(lang) for c in plan.commitments}
    rows = [(r.commitment, r.status.label(lang), _short(titles.get(r.commitment, ""), 28), r.required, r.actual) for r in report.results]
    lines += table(t("编号 状态 承诺 要求 实际", "id status commitment required actual").split(), rows)
    notes = [f"  {', '.join(ids)}: {note}" for ids, note in grouped_notes(list(report.results))]
    if notes:
        lines += ["", t("说明", "Notes"), *notes]
    for section in report.sections:
        lines += ["", f"{section.title(lang)}"]
        lines += [f"  {p}" for p in section.paragraphs(lang)]
        if section.rows:
            lines += table(section.headers(lang), [[_cell(c) for c in row] for row in section.rows])
        lines += [f"  ! {s}" for s in section.shortfalls(lang)]
    return "\n".join(lines)


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


_STATUS_CLASS = {Status.MET: "met", Status.NOT_MET: "not-met", Status.NOT_YET_DUE: "not-due", Status.NO_DATA: "no-data", Status.NOT_MEASURABLE: "not-measurable"}


def render_report_html(report: YearlyReport, lang: str = "zh") -> str:
    """The yearly report as one self-contained HTML page (no scripts, no external files), for printing."""
    zh = lang != "en"
    t = (lambda a, b: a) if zh else (lambda a, b: b)
    e = html.escape
    plan = report.plan
    title = plan.title_zh if zh or not plan.title_en else plan.title_en
    counts = Counter(r.status for r in report.results)
    titles = {c.id: c.title(lang) for c in plan.commitments}
    out = [
        "<!DOCTYPE html>", f'<html lang="{"zh-CN" if zh else "en"}"><head><meta charset="utf-8">',
        f"<title>{e(title)} {report.year}</title>", f"<style>{_CSS}</style></head><body>",
        f"<header><h1>{e(t(f'{report.year} 年度帮扶工作报告', f'Year {report.year} report'))}</h1>",
        f"<p class=sub>{e(title)}</p><p class=sub>{e(t('截至', 'As of'))} {report.as_of}</p></header>",
        '<section><h2>' + e(t("承诺完成情况", "Commitments")) + "</h2><p class=summary>"
        + " ".join(f'<span class="badge {_STATUS_CLASS[s]}">{e(s.label(lang))} {counts.get(s, 0)}</span>' for s in Status) + "</p>",
        "<table><thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in t("编号|承诺|状态|要求|实际|说明", "Id|Commitment|Status|Required|Actual|Notes").split("|")) + "</tr></thead><tbody>",
    ]
    for r in report.results:
        evidence = f"<div class=ev>{e(t('证明记录', 'evidence'))}: {len(r.evidence)}</div>" if r.evidence else ""
        plugin = f" <span class=plugin>{e(r.plugin)}</span>" if r.plugin and r.plugin != "core" else ""
        out.append(
            f'<tr class="{_STATUS_CLASS[r.status]}"><td>{e(r.commitment)}</td><td>{e(titles.get(r.commitment, ""))}{plugin}</td>'
            f'<td><span class="badge {_STATUS_CLASS[r.status]}">{e(r.status.label(lang))}</span></td>'
            f"<td>{e(r.required)}</td><td>{e(r.actual)}{evidence}</td><td>{e(r.note)}</td></tr>"
        )
    out.append("</tbody></table></section>")
    for section in report.sections:
        out.append(f'<section id="{e(section.key)}"><h2>{e(section.title(lang))}</h2>')
        out += [f"<p>{e(p)}</p>" for p in section.paragraphs(lang)]
        if section.shortfalls(lang):
            out.append("<ul class=short>" + "".join(f"<li>{e(s)}</li>" for s in section.shortfalls(lang)) + "</ul>")
        if section.rows:
            out.append("<table><thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in section.headers(lang)) + "</tr></thead><tbody>")
            out += ["<tr>" + "".join(f"<td>{e(_cell(c))}</td>" for c in row) + "</tr>" for row in section.rows]
            out.append("</tbody></table>")
        out.append("</section>")
    out.append(f"<footer>{e(t('由 fupin 生成; 数字来自记录, 每项“已达成”都有证明记录。', 'Made by fupin; every figure comes from the records, and every met commitment has records that prove it.'))}</footer>")
    out.append("</body></html>")
    return "\n".join(out)


_CSS = """
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Microsoft YaHei",sans-serif;margin:2em auto;max-width:60em;color:#222;line-height:1.5}
header{border-bottom:3px solid #b22;margin-bottom:1em}h1{color:#b22;margin:0}.sub{margin:.2em 0;color:#555}
h2{border-left:6px solid #b22;padding-left:.4em;margin-top:1.6em}
table{border-collapse:collapse;width:100%;font-size:.9em;margin:.6em 0}th,td{border:1px solid #ccc;padding:.25em .45em;vertical-align:top;text-align:left}
th{background:#f3f0ea}tr.not-met td{background:#fdecea}tr.not-due td{background:#fff8e1}tr.no-data td{background:#f4f4f4}
.badge{display:inline-block;padding:0 .5em;border-radius:.8em;font-size:.85em;white-space:nowrap;margin-right:.3em}
.badge.met{background:#d8f0d8;color:#135f13}.badge.not-met{background:#f8c9c4;color:#8a1010}.badge.not-due{background:#ffe9a8;color:#6b5200}.badge.no-data{background:#ddd;color:#444}.badge.not-measurable{background:#e8e4f4;color:#3d2d6b}
.short li{color:#8a1010}.ev{color:#666;font-size:.85em}.plugin{color:#666;font-size:.8em}footer{margin-top:2em;color:#777;font-size:.85em}
@media print{body{margin:0}section{page-break-inside:avoid}}
"""


def render_report(report: YearlyReport, fmt: str = "html", lang: str = "zh") -> str:
    """The yearly report as ``fmt``: ``"html"`` (a page to print), ``"text"`` or ``"json"``, in ``lang`` (zh or en).

    Raises:
        ValidationError: An unknown format or language.
    """
    import json

    from fupin.errors import ValidationError

    if lang not in ("zh", "en"):
        raise ValidationError.of("lang", "语言应为 zh 或 en / lang is zh or en", lang)
    if fmt == "html":
        return render_report_html(report, lang)
    if fmt == "text":
        return render_report_text(report, lang)
    if fmt == "json":
        return json.dumps(report.to_dict(lang), ensure_ascii=False, indent=2, default=str)
    raise ValidationError.of("fmt", "格式应为 html, text 或 json / fmt is html, text or json", fmt)
