"""Readable renderings of records: Chinese first, English available.

Personal data (ID numbers, phone numbers, bank accounts) is masked in every
rendering here.
"""

from __future__ import annotations

from typing import Any

from fupin.convert import unstructure
from fupin.store import HouseholdCard
from fupin.text import mask_id, mask_phone, table, yuan
from fupin.vocab import Vocabulary


def _label(vocab: Vocabulary, list_name: str, value: str | None, lang: str) -> str:
    if value is None:
        return "-"
    return vocab.label(list_name, value, lang=lang) if lang == "en" else value


def household_card_dict(card: HouseholdCard) -> dict[str, Any]:
    """The card as a JSON-ready dict, personal data masked."""
    h = unstructure(card.household)
    h["phone"] = mask_phone(h.get("phone"))
    h["bank_account"] = mask_id(h.get("bank_account"))
    members = []
    for person in card.members:
        p = unstructure(person)
        p["id_number"] = mask_id(p["id_number"])
        p["phone"] = mask_phone(p.get("phone"))
        members.append(p)
    return {
        "household": h,
        "group": card.group.name if card.group else None,
        "members": members,
        "tags": [{**unstructure(t), "id_number": mask_id(t.id_number)} for t in card.tags],
        "status_history": [unstructure(s) for s in card.status_history],
        "actions": [
            {
                "id": a.id,
                "kind": a.kind,
                "start": a.start.isoformat(),
                "end": a.end.isoformat(),
                "title": a.title,
                "amount_fen": a.amount_fen,
            }
            for a in card.actions
        ],
        "problems": [str(p) for p in card.problems],
    }


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
