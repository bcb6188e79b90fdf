"""The store on a real SQLite file and a real PostgreSQL server."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from fupin import (
    ActionKind,
    Actor,
    Area,
    Cadre,
    Household,
    NotFound,
    Person,
    Problem,
    StorageError,
    Store,
    SupportAction,
    Tag,
    Unit,
    ValidationError,
    VillageProfile,
    hookimpl,
)
from fupin.idnumber import make_id_number
from fupin.storage import schema

from tests.campaign_seed import tuomu_chain

GROUP = "53032610620001"

PLUGIN_MIGRATION = '''"""dept: lectures table."""
import sqlalchemy as sa
from alembic import op

revision = "dept_0001"
down_revision = None
branch_labels = ("dept",)
depends_on = "core"


def upgrade():
    op.create_table("dept_lectures", sa.Column("id", sa.Integer, primary_key=True), sa.Column("topic", sa.String(100)))


def downgrade():
    op.drop_table("dept_lectures")
'''


def seed_registry(store: Store) -> None:
    """Areas down to one villager group, a university with a department, and a cadre."""
    with store.transaction():
        store.add_areas(
            [
                *tuomu_chain(),
                Area(GROUP, "大沟边", "group", "530326106200"),
            ]
        )
        store.add_unit(Unit.new(code="QJNU", name="曲靖师范学院", kind="university"))
        store.add_unit(Unit.new(code="QJNU-BIO", name="生物学院", kind="department", parent_code="QJNU"))
        store.add_cadre(Cadre.new(code="C001", name="王明", unit="QJNU", rank="厅级"))


def new_household(number: str = "H001", **changes) -> Household:
    return Household.new(
        **{"number": number, "group_code": GROUP, "head_name": "张三", "attribute": "一般贫困户", "main_cause": "因病", **changes}
    )


def new_person(seq: int, relation: str = "户主", household: str = "H001", sex: str = "男") -> Person:
    return Person.new(
        id_number=make_id_number("530326", dt.date(1970, 1, 1 + seq), seq, sex),
        household=household,
        name=f"人{seq}",
        relation=relation,
    )


def snapshot(store: Store) -> dict[str, int]:
    """Row counts of every core table."""
    return {t.name: store.count(t.name) for t in schema.CORE_TABLES}


class TestSchema:
    def test_migrations_build_the_declared_schema(self, store):
        """After `init`, the database matches the Table objects exactly (no autogenerate diff)."""
        with store.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), schema.metadata)
        assert diff == []

    def test_init_is_idempotent(self, store):
        """A second init on an up-to-date database changes nothing."""
        seed_registry(store)
        before = snapshot(store)
        store.init()
        assert snapshot(store) == before

    def test_audit_log_is_append_only(self, store):
        """The database itself refuses to delete or change audit entries."""
        seed_registry(store)
        assert store.audit_entries()
        for statement in ("DELETE FROM audit_log", "UPDATE audit_log SET unit = 'x'"):
            with pytest.raises(sa.exc.DatabaseError, match="append-only"):
                with store.engine.begin() as conn:
                    conn.execute(sa.text(statement))
        assert len(store.audit_entries()) == store.count("audit_log") > 0

    def test_database_keeps_one_head_per_household(self, store):
        """Even a write that bypasses the checks cannot give a household a second head."""
        seed_registry(store)
        store.add_household(new_household())
        store.add_person(new_person(1))
        second = {"id_number": new_person(2).id_number, "household_id": 1, "name": "x", "relation": "户主",
                  "sex": "男", "birth_date": "1970-01-03"}
        with pytest.raises(sa.exc.IntegrityError):
            with store.engine.begin() as conn:
                conn.execute(sa.insert(schema.persons).values(**second | {"birth_date": dt.date(1970, 1, 3)}))
        assert store.count("persons") == 1

    def test_reset_empties_everything(self, store):
        """reset() drops every record and history, leaving a fresh schema."""
        seed_registry(store)
        store.reset()
        assert store.is_initialised() and store.is_empty()
        # Only the new administrator (the actor who reset it) is on record.
        assert [(e.table_name, e.record_key) for e in store.audit_entries()] == [("users", "TEST:tester")]

    def test_plugin_migrations_upgrade_an_existing_database(self, database_url, pm, tmp_path):
        """A plugin installed later adds its own alembic branch; `init` creates its table in place."""
        versions = tmp_path / "versions"
        versions.mkdir()
        (versions / "dept_0001.py").write_text(PLUGIN_MIGRATION, encoding="utf-8")

        class Dept:
            @hookimpl
            def fupin_tables(self, metadata):
                sa.Table("dept_lectures", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("topic", sa.String(100)))

            @hookimpl
            def fupin_migrations(self):
                return [versions]

        with Store.open(database_url, pm=pm, actor=Actor.from_env()) as store:
            store.init()
            seed_registry(store)
        pm.register(Dept(), name="dept")
        with Store.open(database_url, pm=pm, actor=Actor.from_env()) as store:
            assert "dept_lectures" not in sa.inspect(store.engine).get_table_names()
            store.init()
            assert store.count("dept_lectures") == 0 and store.count("units") == 2
            with store.engine.begin() as conn:
                conn.execute(store.metadata.tables["dept_lectures"].insert().values(topic="蓝莓栽培"))
            assert store.count("dept_lectures") == 1

    def test_uninitialised_database_is_a_clear_error(self, database_url, pm):
        """Writing to a database never initialised names the database and the fix."""
        with Store.open(database_url, pm=pm, actor=Actor.from_env()) as store:
            with pytest.raises(StorageError, match="fupin init"):
                store.add_unit(Unit.new(code="U", name="u", kind="university"))


class TestRegistry:
    def test_area_parent_must_be_one_level_up(self, store):
        """A village whose parent is a county is refused, and nothing is stored."""
        seed_registry(store)
        before = snapshot(store)
        with pytest.raises(ValidationError) as exc:
            store.add_area(Area("530326106201", "新村", "village", "530326"))
        assert exc.value.problems[0].field == "parent_code"
        assert snapshot(store) == before

    def test_household_and_members_round_trip(self, store):
        """A card stored and read back is equal, members and status history included."""
        seed_registry(store)
        h = new_household(other_causes=["缺技术"], net_income_per_capita_fen=267000, dilapidated=True)
        store.add_household(h, since=dt.date(2014, 10, 1))
        store.add_person(new_person(1))
        store.add_person(new_person(2, "配偶", sex="女"))
        card = store.household_card("H001")
        assert card.household == h
        assert [m.relation for m in card.members] == ["户主", "配偶"]
        assert [(s.status, s.effective) for s in card.status_history] == [("未脱贫", dt.date(2014, 10, 1))]
        assert card.problems == ()

    def test_second_head_refused(self, store):
        """A household has exactly one head: a second 户主 is refused, naming the first."""
        seed_registry(store)
        store.add_household(new_household())
        store.add_person(new_person(1))
        with pytest.raises(ValidationError) as exc:
            store.add_person(new_person(2))
        assert exc.value.problems[0].field == "relation" and "人1" in exc.value.problems[0].reason
        assert store.count("persons") == 1

    def test_missing_head_reported_on_card(self, store):
        """A household without a head shows the problem on its card."""
        seed_registry(store)
        store.add_household(new_household())
        store.add_person(new_person(2, "配偶", sex="女"))
        assert "没有户主" in store.household_card("H001").problems[0].reason

    def test_duplicate_id_number_refused(self, store):
        """The same ID number cannot be registered twice, even in its 15-digit form."""
        seed_registry(store)
        store.add_household(new_household())
        store.add_household(new_household("H002"))
        first = new_person(1)
        store.add_person(first)
        legacy = first.id_number[:6] + first.id_number[8:17]
        with pytest.raises(ValidationError, match="already registered"):
            store.add_person(attrs.evolve(Person.new(id_number=legacy, household="H002", name="x", relation="户主")))
        assert store.count("persons") == 1

    def test_unknown_group_refused(self, store):
        """A household in an unregistered villager group is refused, naming the field."""
        seed_registry(store)
        with pytest.raises(ValidationError) as exc:
            store.add_household(new_household(group_code="53032610620099"))
        assert exc.value.problems[0].field == "group_code"
        assert store.count("households") == 0

    def test_update_keeps_history_and_audit(self, store):
        """A status change is dated in the history; the audit entry has old and new values and the actor."""
        seed_registry(store)
        store.add_household(new_household(), since=dt.date(2014, 10, 1))
        store.update_household("H001", {"status": "已脱贫(享受政策)"}, effective=dt.date(2017, 12, 1), reason="达到脱贫标准")
        card = store.household_card("H001")
        assert [s.status for s in card.status_history] == ["未脱贫", "已脱贫(享受政策)"]
        entry = store.audit_entries(table="households", key="H001")[-1]
        assert (entry.operation, entry.old, entry.new) == ("update", {"status": "未脱贫"}, {"status": "已脱贫(享受政策)"})
        assert (entry.unit, entry.user, entry.reason) == ("TEST", "tester", "达到脱贫标准")

    def test_update_validates_like_entry(self, store):
        """An update to an unknown attribute is refused and the card is unchanged."""
        seed_registry(store)
        store.add_household(new_household())
        with pytest.raises(ValidationError):
            store.update_household("H001", {"attribute": "富裕户"})
        assert store.get_household("H001").attribute == "一般贫困户"

    def test_tags_and_profile(self, store):
        """Tags are dated on the card; a profile for a year is replaced by a newer one for that year."""
        seed_registry(store)
        store.add_household(new_household())
        child = new_person(3, "之子")
        store.add_person(new_person(1))
        store.add_person(child)
        store.add_tag(Tag.new(id_number=child.id_number, tag="留守儿童", start="2015-03-01"))
        assert [(t.tag, t.start) for t in store.household_card("H001").tags] == [("留守儿童", dt.date(2015, 3, 1))]
        store.put_village_profile(VillageProfile("530326106200", 2015, households=778, population=2996))
        store.put_village_profile(VillageProfile("530326106200", 2015, households=780, population=3001))
        assert store.village_profile("530326106200", 2015).households == 780
        with pytest.raises(NotFound):
            store.village_profile("530326106200", 2016)

    def test_every_write_is_audited_with_the_actor(self, database_url, pm):
        """Each insert leaves one audit entry naming the actor's unit and user."""
        with Store.open(database_url, pm=pm, actor=Actor("QJNU-BIO", "clerk7")) as store:
            store.init()
            store.add_areas([Area("530000", "云南省", "province")])
            store.add_unit(Unit.new(code="QJNU", name="曲靖师范学院", kind="university"))
            entries = store.audit_entries()
        assert [(e.operation, e.table_name, e.record_key) for e in entries] == [
            ("insert", "users", "QJNU-BIO:clerk7"),  # the first actor becomes the administrator
            ("insert", "areas", "530000"),
            ("insert", "units", "QJNU"),
        ]
        assert {(e.unit, e.user) for e in entries} == {("QJNU-BIO", "clerk7")}
        assert entries[2].new["name"] == "曲靖师范学院"


class TestActions:
    def test_record_and_read_back(self, store):
        """An action with helpers, beneficiaries, money and details reads back equal."""
        seed_registry(store)
        store.add_household(new_household())
        kind = store.hooks.action_kind("core.goods")
        action = SupportAction.new(
            kind,
            start="2016-09-01",
            unit="QJNU",
            helpers=["C001"],
            beneficiaries=["household:H001", "village:530326106200"],
            amount_fen=285000,
            details={"item": "校服", "quantity": 19, "unit_of_measure": "套"},
            title="校服",
        )
        stored = store.record_action(action)
        assert stored.id is not None
        assert list(store.actions()) == [stored]
        assert [a.id for a in store.household_card("H001").actions] == [stored.id]

    def test_unknown_kind_refused_and_nothing_stored(self, store):
        """An unknown kind is refused before anything is written."""
        seed_registry(store)
        before = snapshot(store)
        bogus = SupportAction(kind="core.nothing", start=dt.date(2016, 1, 1), end=dt.date(2016, 1, 1), unit="QJNU")
        with pytest.raises(ValidationError, match="unknown action kind"):
            store.record_action(bogus)
        assert snapshot(store) == before

    def test_bad_references_refused_and_nothing_stored(self, store):
        """Unregistered helpers and beneficiaries are each named; no row or audit entry is written."""
        seed_registry(store)
        before = snapshot(store)
        kind = store.hooks.action_kind("core.meeting")
        action = SupportAction.new(
            kind, start="2016-01-01", unit="QJNU", helpers=["C999"], beneficiaries=["village:530326106299"],
            details={"topic": "研究"},
        )
        with pytest.raises(ValidationError) as exc:
            store.record_action(action)
        assert {p.field for p in exc.value.problems} == {"helpers", "beneficiaries"}
        assert snapshot(store) == before

    def test_plugin_validation_refuses(self, database_url, pm):
        """A plugin's fupin_validate_record problem refuses the action and nothing is stored."""

        class Policy:
            @hookimpl
            def fupin_validate_record(self, record, record_type):
                if record_type == "action" and not record.helpers:
                    return [Problem("helpers", "本省要求登记帮扶干部 / this province requires a helper")]
                return None

        pm.register(Policy(), name="policy")
        with Store.open(database_url, pm=pm, actor=Actor("TEST", "tester")) as store:
            store.init()
            seed_registry(store)
            before = snapshot(store)
            action = SupportAction.new(store.hooks.action_kind("core.meeting"), start="2016-01-01", unit="QJNU", details={"topic": "x"})
            with pytest.raises(ValidationError, match="requires a helper"):
                store.record_action(action)
            assert snapshot(store) == before

    def test_details_validated_by_kind(self, store):
        """Details failing the kind's class are refused naming details.FIELD."""
        kind = store.hooks.action_kind("core.goods")
        with pytest.raises(ValidationError) as exc:
            SupportAction.new(kind, start="2016-01-01", unit="QJNU", details={"item": "米", "quantity": "many"})
        assert exc.value.problems[0].field == "details.quantity"

    def test_money_is_integer_fen(self):
        """A float amount is refused: money is integer fen."""
        with pytest.raises(ValidationError, match="integer number of fen"):
            SupportAction(kind="core.goods", start=dt.date(2016, 1, 1), end=dt.date(2016, 1, 1), unit="U", amount_fen=12.5)

    def test_plugin_kind_with_own_details(self, database_url, pm):
        """A kind from an in-process plugin is recorded with its own details class."""

        @attrs.frozen
        class Visit:
            topic: str
            hours: int

        class Dept:
            @hookimpl
            def fupin_action_kinds(self):
                return [ActionKind("dept.lecture", "讲座", "Lecture", Visit, quantities=("hours",))]

        pm.register(Dept(), name="dept")
        with Store.open(database_url, pm=pm, actor=Actor("TEST", "tester")) as store:
            store.init()
            seed_registry(store)
            kind = store.hooks.action_kind("dept.lecture")
            stored = store.record_action(
                SupportAction.new(kind, start="2017-05-04", unit="QJNU-BIO", details={"topic": "蓝莓", "hours": 3}, quantities={"hours": 3})
            )
            assert next(iter(store.actions(kind="dept.lecture"))).details == Visit("蓝莓", 3)
            assert stored.quantities == {"hours": 3}
