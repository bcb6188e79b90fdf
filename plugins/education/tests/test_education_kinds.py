"""The education action kinds: details validated, vocabulary applied, record rules."""

from __future__ import annotations

import pytest

from fupin import Hooks, SupportAction, ValidationError

from fupin_education.kinds import record_problems


def _action(pm, kind, details, beneficiaries=(), **fields):
    return SupportAction.new(Hooks(pm).action_kind(kind), start=fields.pop("start", "2017-04-10"), unit="QJNU-EDU",
                             details=details, beneficiaries=beneficiaries, **fields)


class TestDetails:
    def test_five_kinds(self, pm):
        """The plugin adds its five kinds, each with a details class."""
        kinds = {k: v for k, v in Hooks(pm).action_kinds().items() if k.startswith("education.")}
        assert sorted(kinds) == ["education.internship", "education.sanxiaxiang", "education.study_pair",
                                 "education.teacher_training", "education.teacher_visit"]
        assert all(k.details is not None for k in kinds.values())

    def test_subject_from_the_vocabulary(self, pm):
        """A subject is matched against the vocabulary and stored by its Chinese label."""
        a = _action(pm, "education.teacher_training", {"subject": "math", "topic": "课堂教学", "trainers": ["李教授", " 王教授 "]})
        assert a.details.subject == "数学"
        assert a.details.trainers == ("李教授", "王教授")

    def test_unknown_subject_refused(self, pm):
        """A subject outside the vocabulary is refused, naming the field."""
        with pytest.raises(ValidationError) as info:
            _action(pm, "education.teacher_training", {"subject": "炼金术", "topic": "x", "trainers": ["李教授"]})
        assert "details.subject" in str(info.value)

    def test_trainee_needs_a_school(self, pm):
        """A trainee is NAME@SCHOOL-CODE."""
        with pytest.raises(ValidationError) as info:
            _action(pm, "education.teacher_visit", {"programme": "研修班", "trainees": ["张老师"]}, ["unit:ZHZ-YZ"])
        assert "details.trainees" in str(info.value)
        ok = _action(pm, "education.teacher_visit", {"programme": "研修班", "trainees": ["张老师 ＠ ZHZ-YZ"]}, ["unit:ZHZ-YZ"])
        assert ok.details.trainees == ("张老师@ZHZ-YZ",)

    def test_internship_fields(self, pm):
        """An internship needs its student, mentor and supervisor; lessons are not negative; evaluation from the list."""
        with pytest.raises(ValidationError) as info:
            _action(pm, "education.internship", {"student": "", "subject": "语文", "mentor": "m", "supervisor": "s", "lessons": -1}, ["unit:HZ-YZ"])
        text = str(info.value)
        assert "details.student" in text or "details.lessons" in text
        a = _action(pm, "education.internship", {"student": "周同学", "subject": "英语", "mentor": "m", "supervisor": "s",
                                                 "lessons": "30", "evaluation": "good"}, ["unit:HZ-YZ"])
        assert (a.details.lessons, a.details.evaluation) == (30, "良好")

    def test_team_activities(self, pm):
        """三下乡 activities and the vacation come from the vocabulary; at least one activity."""
        a = _action(pm, "education.sanxiaxiang", {"team": "支教团", "vacation": "summer", "supervisor": "s", "members": ["a", "b"],
                                                  "activities": ["teaching", "义诊", "义诊"]}, ["village:530326106200"], start="2017-07-15")
        assert a.details.vacation == "暑假" and a.details.activities == ("支教", "义诊", "义诊")
        with pytest.raises(ValidationError):
            _action(pm, "education.sanxiaxiang", {"team": "t", "vacation": "summer", "supervisor": "s", "members": ["a"], "activities": []})


class TestRecordRules:
    def test_trainees_school_is_a_beneficiary(self, pm):
        """Each trainee's school must be named as a unit beneficiary."""
        a = _action(pm, "education.teacher_visit", {"programme": "研修班", "trainees": ["张老师@ZHZ-YZ", "李老师@TMC-XX"]}, ["unit:ZHZ-YZ"])
        problems = record_problems(a)
        assert [p.value for p in problems] == ["TMC-XX"]

    def test_one_host_school(self, pm):
        """An internship has exactly one host school."""
        a = _action(pm, "education.internship", {"student": "s", "subject": "语文", "mentor": "m", "supervisor": "v"}, ["unit:HZ-YZ", "unit:ZHZ-YZ"])
        assert record_problems(a)

    def test_winter_team_in_winter(self, pm):
        """A winter team starting in July is refused."""
        a = _action(pm, "education.sanxiaxiang", {"team": "t", "vacation": "寒假", "supervisor": "s", "members": ["a"], "activities": ["支教"]},
                    start="2017-07-15")
        assert [p.field for p in record_problems(a)] == ["start"]

    def test_one_student_per_pair(self, pm):
        """A study pair names exactly one student."""
        a = _action(pm, "education.study_pair", {"staff": "王老师"})
        assert record_problems(a)
