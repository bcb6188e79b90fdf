"""What the command line needs, public in ``fupin``: plan checks, templates, the audit chain, failure lines, the demo."""

from __future__ import annotations

import errno
import io
import sqlite3

import pytest

import fupin
from fupin import Area, Hooks, Store

ID = "530326198001011239"  # a valid ID number: only those are masked in free text


def test_yuan_to_fen_is_public_and_the_cli_reexports_it() -> None:
    """``fupin.yuan_to_fen`` parses yuan into integer fen; ``fupin.cli.yuan_to_fen`` is the same function."""
    from fupin.cli import yuan_to_fen

    assert fupin.yuan_to_fen("1,234.5") == 123450 and yuan_to_fen is fupin.yuan_to_fen


class TestDescribeFailure:
    def test_fupin_error_keeps_its_message_and_exit_code(self) -> None:
        assert fupin.describe_failure(fupin.NotFound("没有 / none")) == ("没有 / none", fupin.NotFound.exit_code)

    def test_database_error_names_the_url_without_its_password(self) -> None:
        line, code = fupin.describe_failure(sqlite3.OperationalError("disk I/O error"), "postgresql://u:secret@db/x")
        assert code == 4 and "secret" not in line and "disk I/O error" in line

    def test_os_error_and_a_bug(self) -> None:
        assert fupin.describe_failure(OSError(errno.ENOSPC, "No space", "/tmp/x")) == ("磁盘已满 / disk full: /tmp/x", 4)
        line, code = fupin.describe_failure(ZeroDivisionError("x"))
        assert code == fupin.INTERNAL_ERROR == 70 and line.startswith("内部错误 / internal error: ZeroDivisionError")


class TestPlanFiles:
    def test_validate_lint_and_render(self, pm) -> None:
        plan = fupin.load_plan("qjnu-tuomu")
        hooks = Hooks(pm)
        fupin.validate_plan(plan, hooks)
        findings = fupin.lint_plan(plan, hooks)
        assert findings and all(isinstance(f, fupin.PlanFinding) for f in findings)
        assert findings[0].to_dict()["code"] == findings[0].code
        assert findings[0].where in fupin.render_findings(findings, lang="en", plan_name=plan.name)
        assert plan.title_zh in fupin.render_plan(plan)


class TestImportKinds:
    def test_describe_and_template_to_a_stream(self, pm) -> None:
        hooks = Hooks(pm)
        kinds = {k["kind"]: k for k in fupin.describe_import_kinds(hooks)}
        assert "households" in kinds and kinds["households"]["columns"]
        out = io.BytesIO()
        fupin.write_template(hooks, "households", out, fmt="csv", english=True)
        header = out.getvalue().decode("utf-8-sig").splitlines()[0].split(",")
        assert header == [c["name"] for c in kinds["households"]["columns"]]
        with pytest.raises(KeyError):
            fupin.write_template(hooks, "no-such-kind", io.BytesIO(), fmt="csv")

    def test_is_workbook(self) -> None:
        assert fupin.is_workbook("花名册.XLSX") and fupin.is_workbook("a.xlsm")
        assert not fupin.is_workbook("a.csv") and not fupin.is_workbook("a")


class TestAudit:
    def test_verify_head_and_masked_entries(self, store: Store) -> None:
        store.add_area(Area("530000", "云南省", "province"))
        store.add_area(Area("530300", f"曲靖市 {ID}", "city", "530000"))
        verdict = store.verify_audit()
        head = store.audit_head()
        assert verdict.ok and isinstance(verdict, fupin.AuditVerdict) and isinstance(head, fupin.AuditHead)
        assert verdict.head == head and head.count == verdict.entries >= 2
        assert verdict.to_dict()["ok"] is True
        assert not store.verify_audit(expect="0" * 64).ok
        raw = store.audit_entries(table="areas")
        masked = store.audit_entries(table="areas", masked=True)
        assert ID in str(raw[-1].new) and ID not in str(masked[-1].new)
        assert [e.hash for e in raw] == [e.hash for e in masked]

    def test_needs_audit_read(self, store: Store) -> None:
        with store.acting_as(fupin.Actor("NOBODY", "nobody")) as other, pytest.raises(fupin.AccessDenied):
            other.verify_audit()
