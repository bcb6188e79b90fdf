"""The stream's action kinds: details validated, names of the catalogue accepted, rules across fields."""

from __future__ import annotations

import pytest

from fupin import Hooks, SupportAction, ValidationError

from fupin_training.catalogue import area_of


def new(pm, kind, details, **fields):
    fields.setdefault("beneficiaries", ["village:530326106200"])
    return SupportAction.new(Hooks(pm).action_kind(kind), start="2016-05-01", unit="QJNU", details=details, **fields)


def fields_of(exc: pytest.ExceptionInfo) -> set[str]:
    return {p.field for p in exc.value.problems}


class TestKinds:
    def test_registered(self, pm):
        """The four kinds are the plugin's, with the quantities and beneficiaries they record."""
        kinds = Hooks(pm).action_kinds()
        assert {"training.agri_session", "training.skill_assessment", "training.party_training", "training.research_project"} <= set(kinds)
        session = kinds["training.agri_session"]
        assert session.quantities == ("hours", "people") and "person" in session.beneficiary_types

    def test_vocabulary_merged(self, pm):
        """The technique catalogue is part of the store's vocabulary, each technique's area in its code."""
        vocab = Hooks(pm).vocabulary()
        codes = [t.code for t in vocab.terms("training_technique")]
        assert "fruit_trees.blueberry" in codes and "crops.tobacco" in codes and "livestock.pig" in codes
        assert {area_of(c) for c in codes} <= {t.code for t in vocab.terms("training_technique_area")}
        assert vocab.check("training_technique", "烤烟") == "烤烟种植与烘烤"


class TestDetails:
    def test_technique_by_name_stored_as_code(self, pm):
        """A technique named in Chinese or by an alias is stored as its code."""
        a = new(pm, "training.agri_session", {"technique": "蓝莓", "place": "示范基地", "trainers": ["王教授", " 李老师 "]})
        assert a.details.technique == "fruit_trees.blueberry" and a.details.trainers == ("王教授", "李老师")

    def test_unknown_technique_refused(self, pm):
        """A technique outside the catalogue, not of the form AREA.NAME with a known area, names the field."""
        with pytest.raises(ValidationError) as exc:
            new(pm, "training.agri_session", {"technique": "炼钢", "place": "村委会"})
        assert fields_of(exc) == {"details.technique"}

    def test_extension_code_accepted(self, pm):
        """A new technique of a known area is accepted by its code (the catalogue is extendable)."""
        a = new(pm, "training.skill_assessment", {"technique": "livestock.yak", "assessor": "县畜牧站"},
                beneficiaries=["person:530326197001010011"])
        assert a.details.technique == "livestock.yak" and a.details.result == "pass"

    def test_required_and_choices(self, pm):
        """Blank place, unknown party format, a negative head count and an unknown result are refused."""
        with pytest.raises(ValidationError) as exc:
            new(pm, "training.agri_session", {"technique": "crops.potato", "place": " "})
        assert fields_of(exc) == {"details.place"}
        with pytest.raises(ValidationError) as exc:
            new(pm, "training.party_training", {"format": "团建", "topic": "x"})
        assert fields_of(exc) == {"details.format"}
        with pytest.raises(ValidationError) as exc:
            new(pm, "training.party_training", {"format": "党课", "topic": "x", "attendees": -1})
        assert fields_of(exc) == {"details.attendees"}
        with pytest.raises(ValidationError) as exc:
            new(pm, "training.skill_assessment", {"technique": "crops.potato", "assessor": "x", "result": "maybe"},
                beneficiaries=["person:530326197001010011"])
        assert fields_of(exc) == {"details.result"}

    def test_party_format_alias(self, pm):
        """Party formats are accepted in Chinese and stored as codes."""
        assert new(pm, "training.party_training", {"format": "党课", "topic": "七一党课"}).details.format == "party_lesson"

    def test_research_needs_technique_or_sector(self, pm):
        """A research project serves a technique or a sector."""
        with pytest.raises(ValidationError):
            new(pm, "training.research_project", {"lead": "李教授"}, title="研究")
        assert new(pm, "training.research_project", {"lead": "李教授", "sector": "产业发展"}, title="研究").details.sector == "产业发展"


class TestRules:
    def test_session_rules(self, world):
        """A session without hours or trainers is refused by the store, naming what is missing."""
        kind = world.kind("training.agri_session")
        bad = SupportAction.new(kind, start="2016-05-01", unit="QJNU-BIO", beneficiaries=["village:530326106200"],
                                details={"technique": "crops.potato", "place": "村委会"})
        with pytest.raises(ValidationError) as exc:
            world.store.record_action(bad)
        assert {"quantities.hours", "details.trainers"} <= fields_of(exc)

    def test_assessment_names_one_person(self, world):
        """An assessment names exactly one person."""
        with pytest.raises(ValidationError) as exc:
            world.record("training.skill_assessment", "2016-05-01", beneficiaries=[f"person:{world.person(1, 1)}", f"person:{world.person(1, 2)}"],
                         details={"technique": "crops.potato", "assessor": "王教授"})
        assert fields_of(exc) == {"beneficiaries"}

    def test_research_rules(self, world):
        """A research project needs its title and the village it serves."""
        with pytest.raises(ValidationError) as exc:
            world.record("training.research_project", "2016-05-01", unit="QJNU", beneficiaries=["unit:QJNU-BIO"],
                         details={"lead": "李教授", "sector": "产业发展"})
        assert fields_of(exc) == {"title", "beneficiaries"}

    def test_valid_records_stored(self, world):
        """Valid records of every kind are stored with their details as codes."""
        world.session("2016-05-01", "蓝莓", [world.person(1, 1)])
        world.assessment("2016-06-01", "烤烟", world.person(2, 1))
        world.party("2016-07-01", "党课")
        world.project("2016-03-01", "2018-12-31")
        stored = {a.kind: a for a in world.store.actions()}
        assert stored["training.agri_session"].details.technique == "fruit_trees.blueberry"
        assert stored["training.skill_assessment"].details.technique == "crops.tobacco"
        assert stored["training.party_training"].details.format == "party_lesson"
        assert stored["training.research_project"].amount_fen == 5_000_000
