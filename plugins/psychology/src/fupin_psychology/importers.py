"""Batch import and export of sessions and social-work cases.

``fupin import psychology.sessions FILE`` stores sessions (a note column, if
present, is encrypted as each row is written: it needs ``FUPIN_PSYCHOLOGY_KEY``);
``fupin export psychology.sessions`` never writes a note (the column is
import-only) and masks the persons' ID numbers unless asked otherwise. A
re-import leaves a stored note as it is (notes are set once, on insert).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from fupin import Problem
from fupin.ext import Column, ModelKind, Reference

from fupin_psychology import crypto, keys
from fupin_psychology.model import Case, Session, consent_problems
from fupin_psychology.records import READ, WRITE, session_row
from fupin_psychology.tables import CASES, SESSIONS

_UNIT = Reference("unit_code", "units", "code", "单位 / unit", "unit_code")
#: The value a refused note row shows instead of the note.
_HIDDEN = "(不显示 / not shown)"


@attrs.define
class SessionsKind(ModelKind):
    """Counselling sessions: the note encrypted on the way in, never on the way out.

    Rows with a note are written only with the database's key: each chunk
    checks the key's fingerprint (and the first note of the database sets it),
    so a file imported with another key is refused row by row in the note
    column, and nothing is written.
    """

    #: Who imports (``UNIT:USER``), recorded with the fingerprint when this import sets it; see :meth:`bind`.
    actor: str = ""

    def bind(self, store: Any) -> SessionsKind:
        return attrs.evolve(self, actor=str(store.actor))

    def db_row(self, record: Any) -> dict[str, Any]:
        return session_row(record)

    def export_row(self, row: Mapping[str, Any]) -> dict[str, Any]:
        out = super().export_row(row)
        out["persons"] = "、".join(f"person:{p}" for p in row.get("persons") or ())
        out.pop("note", None)
        return out

    def check_chunk(self, lookups: Any, rows: Sequence[tuple[int, Any]]) -> dict[int, list[Problem]]:
        found = lookups.rows("persons", "id_number", {p for _, r in rows for p in r.persons}, ["birth_date"])
        births = {k: v["birth_date"] for k, v in found.items()}
        key_problem = self._key_problem(lookups) if any(r.note for _, r in rows) else None
        out: dict[int, list[Problem]] = {}
        for row_no, record in rows:
            problems = consent_problems(record, births)
            if record.note and key_problem is not None:
                problems.append(key_problem)
            if problems:
                out[row_no] = problems
        return out

    def _key_problem(self, lookups: Any) -> Problem | None:
        """Why this chunk's notes cannot be written with the environment's key, or None (its fingerprint then stored).

        Through ``lookups.conn``, the import's own transaction: the fingerprint
        a first import sets is kept only if the import is, and on PostgreSQL the
        row stays locked until it ends, so a key rotation waits for it.
        """
        if not crypto.has_key():
            return Problem("note", f"记录内容需加密, 请设置 {crypto.KEY_ENV} / a note needs {crypto.KEY_ENV} to be encrypted", _HIDDEN)
        try:
            keys.claim(lookups.conn, lookups.metadata, self.actor)
        except crypto.NoteKeyError as exc:
            return Problem("note", str(exc), _HIDDEN)
        return None


def import_kinds() -> list[ModelKind]:
    """``psychology.sessions`` and ``psychology.cases``."""
    sessions = SessionsKind(
        name="psychology.sessions",
        label_zh="心理疏导记录",
        label_en="Counselling sessions",
        table=SESSIONS,
        key=("ref",),
        record_type="psychology.session",
        model=Session,
        scope=("unit", "unit_code"),
        write_permission=WRITE,
        read_permission=READ,
        references=(_UNIT,),
        columns=(
            Column("ref", "记录编号", "code", required=True),
            Column("date", "疏导日期", "date", required=True, aliases=("日期",)),
            Column("counsellor", "疏导人", required=True, aliases=("心理咨询师", "咨询师")),
            Column("mode", "方式", required=True, vocab="psychology_mode", aliases=("疏导方式",)),
            Column("persons", "疏导对象", "list", required=True, personal="beneficiaries",
                   description="证件号码, 以、分隔 / ID numbers separated by 、 (person:ID also accepted)"),
            Column("unit_code", "登记单位", "code", required=True),
            Column("duration_min", "时长(分钟)", "int", aliases=("时长",)),
            Column("topics", "主题", "list"),
            Column("risk_level", "风险等级", vocab="psychology_risk"),
            Column("follow_up", "回访日期", "date"),
            Column("referral", "转介", vocab="psychology_referral"),
            Column("consent_by", "监护人同意", aliases=("监护人",)),
            Column("consent_date", "同意日期", "date"),
            Column("plan_name", "方案", "code"),
            Column("note", "记录内容", import_only=True, description="加密保存, 从不导出 / encrypted at rest, never exported"),
        ),
        description="Counselling sessions of special groups (C32); a child's session needs the guardian's consent.",
    )
    cases = ModelKind(
        name="psychology.cases",
        label_zh="社会工作个案",
        label_en="Social-work cases",
        table=CASES,
        key=("ref",),
        record_type="psychology.case",
        model=Case,
        scope=("unit", "unit_code"),
        write_permission=WRITE,
        read_permission=READ,
        references=(_UNIT, Reference("household", "households", "number", "户 / household", "household")),
        columns=(
            Column("ref", "个案编号", "code", required=True),
            Column("household", "户编号", "code", required=True),
            Column("worker", "社工", required=True),
            Column("opened", "开案日期", "date", required=True),
            Column("status", "状态", required=True, vocab="psychology_case_status"),
            Column("goals", "目标", "list", required=True),
            Column("steps", "步骤", "list"),
            Column("closed", "结案日期", "date"),
            Column("unit_code", "登记单位", "code", required=True),
            Column("plan_name", "方案", "code"),
        ),
        description="Social-work cases (C33): a household's goals, the steps taken, status.",
    )
    return [sessions, cases]
