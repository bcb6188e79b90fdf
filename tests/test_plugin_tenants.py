"""Plugins as tenants: their permissions (``fupin_permissions``), roles naming them, a faulty
plugin's roles left out and named, and roles limited to action kinds (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

import attrs
import pytest

import fupin
from fupin import Actor, SupportAction, Unit
from fupin.access import AccessDenied, Permission, User, resolve_access
from fupin.hooks import Hooks
from fupin.io.engine import import_files
from fupin.io.export import export_rows
from fupin.plugins import list_plugins, plugin_failures


@attrs.frozen
class Clinic:
    """Details of a free clinic (义诊)."""

    patients: int


class ClinicPlugin:
    """A medical college's plugin: one action kind, one permission, two roles limited to kinds."""

    @fupin.hookimpl
    def fupin_action_kinds(self) -> list[fupin.ActionKind]:
        return [fupin.ActionKind("clinic.free_clinic", "义诊", "free clinic", details=Clinic, beneficiary_types=("village", "household"))]

    @fupin.hookimpl
    def fupin_permissions(self) -> list[Permission]:
        return [Permission("clinic.approve", "审核义诊记录", "approve free-clinic records", scopes=("all", "plans", "unit"))]

    @fupin.hookimpl
    def fupin_roles(self) -> list[dict[str, Any]]:
        return [{"roles": {
            "clinic_doctor": {"zh": "义诊医生", "en": "clinic doctor", "scope": "unit",
                              "permissions": ["actions.read", "actions.write", "clinic.approve"], "kinds": ["clinic.*"]},
            "goods_clerk": {"zh": "物资登记员", "en": "goods clerk", "scope": "all",
                            "permissions": ["actions.read", "actions.write"], "kinds": ["core.goods"]},
        }}]


def roles_plugin(*, permissions: list[Any] = (), roles: dict[str, Any] | None = None) -> object:
    """A plugin contributing only ``permissions`` and ``roles``."""

    class Plugin:
        @fupin.hookimpl
        def fupin_permissions(self) -> list[Any]:
            return list(permissions)

        @fupin.hookimpl
        def fupin_roles(self) -> list[dict[str, Any]]:
            return [{"roles": roles or {}}]

    return Plugin()


@pytest.fixture
def pm(pm: Any) -> Any:
    pm.register(ClinicPlugin(), name="clinic")
    return pm


class TestPermissionsHook:
    def test_a_plugin_permission_is_declared_and_granted(self, store: Any) -> None:
        """A declared permission is known with its meaning, and a plugin role may grant it."""
        assert store.permissions["clinic.approve"] == "approve free-clinic records"
        setup = store.hooks.access_setup()
        assert setup.permissions["clinic.approve"].plugin == "clinic"
        assert str(setup.permissions["clinic.approve"]) == "审核义诊记录 / approve free-clinic records"
        assert "clinic.approve" in store.roles["clinic_doctor"].permissions
        assert store.roles["clinic_doctor"].kinds == ("clinic.*",)
        assert setup.failures == ()
        assert [i.contributions["permissions"] for i in list_plugins(store.pm) if i.name == "clinic"] == [["clinic.approve"]]

    def test_a_role_naming_an_unknown_permission_names_its_plugin_and_role(self, pm: Any, cli: Any, sqlite_url: str) -> None:
        """The faulty plugin is listed as a failure; its roles are left out; every other command keeps working."""
        pm.register(roles_plugin(roles={"nurse": {"scope": "unit", "permissions": ["clinic.treat"]}}), name="ward")
        [(plugin, reason)] = Hooks(pm).access_setup().failures
        assert plugin == "ward" and "role 'nurse'" in reason and "clinic.treat" in reason
        assert "\n" not in reason
        [failure] = plugin_failures(pm)
        assert failure.name == "ward" and "nurse" in failure.cause and "left out" in failure.cause
        assert cli("--db", sqlite_url, "init").exit_code == 0
        listed = cli("plugins", "--json")
        assert listed.exit_code == 0, listed.output
        out = json.loads(listed.output)
        assert [f["name"] for f in out["failures"]] == ["ward"]
        assert "ward" in [p["name"] for p in out["plugins"]]  # its other contributions still work
        roles = cli("--db", sqlite_url, "users", "roles")
        assert roles.exit_code == 0, roles.output
        assert "clinic_doctor" in roles.output and "nurse" not in roles.output

    def test_a_permission_clash_refuses_the_second_plugin(self, pm: Any) -> None:
        """Two plugins declaring one permission, or a plugin redeclaring a core one: the later plugin is refused."""
        pm.register(roles_plugin(permissions=[Permission("clinic.approve", "审核", "approve")],
                                 roles={"x": {"scope": "all", "permissions": ["actions.read"]}}), name="copycat")
        pm.register(roles_plugin(permissions=[{"name": "actions.read", "zh": "读", "en": "read"}]), name="greedy")
        setup = Hooks(pm).access_setup()
        reasons = dict(setup.failures)
        assert reasons["copycat"] == "permission 'clinic.approve' is already declared by plugin 'clinic'"
        assert reasons["greedy"] == "permission 'actions.read' is already declared by the core"
        assert "x" not in setup.roles and "clinic_doctor" in setup.roles
        assert setup.permissions["clinic.approve"].plugin == "clinic"

    def test_a_permission_granted_in_a_scope_it_does_not_take_is_refused(self, pm: Any) -> None:
        """``scopes`` says where a permission makes sense; a cadre-scoped role granting clinic.approve is refused."""
        pm.register(roles_plugin(roles={"village_doctor": {"scope": "cadre", "permissions": ["clinic.approve"]}}), name="village")
        reasons = dict(Hooks(pm).access_setup().failures)
        assert reasons == {"village": "role 'village_doctor' grants clinic.approve in scope 'cadre', which it does not take (all, plans, unit)"}

    def test_leaving_a_plugin_out_refuses_roles_that_need_its_permissions(self) -> None:
        """A role naming the permission of a refused plugin is refused in turn, and says why."""
        setup = resolve_access([
            ("a", [{"name": "a.go", "zh": "走", "en": "go", "scopes": ["bogus"]}], []),
            ("b", [], [{"roles": {"walker": {"scope": "all", "permissions": ["a.go"]}}}]),
        ])
        reasons = dict(setup.failures)
        assert "scopes must be among" in reasons["a"]
        assert "role 'walker' names unknown permission(s) a.go" in reasons["b"]
        assert "walker" not in setup.roles

    def test_a_bad_kind_pattern_is_refused(self) -> None:
        """``kinds`` lists kind names or PLUGIN.*."""
        setup = resolve_access([("p", [], [{"roles": {"r": {"scope": "all", "permissions": ["actions.read"], "kinds": ["clinic*"]}}}])])
        assert dict(setup.failures) == {"p": "role 'r': kinds must be action kinds or PLUGIN.*, got 'clinic*'"}

    def test_the_first_party_plugins_declare_their_permissions(self) -> None:
        """funding.approve and psychology.rekey come through fupin_permissions, with their scopes."""
        import fupin_funding
        import fupin_psychology
        from fupin.plugins import get_plugin_manager

        pm = get_plugin_manager(load_entrypoints=False)
        pm.register(fupin_funding, name="funding")
        pm.register(fupin_psychology, name="psychology")
        setup = Hooks(pm).access_setup()
        assert setup.failures == ()
        assert setup.permissions["funding.approve"].plugin == "funding"
        assert setup.permissions["psychology.rekey"].scopes == ("all",)
        assert "funding.approve" in setup.roles["plan_office"].permissions
        assert "psychology.rekey" in setup.roles["platform_admin"].permissions


# -- roles limited to action kinds ------------------------------------------------------

DAY = dt.date(2021, 5, 6)
DOCTOR = Actor("MED", "doctor")
CLERK = Actor("PROV", "goods")


def _world(store: Any) -> dict[str, int]:
    """Two units, a doctor limited to clinic.* in unit MED, a goods clerk limited to core.goods everywhere,
    and one action of each kind by MED."""
    with store.transaction():
        store.add_unit(Unit.new(vocab=store.vocab, code="MED", name="医学院", kind="院系部门"))
        store.add_unit(Unit.new(vocab=store.vocab, code="PROV", name="省物资处", kind="政府机关"))
    store.add_user(User("MED", "doctor", ("clinic_doctor",)))
    store.add_user(User("PROV", "goods", ("goods_clerk",)))
    kinds = store.hooks.action_kinds()
    clinic = store.record_action(SupportAction.new(kinds["clinic.free_clinic"], start=DAY, unit="MED", details={"patients": 40}, ref="MED-1"))
    goods = store.record_action(SupportAction.new(kinds["core.goods"], start=DAY, unit="MED", details={"item": "书", "quantity": 3}, ref="MED-2"))
    return {"clinic": clinic.id, "goods": goods.id}


def _exported(store: Any) -> list[str]:
    headers, rows = export_rows(store, store.hooks.importers()["actions"], english=True)
    return sorted(dict(zip(headers, r))["ref"] for r in rows)


def _write(path: Path, rows: list[dict[str, Any]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


class TestRolesLimitedToKinds:
    def test_listing_and_export_leave_other_kinds_out(self, store: Any) -> None:
        """The doctor sees MED's clinic only; the goods clerk (scope all) sees goods only."""
        _world(store)
        doctor, clerk = store.acting_as(DOCTOR), store.acting_as(CLERK)
        assert [a.ref for a in doctor.actions()] == ["MED-1"]
        assert [a.ref for a in clerk.actions()] == ["MED-2"]
        assert [a.ref for a in store.actions()] == ["MED-1", "MED-2"]
        assert _exported(doctor) == ["MED-1"]
        assert _exported(clerk) == ["MED-2"]

    def test_recording_another_kind_is_refused(self, store: Any) -> None:
        """A role's permission does not reach a new action of a kind outside its kinds."""
        _world(store)
        kinds = store.hooks.action_kinds()
        doctor = store.acting_as(DOCTOR)
        with pytest.raises(AccessDenied, match="actions.write"):
            doctor.record_action(SupportAction.new(kinds["core.goods"], start=DAY, unit="MED", details={"item": "米", "quantity": 1}))
        done = doctor.record_action(SupportAction.new(kinds["clinic.free_clinic"], start=DAY, unit="MED", details={"patients": 5}, ref="MED-3"))
        assert done.id is not None
        assert {a.ref for a in store.actions()} == {"MED-1", "MED-2", "MED-3"}

    def test_importing_checks_the_new_row_and_the_stored_one(self, store: Any, tmp_path: Path) -> None:
        """A new row of another kind is refused; so is a row turning a stored goods action into a clinic."""
        _world(store)
        doctor = store.acting_as(DOCTOR)
        base = {"ref": "", "kind": "", "start": DAY.isoformat(), "unit": "MED", "details.patients": "", "details.item": "", "details.quantity": ""}
        new_goods = _write(tmp_path / "goods.csv", [{**base, "ref": "MED-9", "kind": "core.goods", "details.item": "米", "details.quantity": "2"}])
        result = import_files(doctor, "actions", [new_goods], on_error="skip")
        assert result.inserted == 0 and result.rejected == 1
        assert "actions.write" in str(result.errors[0])
        takeover = _write(tmp_path / "takeover.csv", [{**base, "ref": "MED-2", "kind": "clinic.free_clinic", "details.patients": "7"}])
        result = import_files(doctor, "actions", [takeover], on_error="skip")
        assert result.rejected == 1, result.errors
        assert "actions.write" in str(result.errors[0]) or "权限" in str(result.errors[0]), result.errors
        assert {a.ref: a.kind for a in store.actions()} == {"MED-1": "clinic.free_clinic", "MED-2": "core.goods"}
        clinic = _write(tmp_path / "clinic.csv", [{**base, "ref": "MED-4", "kind": "clinic.free_clinic", "details.patients": "9"}])
        result = import_files(doctor, "actions", [clinic])
        assert result.inserted == 1 and result.rejected == 0, result.errors
        assert [a.ref for a in doctor.actions()] == ["MED-1", "MED-4"]

    def test_other_records_are_not_limited(self, store: Any) -> None:
        """kinds limits support actions only: the doctor still holds clinic.approve and aggregates nothing else."""
        _world(store)
        access = store.acting_as(DOCTOR).access
        assert access.has("clinic.approve") and access.has("actions.read")
        assert access.scopes("actions.read") == {"unit"}
        assert not access.reaches_everything("actions.read")
        clerk = store.acting_as(CLERK).access
        assert clerk.reaches_everything("actions.read", "unit") and not clerk.reaches_everything("actions.read", "action")


# -- validators and converters see the store's vocabulary -------------------------------------


class YiProvince:
    """A province's plugin extending the education plugin's subjects with 彝语 (Yi language)."""

    @fupin.hookimpl
    def fupin_vocabularies(self) -> list[dict[str, Any]]:
        return [{"education_subject": [{"code": "yi", "zh": "彝语", "en": "yi language"}]}]


class TestStoreVocabulary:
    @pytest.fixture
    def pm(self, pm: Any) -> Any:
        import fupin_education

        pm.register(fupin_education, name="education")
        pm.register(YiProvince(), name="yunnan")
        return pm

    def _training(self, subject: str) -> dict[str, Any]:
        return {"subject": subject, "topic": "双语教学", "trainers": "王教授"}

    def test_a_province_extension_of_a_plugin_list_is_accepted(self, store: Any, tmp_path: Path) -> None:
        """Recorded, imported and read back through the store: the converter checks the merged vocabulary."""
        kind = store.hooks.action_kind("education.teacher_training")
        with store.transaction():
            store.add_unit(Unit.new(vocab=store.vocab, code="QJNU-EDU", name="教师教育学院", kind="院系部门"))
        action = SupportAction.new(kind, start=DAY, unit="QJNU-EDU", details=self._training("彝语"), vocab=store.vocab, ref="EDU-1")
        store.record_action(action)
        row = {"ref": "EDU-2", "kind": "education.teacher_training", "start": DAY.isoformat(), "unit": "QJNU-EDU",
               "details.subject": "彝语", "details.topic": "双语教学", "details.trainers": "李老师"}
        result = import_files(store, "actions", [_write(tmp_path / "edu.csv", [row])])
        assert result.inserted == 1, result.errors
        assert [a.details.subject for a in store.actions(kind="education.teacher_training")] == ["彝语", "彝语"]

    def test_without_a_store_the_plugin_list_alone_applies(self, store: Any) -> None:
        """A record built by hand, with no store's vocabulary, is checked against the plugin's own lists."""
        from fupin.errors import ValidationError

        kind = store.hooks.action_kind("education.teacher_training")
        with pytest.raises(ValidationError) as refused:
            SupportAction.new(kind, start=DAY, unit="QJNU-EDU", details=self._training("彝语"))
        assert [p.field for p in refused.value.problems] == ["details.subject"]

    def test_validate_record_sees_the_store_vocabulary(self, pm: Any, store: Any) -> None:
        """fupin_validate_record runs with current_vocabulary() set to the store's merged vocabulary."""
        from fupin.vocab import current_vocabulary

        seen: list[bool] = []

        class Spy:
            @fupin.hookimpl
            def fupin_validate_record(self, record: Any, record_type: str) -> None:
                seen.append(current_vocabulary().find("education_subject", "彝语") is not None)

        pm.register(Spy(), name="spy")
        from fupin.hooks import Hooks

        Hooks(pm).validate_record(Unit.new(vocab=store.vocab, code="MED", name="医学院", kind="院系部门"), "unit")
        assert seen == [True]


@attrs.frozen
class Checkup:
    """A validator that names its field under details, as the guide shows."""

    patients: int = attrs.field()

    @patients.validator
    def _positive(self, _attribute: Any, value: int) -> None:
        if value <= 0:
            raise fupin.ValidationError.of("details.patients", "至少一人 / at least one patient", value)


def test_a_details_field_is_named_once() -> None:
    """A validator raising on ``details.patients`` is reported as details.patients, not details.details.patients."""
    kind = fupin.ActionKind("clinic.checkup", "体检", "check-up", details=Checkup)
    with pytest.raises(fupin.ValidationError) as refused:
        SupportAction.new(kind, start=DAY, unit="MED", details={"patients": 0})
    assert [p.field for p in refused.value.problems] == ["details.patients"]


# -- plugin targets' parameters are validated like the core's ---------------------------------


def _clinic_target(ctx: Any) -> Any:
    return ctx.judge(required=ctx.param("min_clinics"), actual=0)


class ClinicTargets:
    @fupin.hookimpl
    def fupin_targets(self) -> list[Any]:
        from fupin.checks import Param, TargetSpec

        return [TargetSpec("clinicplan.clinics_per_year", "每年义诊次数", "free clinics per year", _clinic_target,
                           params=(Param("min_clinics", "count", required=True, zh="每年至少义诊次数", en="free clinics a year, at least"),))]


def _plan_with_clinic(tmp_path: Path, params: str) -> Path:
    from fupin.plans import load_plan

    text = load_plan("qjnu-tuomu").text
    old = 'target = "core.meetings_per_year"\n# bodies: which meetings are the 学校领导班子\'s (a meeting\'s details.body) is the plan office\'s choice, not the seed\'s.\nparams = { min_per_year = 2, bodies = ["党委会", "党委常委会", "校长办公会", "领导班子会议"] }'
    assert text.count(old) == 1
    path = tmp_path / "clinic-plan.toml"
    path.write_text(text.replace(old, f'target = "clinicplan.clinics_per_year"\nparams = {params}'), encoding="utf-8")
    return path


class TestPluginTargetParams:
    @pytest.fixture
    def pm(self, pm: Any) -> Any:
        pm.register(ClinicTargets(), name="clinicplan")
        return pm

    @pytest.mark.parametrize(("params", "named"), [
        ('{ min_clinic = 2 }', "C03.params.min_clinic"),
        ('{ min_clinics = "两" }', "C03.params.min_clinics"),
        ('{ }', "C03.params.min_clinics"),
    ])
    def test_show_lint_and_load_refuse_a_bad_parameter(self, cli: Any, sqlite_url: str, tmp_path: Path, params: str, named: str) -> None:
        """An unknown, mistyped or missing parameter of a plugin's target is refused, naming the commitment and key."""
        path = _plan_with_clinic(tmp_path, params)
        shown = cli("plan", "show", str(path))
        assert shown.exit_code == 1 and named in shown.output, shown.output
        linted = cli("plan", "lint", str(path), "--json")
        assert linted.exit_code == 1 and named in linted.output, linted.output
        assert cli("--db", sqlite_url, "init").exit_code == 0
        loaded = cli("--db", sqlite_url, "plan", "load", str(path))
        assert loaded.exit_code == 1 and named in loaded.output and "Traceback" not in loaded.output, loaded.output

    def test_store_refuses_and_accepts_on_both_backends(self, store: Any, tmp_path: Path) -> None:
        """save_plan refuses the mistyped parameter and stores the good one."""
        from fupin.errors import PlanError
        from fupin.plans import load_plan

        with pytest.raises(PlanError, match=r"C03\.params\.min_clinics"):
            store.save_plan(load_plan(_plan_with_clinic(tmp_path, '{ min_clinics = "两" }')))
        store.save_plan(load_plan(_plan_with_clinic(tmp_path, "{ min_clinics = 3 }")))
        assert dict(store.plan("qjnu-tuomu").commitment("C03").params) == {"min_clinics": 3}


# -- import --list and templates -------------------------------------------------------------


class TestImportColumns:
    @pytest.fixture
    def pm(self, pm: Any) -> Any:
        import fupin_education

        pm.register(fupin_education, name="education")
        return pm

    def test_import_list_shows_a_one_kind_import_with_its_template_columns(self, cli: Any, tmp_path: Path) -> None:
        """education.internships lists the columns its template has, not every action kind's."""
        listed = cli("import", "--list", "--json")
        assert listed.exit_code == 0, listed.output
        kinds = {k["kind"]: k for k in json.loads(listed.output)}
        internship = [c["name"] for c in kinds["education.internships"]["columns"]]
        assert cli("template", "education.internships", "--format", "csv", "--english", "-o", str(tmp_path / "t.csv")).exit_code == 0
        template = (tmp_path / "t.csv").read_text(encoding="utf-8-sig").splitlines()[0].split(",")
        assert internship == template
        assert "details.subject" in internship and "details.trainers" not in internship
        assert len(kinds["actions"]["columns"]) > len(internship)  # the all-kinds import keeps every kind's columns

    def test_a_multi_value_column_gets_no_single_value_drop_down(self, cli: Any, tmp_path: Path) -> None:
        """In an XLSX template, list columns (其他致贫原因, 活动) carry no drop-down; single-value ones do."""
        import openpyxl

        for kind, single, multi in [("households", "主要致贫原因", "其他致贫原因"), ("education.sanxiaxiang_teams", "假期", "活动")]:
            path = tmp_path / f"{kind}.xlsx"
            made = cli("template", kind, "--format", "xlsx", "-o", str(path))
            assert made.exit_code == 0, made.output
            sheet = openpyxl.load_workbook(path).worksheets[0]
            headers = [c.value for c in sheet[1]]
            validated = {headers[cell.col_idx - 1] for dv in sheet.data_validations.dataValidation
                         for rng in dv.sqref.ranges for cell in [sheet.cell(row=rng.min_row, column=rng.min_col)]}
            assert single in validated and multi not in validated, (kind, validated)
