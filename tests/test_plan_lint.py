"""Plan lint (fupin.lint and `fupin plan lint`): a plan's figures checked against each other."""

from __future__ import annotations

import importlib.resources
import json
import re

import attrs
import pytest

from fupin.lint import Finding, lint_plan, render_findings
from fupin.plans import Plan, load_plan

PLAN_NAME = "qjnu-tuomu"


@pytest.fixture(scope="module")
def text() -> str:
    """The packaged reference plan's TOML text."""
    resource = importlib.resources.files("fupin") / "data" / "plans" / f"{PLAN_NAME}.toml"
    return resource.read_text(encoding="utf-8")


def edit(text: str, *replacements: tuple[str, str]) -> str:
    """Apply each (old, new) replacement, failing if ``old`` is not in the text exactly once."""
    for old, new in replacements:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def lint(text: str) -> list[Finding]:
    return lint_plan(Plan.from_toml(text))


def by_code(findings: list[Finding], code: str) -> list[Finding]:
    return [f for f in findings if f.code == code]


# Replacements that make every figure of the reference plan agree.
AGREEING = (
    ("key_help = 153\ncontact = 183", "key_help = 158\ncontact = 178"),
    ("arable_mu_per_person_stated = 0.67", "arable_mu_per_person_stated = 0.636"),
    ("poor_households = 428", "poor_households = 336"),
    ("poor_households = 55.01", "poor_households = 43.19"),  # 336 / 778
    ("pairing_by = 2015-08-31", "pairing_by = 2015-09-30"),
)


@pytest.fixture(scope="module")
def findings() -> list[Finding]:
    """The reference plan's findings."""
    return lint_plan(load_plan(PLAN_NAME))


class TestReferencePlan:
    def test_quota_split(self, findings):
        """C08's quotas give 158 and 178 against the stated 153 and 183, both summing to 336."""
        split = {f.where: f for f in by_code(findings, "quota_split")}
        assert set(split) == {"cadres.stated.key_help", "cadres.stated.contact"}
        key_help, contact = split["cadres.stated.key_help"], split["cadres.stated.contact"]
        assert (key_help.figures["computed"], key_help.figures["stated"]) == (158, 153)
        assert (contact.figures["computed"], contact.figures["stated"]) == (178, 183)
        assert key_help.figures["computed_total"] == key_help.figures["stated_total"] == 336
        assert key_help.figures["visited"] == 336
        assert key_help.message_zh.startswith("重点帮扶: 14×4 + 34×3 = 158, 方案写 153")
        assert key_help.message_en.startswith("key-help: 14×4 + 34×3 = 158, the plan states 153")
        assert contact.message_en.startswith("contact: 14×3 + 34×4 = 178, the plan states 183")
        assert "158 + 178 = 153 + 183 = 336" in contact.message_zh
        assert all(f.severity == "warning" for f in split.values())

    def test_land_per_person(self, findings):
        """1905 mu over 2996 people is 0.636 mu each, not the stated 0.67."""
        (land,) = by_code(findings, "land_per_person")
        assert land.where == "plan.villages[0].profile.arable_mu_per_person_stated"
        assert land.figures["computed"] == 0.636
        assert land.figures["stated"] == 0.67
        assert land.figures["tolerance"] == 0.005
        assert "1905 ÷ 2996 = 0.636" in land.message_zh
        assert "0.67" in land.message_en

    def test_visited_vs_poor(self, findings):
        """336 households to visit leave 92 of the 428 poor households out; the quotas cover 336."""
        (visited,) = by_code(findings, "visited_vs_poor")
        assert visited.where == "cadres.stated.visited"
        assert visited.figures["promised"] == 336
        assert visited.figures["poor_households"] == 428
        assert visited.figures["difference"] == 92
        assert visited.figures["quota_capacity"] == 336
        assert "428 − 336 = 92" in visited.message_zh
        assert "14×(4+3) + 34×(3+4) = 336" in visited.message_en

    def test_agreeing_figures_not_reported(self, findings):
        """The head count (14 + 34 = 48), the shares and the calendar agree: no finding for them."""
        codes = {f.code for f in findings}
        assert not codes & {"head_count", "share", "calendar_years", "calendar_event", "quota_total"}
        assert not [f for f in findings if f.severity == "error"]

    def test_quota_split_explained_by_searching_the_splits(self, findings):
        """Of every split of the 48 cadres, only 9 厅级 + 39 处级 gives 153 and 183: 5 of the 14 厅级 counted as 处级."""
        (note,) = by_code(findings, "quota_split_explained")
        assert note.severity == "note" and note.where == "cadres.ranks"
        assert note.figures["split"] == [9, 39] and note.figures["splits_found"] == 1
        assert note.figures["counts"] == [14, 34] and note.figures["head_count"] == 48
        assert "9×4 + 39×3 = 153, 9×3 + 39×4 = 183" in note.message_zh
        assert "5 of its 14 厅级 cadres with the 处级 quotas (14 − 5 = 9)" in note.message_en
        assert "14 名厅级中的 5 名按处级的标准计算" in note.message_zh

    def test_first_round_due_eight_days_after_issue(self, findings):
        """The first round is due 2015-10-31, eight days after the plan was issued on 2015-10-23."""
        (note,) = by_code(findings, "short_notice")
        assert note.where == "C10.params.first_round_by" and note.severity == "note"
        assert note.figures["days"] == 8
        assert "2015-10-31 − 2015-10-23 = 8 天" in note.message_zh
        assert "only 8 days after the plan was issued" in note.message_en

    def test_questionnaire_under_two_titles(self, findings):
        """C11 names each visit questionnaire twice (四(一) and 六(二)); the second title adds 遍访."""
        notes = by_code(findings, "two_titles")
        assert [n.where for n in notes] == ["C11.params.questionnaires[0]", "C11.params.questionnaires[1]"]
        assert all(n.figures["added"] == "遍访" and n.figures["dropped"] == "" for n in notes)
        assert "《云南省贫困村访谈问卷》与《云南省遍访贫困村访谈问卷》" in notes[0].message_zh
        assert "四(一)、六(二)" in notes[0].message_zh

    def test_date_before_period(self, findings):
        """C10's pairing deadline 2015-08-31 precedes the plan period and its issue date."""
        (date,) = by_code(findings, "date_outside_period")
        assert date.where == "C10.params.pairing_by"
        assert date.figures["days_outside"] == -1
        assert "2015-10-23" in date.message_en

    def test_rates_per_year_are_not_years(self, findings):
        """min_per_year = 2 is a rate, not a calendar year outside the period."""
        assert not by_code(findings, "year_outside_period")

    def test_findings_are_json_ready(self, findings):
        """to_dict() survives a JSON round trip and message() picks the language."""
        data = json.loads(json.dumps([f.to_dict() for f in findings]))
        assert [d["code"] for d in data] == [f.code for f in findings]
        assert data[0]["figures"]["computed"] == 158
        assert findings[0].message("en") == findings[0].message_en
        assert findings[0].message("zh") == findings[0].message_zh


class TestModifiedPlans:
    def test_agreeing_plan_has_no_findings(self, text):
        """Once the figures agree, nothing is reported but the notes on the plan's wording."""
        assert [f for f in lint(edit(text, *AGREEING)) if f.severity != "note"] == []

    def test_quotas_agreeing(self, text):
        """Stated totals equal to the quotas' sums give no quota finding."""
        findings = lint(edit(text, ("key_help = 153\ncontact = 183", "key_help = 158\ncontact = 178")))
        assert not by_code(findings, "quota_split")
        assert not by_code(findings, "quota_total")

    def test_quota_total_against_visited(self, text):
        """Stated key-help plus contact differing from the households to visit is reported."""
        (total,) = by_code(lint(edit(text, ("visited = 336", "visited = 340"))), "quota_total")
        assert total.where == "cadres.stated.visited"
        assert total.figures == {"visited": 340, "computed_total": 336, "stated_total": 336}

    def test_head_count(self, text):
        """A stated total that is not the sum of the ranks is reported with the sum."""
        (head,) = by_code(lint(edit(text, ("total = 48", "total = 50"))), "head_count")
        assert head.where == "cadres.stated.total"
        assert "14 + 34 = 48" in head.message_zh and "50" in head.message_en
        assert head.figures["difference"] == -2

    @pytest.mark.parametrize(
        ("stated", "found"),
        [("0.636", False), ("0.64", False), ("0.63", True), ("0.6", False), ("0.7", True), ("1", False)],
    )
    def test_land_tolerance(self, text, stated, found):
        """Half a unit in the last stated decimal: 0.64 agrees with 0.6358, 0.63 does not."""
        changed = edit(text, ("arable_mu_per_person_stated = 0.67", f"arable_mu_per_person_stated = {stated}"))
        assert bool(by_code(lint(changed), "land_per_person")) is found

    def test_wrong_share(self, text):
        """A stated percentage that the profile's figures do not give is reported."""
        findings = lint(edit(text, ("earth_wood_houses = 35.48", "earth_wood_houses = 35.58")))
        (share,) = by_code(findings, "share")
        assert share.where == "plan.villages[0].profile.shares_stated_pct.earth_wood_houses"
        assert "276 ÷ 778 = 35.476%" in share.message_zh
        assert share.figures["stated"] == 35.58

    def test_share_without_base_is_an_error(self, text):
        """A share of a figure the profile does not give cannot be checked."""
        findings = lint(edit(text, ("poor_people = 1339\n", "")))
        (share,) = by_code(findings, "share")
        assert share.severity == "error" and "poor_people" in share.message_en

    def test_fewer_poor_than_visited(self, text):
        """More households to visit than poor households is reported too."""
        changed = edit(
            text,
            ("poor_households = 428", "poor_households = 300"),
            ("poor_households = 55.01", "poor_households = 38.56"),
        )
        (visited,) = by_code(lint(changed), "visited_vs_poor")
        assert visited.figures["difference"] == -36
        assert "336 − 300 = 36" in visited.message_en

    def test_no_ranks_is_an_error(self, text):
        """Stated totals without any cadre ranks cannot be checked: an error."""
        changed = re.sub(r"\[\[cadres\.ranks\]\].*?(?=\[cadres\.stated\])", "", text, flags=re.S)
        findings = lint(changed)
        (error,) = [f for f in findings if f.severity == "error"]
        assert error.where == "cadres.ranks"
        assert "cadres.stated.key_help" in error.message_en
        # The households to visit are still compared with the poor households.
        assert by_code(findings, "visited_vs_poor")

    def test_rank_without_quota_is_an_error(self, text):
        """A rank without a key-help quota makes the stated key-help total uncheckable."""
        changed = edit(text, ("count = 14\nkey_help = 4\n", "count = 14\n"))
        (error,) = [f for f in lint(changed) if f.severity == "error"]
        assert error.code == "quota_split" and error.where == "cadres.stated.key_help"
        assert error.figures["ranks_without_quota"] == ["厅级"]

    def test_calendar_lacking_a_plan_year(self, text):
        """A calendar event without a date for a plan year is reported with the year."""
        (calendar,) = by_code(lint(edit(text, ("2019 = 2019-02-05\n", ""))), "calendar_years")
        assert calendar.where == "calendar.spring_festival"
        assert calendar.figures["missing_years"] == [2019]

    def test_event_not_in_calendar(self, text):
        """Commitments due before an event the calendar lacks are reported."""
        changed = text[: text.index("[calendar.spring_festival]")]
        found = by_code(lint(changed), "calendar_event")
        assert [f.where for f in found] == ["C30.params.before", "C31.params.before"]

    def test_dates_and_years_after_period(self, text):
        """A deadline or a budget year after the plan period is reported."""
        changed = edit(
            text,
            ("by = 2019-12-31", "by = 2020-06-30"),
            ("years = [2015, 2016, 2017, 2018, 2019]", "years = [2015, 2016, 2017, 2018, 2019, 2020]"),
        )
        findings = lint(changed)
        assert "C37.params.by" in [f.where for f in by_code(findings, "date_outside_period")]
        (year,) = by_code(findings, "year_outside_period")
        assert year.where == "C02.params.years[5]" and year.figures["year"] == 2020

    def test_split_search_follows_the_plan(self, text):
        """Other ranks and totals: the split is searched, not remembered (here 20 + 28 gives 164 and 172)."""
        changed = edit(text, ("key_help = 153\ncontact = 183", "key_help = 164\ncontact = 172"))
        (note,) = by_code(lint(changed), "quota_split_explained")
        assert note.figures["split"] == [20, 28]
        assert "20×4 + 28×3 = 164, 20×3 + 28×4 = 172" in note.message_en
        assert "counted 6 of its 34 处级 cadres with the 厅级 quotas" in note.message_en

    def test_no_split_reproduces(self, text):
        """Totals no split of the head count can give are said to be so."""
        changed = edit(text, ("key_help = 153\ncontact = 183", "key_help = 150\ncontact = 183"))
        (note,) = by_code(lint(changed), "quota_split_explained")
        assert note.figures["splits"] == [] and "no split of the 48 cadres" in note.message_en

    def test_short_notice_follows_the_dates(self, text):
        """A first round due two months after issue is not noted; the days are counted from the plan's own dates."""
        assert not by_code(lint(edit(text, ("first_round_by = 2015-10-31", "first_round_by = 2015-12-31"))), "short_notice")
        (note,) = by_code(lint(edit(text, ("issued = 2015-10-23", "issued = 2015-10-01"))), "short_notice")
        assert note.figures["days"] == 30

    def test_one_title_is_not_noted(self, text):
        """A questionnaire named once gives no two_titles note."""
        changed = text.replace(', also_zh = "云南省遍访贫困村访谈问卷"', "").replace(', also_zh = "云南省遍访贫困户访谈问卷"', "")
        assert not by_code(lint(changed), "two_titles")

    @pytest.mark.parametrize("target", ["roles", ".roles", "Core.roles", "core."])
    def test_malformed_target_namespace(self, target):
        """A target without a well-formed namespace is an error (the loader refuses it; built plans may not)."""
        plan = load_plan(PLAN_NAME)
        first = attrs.evolve(plan.commitments[0], target=target)
        plan = attrs.evolve(plan, commitments=(first, *plan.commitments[1:]))
        (error,) = by_code(lint_plan(plan), "target_namespace")
        assert error.severity == "error" and error.where == "C01"

    def test_render(self, text):
        """Text output: one bilingual-prefixed line per finding and a summary line."""
        findings = lint(edit(text, ("total = 48", "total = 50")))
        lines = render_findings(findings, lang="en", plan_name="x").splitlines()
        assert len(lines) == len(findings) + 1
        assert lines[0].startswith("警告 / warning cadres.stated.total: cadres: 14 + 34 = 48")
        notes = sum(f.severity == "note" for f in findings)
        assert lines[-1] == f"plan x: {len(findings) - notes} warning(s), 0 error(s), {notes} note(s)"
        assert any(line.startswith("说明 / note cadres.ranks: ") for line in lines)
        assert render_findings([], lang="zh") == "方案: 未发现矛盾"


class TestCli:
    def test_chinese(self, cli):
        """The default plan, in Chinese: the findings with their arithmetic, exit 0."""
        result = cli("plan", "lint")
        assert result.exit_code == 0, result.output
        lines = result.output.strip().splitlines()
        assert lines[0] == (
            "警告 / warning cadres.stated.key_help: 重点帮扶: 14×4 + 34×3 = 158, 方案写 153; "
            "两项合计相同: 158 + 178 = 153 + 183 = 336, 与遍访户数 336 一致"
        )
        assert "1905 ÷ 2996 = 0.636 亩, 方案写 0.67 亩" in result.output
        assert "428 − 336 = 92 户贫困户" in result.output
        assert lines[-1] == f"方案 {PLAN_NAME}: 5 条警告, 0 条错误, 4 条说明"

    def test_english(self, cli):
        """--lang en prints the messages in English."""
        result = cli("plan", "lint", PLAN_NAME, "--lang", "en")
        assert result.exit_code == 0, result.output
        assert "key-help: 14×4 + 34×3 = 158, the plan states 153" in result.output
        assert "contact: 14×3 + 34×4 = 178, the plan states 183" in result.output
        assert "92 poor households with no pairing or visit promised" in result.output
        assert "方案写" not in result.output
        assert result.output.strip().splitlines()[-1] == f"plan {PLAN_NAME}: 5 warning(s), 0 error(s), 4 note(s)"

    def test_json(self, cli):
        """--json prints the list of findings."""
        result = cli("plan", "lint", "--json")
        assert result.exit_code == 0, result.output
        data = json.loads(result.output)
        assert [d["code"] for d in data] == [
            "quota_split", "quota_split", "quota_split_explained", "land_per_person", "visited_vs_poor",
            "date_outside_period", "short_notice", "two_titles", "two_titles",
        ]
        assert data[4]["figures"]["difference"] == 92

    def test_file_with_error_exits_1(self, cli, text, tmp_path):
        """A plan file with an uncheckable figure prints the error and exits 1."""
        path = tmp_path / "plan.toml"
        path.write_text(edit(text, ("count = 14\nkey_help = 4\n", "count = 14\n")), encoding="utf-8")
        result = cli("plan", "lint", str(path))
        assert result.exit_code == 1, result.output
        assert "错误 / error cadres.stated.key_help:" in result.output
        assert "Traceback" not in result.output
        assert json.loads(cli("plan", "lint", str(path), "--json").output)[0]["severity"] == "error"

    def test_agreeing_file(self, cli, text, tmp_path):
        """A plan whose figures agree: only the summary line, exit 0."""
        path = tmp_path / "plan.toml"
        path.write_text(edit(text, *AGREEING), encoding="utf-8")
        result = cli("plan", "lint", str(path), "--lang", "en")
        assert result.exit_code == 0, result.output
        # The short notice of the first round and the questionnaires' two titles stay as notes.
        assert result.output.splitlines()[-1] == f"plan {PLAN_NAME}: no contradictions found, 3 note(s)"

    def test_unloadable_plan(self, cli):
        """A plan that cannot be loaded is a one-line error, exit 1."""
        result = cli("plan", "lint", "no-such-plan")
        assert result.exit_code == 1
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: ") and "no-such-plan" in lines[0]
