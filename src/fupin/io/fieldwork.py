"""Import kinds of the 挂包帮 / 转走访 records: pairings, visits, diary entries, cases.

Clerks keep these in spreadsheets (a pairing list signed at the start of the
campaign, a visit register per cadre, the 民情日记), so they import and export
through the same engine as the registry. A visit's questionnaire answers are
checked against the versioned questionnaire definition it names
(:mod:`fupin.questionnaires`), either as one JSON column ``answers`` or as one
column per question (``answers.food_clothing_ok``, headed in Chinese by the
question's text).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import sqlalchemy as sa

from fupin import model
from fupin.errors import Problem, ValidationError
from fupin.io.kinds import Column, ModelKind, Reference
from fupin.storage import schema as S
from fupin.vocab import Vocabulary

_HOUSEHOLD = Reference("household", "households", "number", "户 / household", "household_id", id_column="id")
_VILLAGE = Reference("village", "areas", "code", "村 / village", "village_code", where={"level": "village"})
_CADRE = Reference("cadre", "cadres", "code", "干部 / cadre", "cadre_code")


def _cadre_problems(lookups: Any, rows: Sequence[tuple[int, Any]]) -> dict[int, list[Problem]]:
    """Visiting cadres (a list column) must all be registered: one look-up for the chunk."""
    wanted = {c for _, r in rows for c in r.cadres}
    known = set(lookups.rows("cadres", "code", wanted))
    out = {}
    for row_no, record in rows:
        missing = [c for c in record.cadres if c not in known]
        if missing:
            out[row_no] = [Problem("cadres", "干部 / cadre 未登记 / not registered", "、".join(missing))]
    return out


class PairingKind(ModelKind):
    """Pairings: the cadre's unit must be within the importer's reach too, not only the household."""

    def build(self, values: dict[str, Any], vocab: Any) -> Any:
        # A file of 帮户 pairings need not say so on every row.
        return super().build({"level": "帮户", **values}, vocab)

    def check_chunk(self, lookups: Any, rows: Sequence[tuple[int, Any]]) -> dict[int, list[Problem]]:
        units = lookups.rows("cadres", "code", {r.cadre for _, r in rows}, ("unit_code",))
        out = {}
        for row_no, record in rows:
            found = units.get(record.cadre)
            if found is not None and lookups.access is not None and not lookups.access.unit_allowed(self.write_permission, found["unit_code"]):
                out[row_no] = [Problem("cadre", f"权限不足 / permission denied: lacks {self.write_permission} (干部不在权限范围内 / cadre outside your scope)", record.cadre)]
        return out


PAIRINGS = PairingKind(
    name="pairings",
    label_zh="干部帮户结对",
    label_en="Cadre-household pairings (帮户)",
    table="pairings",
    key=("cadre", "household", "start"),
    record_type="pairing",
    scope=("household", "household"),
    write_permission="pairing.write",
    read_permission="registry.read",
    model=model.Pairing,
    renames={"cadre": "cadre_code", "unit": "unit_code", "village": "village_code", "plan": "plan_name",
             "start": "start_date", "end": "end_date"},
    references=(_HOUSEHOLD, _CADRE, Reference("plan", "plans", "name", "方案 / plan", "plan_name")),
    columns=(
        Column("cadre", "干部编号", "code", required=True, aliases=("帮扶干部编号", "帮扶责任人编号")),
        Column("household", "户编号", "code", required=True),
        Column("kind", "帮扶类型", required=True, vocab="pairing_kind", aliases=("结对类型", "类别")),
        Column("start", "结对日期", "date", required=True, aliases=("开始日期", "起始日期")),
        Column("end", "解除日期", "date", aliases=("结束日期",)),
        Column("end_reason", "解除原因", aliases=("结束原因",)),
        Column("plan", "方案", "code"),
        Column("level", "结对层级", vocab="pairing_level"),
    ),
    description="帮户: a cadre paired with a household as 重点帮扶 or 联系; natural key 干部编号 + 户编号 + 结对日期. "
    "A change of helper is a new row; the old one gets its 解除日期.",
)


@attrs.define
class VisitsKind(ModelKind):
    """Visits: the cadres are a list, the answers are checked against their questionnaire."""

    questionnaires: Mapping[str, Any] = attrs.field(factory=dict)

    def bind(self, store: Any) -> VisitsKind:
        # One column per question of every questionnaire, after the JSON column.
        from fupin.questionnaires import available_questionnaires, load_questionnaire

        found = {}
        for name, version in available_questionnaires():
            q = load_questionnaire(name, version)
            found[q.key] = q
        # (import only: on export the JSON column carries the answers, one source when read back)
        columns, seen = list(BASE_VISIT_COLUMNS), {c.name for c in BASE_VISIT_COLUMNS}
        headers = {c.zh for c in BASE_VISIT_COLUMNS}
        for q in found.values():
            for question in q.questions:
                name = f"answers.{question.id}"
                if name not in seen:
                    seen.add(name)
                    zh = f"{question.number} {question.text_zh}".strip()
                    if zh in headers:  # two questionnaires number a question alike: name the questionnaire too
                        zh = f"{zh}({q.title_zh})"
                    headers.add(zh)
                    columns.append(Column(name, zh, description=question.text_en, import_only=True))
        return attrs.evolve(self, columns=tuple(columns), questionnaires=found)

    def build(self, values: dict[str, Any], vocab: Vocabulary) -> model.Visit:
        answers = dict(values.pop("answers", None) or {})
        for key in [k for k in values if k.startswith("answers.")]:
            value = values.pop(key)
            if value is not None:
                answers[key.split(".", 1)[1]] = value
        values["cadres"] = values.get("cadres") or ()
        if answers:
            name = values.get("questionnaire")
            q = self.questionnaires.get(name or "")
            if q is None:
                known = ", ".join(sorted(self.questionnaires))
                raise ValidationError.of("questionnaire", f"未知问卷 / unknown questionnaire; known: {known}", name)
            answers = q.clean(answers)
        return model.Visit.new(**values, answers=answers or None, vocab=vocab)

    def check_chunk(self, lookups: Any, rows: Sequence[tuple[int, Any]]) -> dict[int, list[Problem]]:
        return _cadre_problems(lookups, rows)

    def db_row(self, record: model.Visit) -> dict[str, Any]:
        row = super().db_row(record)
        row["_cadres"] = sorted(row.pop("cadres"))
        return row

    def enrich_existing(self, conn: sa.Connection, rows: Mapping[Any, dict[str, Any]]) -> None:
        ids = {r["id"]: r for r in rows.values()}
        for r in ids.values():
            r["_cadres"] = []
        id_list = list(ids)
        for i in range(0, len(id_list), 900):
            q = sa.select(S.visit_cadres.c.visit_id, S.visit_cadres.c.cadre_code).where(S.visit_cadres.c.visit_id.in_(id_list[i : i + 900]))
            for vid, code in conn.execute(q):
                ids[vid]["_cadres"].append(code)
        for r in ids.values():
            r["_cadres"].sort()

    def after_write(self, conn: sa.Connection, inserted: Sequence[tuple[Any, int]], updated: Sequence[tuple[Any, dict, dict]]) -> None:
        links: list[tuple[Any, int]] = list(inserted)
        for record, old, diff in updated:
            if "_cadres" in diff:
                conn.execute(S.visit_cadres.delete().where(S.visit_cadres.c.visit_id == old["id"]))
                links.append((record, old["id"]))
        rows = [{"visit_id": vid, "cadre_code": c} for v, vid in links for c in v.cadres]
        if rows:
            conn.execute(S.visit_cadres.insert(), rows)

    def export_row(self, row: Mapping[str, Any]) -> dict[str, Any]:
        out = super().export_row(row)
        out["cadres"] = "、".join(row.get("_cadres", [])) or None
        answers = row.get("answers")
        q = self.questionnaires.get(row.get("questionnaire") or "")
        if answers and q is not None:
            answers = q.to_input(answers)  # yuan answers are stored in fen: write them as entered
        out["answers"] = json.dumps(answers, ensure_ascii=False, sort_keys=True) if answers else None
        return out


BASE_VISIT_COLUMNS = (
    Column("ref", "走访编号", "code", required=True, aliases=("编号", "记录编号")),
    Column("date", "走访日期", "date", required=True, aliases=("日期",)),
    Column("kind", "走访类型", required=True, vocab="visit_kind", aliases=("类型",)),
    Column("cadres", "走访干部", "list", required=True, aliases=("走访干部编号", "干部编号")),
    Column("household", "户编号", "code"),
    Column("village", "村代码", "code", aliases=("行政村代码",)),
    Column("plan", "方案", "code"),
    Column("questionnaire", "问卷", "code", aliases=("问卷版本",), description="name@version, e.g. yunnan-household@1"),
    Column("answers", "问卷答案", "json", personal="answers", description="the answers as a JSON object keyed by question id"),
    Column("findings", "走访情况", aliases=("发现情况",)),
    Column("problems", "存在问题"),
    Column("follow_up", "后续措施", aliases=("跟进措施",)),
)

VISITS = VisitsKind(
    name="visits",
    label_zh="走访记录",
    label_en="Visits (转走访)",
    table="visits",
    key=("ref",),
    record_type="visit",
    scope=("household", "household"),
    write_permission="visits.write",
    read_permission="registry.read",
    model=model.Visit,
    renames={"date": "visit_date", "village": "village_code", "plan": "plan_name"},
    references=(_HOUSEHOLD, _VILLAGE, Reference("plan", "plans", "name", "方案 / plan", "plan_name")),
    columns=BASE_VISIT_COLUMNS,
    description="转走访 visits to a household or the village, with questionnaire answers; natural key 走访编号.",
)


DIARY = ModelKind(
    name="diary",
    label_zh="民情日记",
    label_en="Sentiment diary (民情日记)",
    table="diary_entries",
    key=("ref",),
    record_type="diary_entry",
    scope=("household", "household"),
    write_permission="visits.write",
    read_permission="registry.read",
    model=model.DiaryEntry,
    renames={"date": "entry_date", "cadre": "cadre_code", "village": "village_code"},
    references=(_HOUSEHOLD, _VILLAGE, _CADRE, Reference("case_ref", "cases", "ref", "案件 / case", "case_ref")),
    columns=(
        Column("ref", "编号", "code", required=True, aliases=("记录编号",)),
        Column("date", "日期", "date", required=True),
        Column("cadre", "干部编号", "code", required=True),
        Column("kind", "类型", required=True, vocab="diary_kind"),
        Column("text", "内容", required=True, aliases=("民情记录",)),
        Column("household", "户编号", "code"),
        Column("village", "村代码", "code"),
        Column("case_ref", "案件编号", "code"),
        Column("problems", "存在问题"),
        Column("follow_up", "后续措施"),
    ),
    description="民情日记, talks, visitors received, reports, opinions collected, case follow-ups; natural key 编号.",
)

CASES = ModelKind(
    name="cases",
    label_zh="诉求与矛盾纠纷",
    label_en="Cases (grievances, disputes)",
    table="cases",
    key=("ref",),
    record_type="case",
    scope=("household", "household"),
    write_permission="visits.write",
    read_permission="registry.read",
    model=model.Case,
    renames={"cadre": "cadre_code", "village": "village_code"},
    references=(_HOUSEHOLD, _VILLAGE, _CADRE),
    columns=(
        Column("ref", "案件编号", "code", required=True, aliases=("编号",)),
        Column("kind", "类型", required=True, vocab="case_kind"),
        Column("opened", "受理日期", "date", required=True, aliases=("立案日期",)),
        Column("cadre", "承办干部", "code", required=True, aliases=("干部编号",)),
        Column("summary", "事由", required=True, aliases=("诉求内容",)),
        Column("status", "状态", vocab="case_status"),
        Column("household", "户编号", "code"),
        Column("village", "村代码", "code"),
        Column("closed", "办结日期", "date"),
        Column("resolution", "办理结果"),
    ),
    description="Grievances, disputes and requests, opened and closed (C16); natural key 案件编号.",
)

FIELDWORK_KINDS = (PAIRINGS, VISITS, DIARY, CASES)
