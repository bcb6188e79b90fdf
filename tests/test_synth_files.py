"""Synthetic registers written as import files (Synthesizer.write_files)."""

from __future__ import annotations

import csv
import json
import re
import tracemalloc
from pathlib import Path

from fupin.idnumber import is_valid
from fupin.io.kinds import AREAS, HOUSEHOLDS, PERSONS, TAGS
from fupin.synth import Synthesizer

#: The files write_files produces, with the headers `fupin import` reads for each.
FILE_HEADERS = {name: [c.zh for c in kind.columns] for name, kind in
                {"areas": AREAS, "households": HOUSEHOLDS, "persons": PERSONS, "tags": TAGS}.items()}


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


class TestWriteFiles:
    def test_same_seed_same_bytes(self, tmp_path):
        """The same seed writes byte-identical files; another seed writes other files."""
        for name, seed in (("a", 7), ("b", 7), ("c", 8)):
            Synthesizer(seed=seed).write_files(tmp_path / name, households=150)
        for stem in FILE_HEADERS:
            a, b, c = ((tmp_path / d / f"{stem}.csv").read_bytes() for d in "abc")
            assert a == b
            if stem != "areas":
                assert a != c

    def test_a_used_generator_writes_the_same_files(self, tmp_path):
        """Files do not depend on what the generator produced before."""
        gen = Synthesizer(seed=7)
        list(gen.households(["53032610120001"], 50))
        gen.write_files(tmp_path / "a", households=40)
        Synthesizer(seed=7).write_files(tmp_path / "b", households=40)
        assert (tmp_path / "a/persons.csv").read_bytes() == (tmp_path / "b/persons.csv").read_bytes()

    def test_csv_is_excel_style_with_the_import_headers(self, tmp_path):
        """CSV files start with a BOM, end lines with CRLF and carry the import headers in order."""
        Synthesizer(seed=1).write_files(tmp_path, households=30)
        for stem, headers in FILE_HEADERS.items():
            data = (tmp_path / f"{stem}.csv").read_bytes()
            assert data.startswith(b"\xef\xbb\xbf" + ",".join(headers).encode() + b"\r\n")
            assert data.count(b"\n") == data.count(b"\r\n")

    def test_row_counts_match_the_return_value(self, tmp_path):
        """The counts returned are the data rows in each file."""
        counts = Synthesizer(seed=2).write_files(tmp_path, households=300)
        assert counts["households"] == 300
        assert counts == {stem: len(read_csv(tmp_path / f"{stem}.csv")) for stem in FILE_HEADERS}

    def test_references_resolve(self, tmp_path):
        """Every person's 户编号 is in households.csv, every household's group and every tag's person exist."""
        Synthesizer(seed=3).write_files(tmp_path, households=400)
        areas = {r["区划代码"]: r for r in read_csv(tmp_path / "areas.csv")}
        households = read_csv(tmp_path / "households.csv")
        persons = read_csv(tmp_path / "persons.csv")
        numbers = {r["户编号"] for r in households}
        ids = {r["证件号码"] for r in persons}
        assert all(areas[r["村民小组代码"]]["层级"] == "村民小组" for r in households)
        assert all(r["户编号"] in numbers for r in persons)
        assert all(r["证件号码"] in ids for r in read_csv(tmp_path / "tags.csv"))
        assert {r["户编号"] for r in persons} == numbers

    def test_id_numbers_are_valid_and_unique(self, tmp_path):
        """Every person has a valid ID number, and no two share one."""
        Synthesizer(seed=4).write_files(tmp_path, households=500)
        ids = [r["证件号码"] for r in read_csv(tmp_path / "persons.csv")]
        assert all(is_valid(i) for i in ids)
        assert len(set(ids)) == len(ids)

    def test_cells_are_formatted_for_import(self, tmp_path):
        """Levels are Chinese labels, money has two decimals, booleans are 是/否, dates ISO."""
        Synthesizer(seed=5).write_files(tmp_path, households=100)
        levels = [r["层级"] for r in read_csv(tmp_path / "areas.csv")]
        assert levels[:5] == ["省", "市", "县", "乡镇", "行政村"] and "村民小组" in levels
        households = read_csv(tmp_path / "households.csv")
        assert all(re.fullmatch(r"\d+\.\d\d", r["人均纯收入(元)"]) for r in households)
        assert {r["是否危房"] for r in households} == {"是", "否"}
        assert all(r["首次识别时间"] == "2014-10-01" and r["住房面积(平方米)"] == "" for r in households)
        assert any("、" in r["其他致贫原因"] for r in households)

    def test_files_hold_the_generated_records(self, tmp_path):
        """The files hold the records households() generates for the same seed (what write() stores)."""
        gen = Synthesizer(seed=6)
        gen.write_files(tmp_path, households=80)
        groups = [a.code for a in Synthesizer(seed=6).areas(80) if a.level == "group"]
        items = list(Synthesizer(seed=6).households(groups, 80))
        rows = read_csv(tmp_path / "households.csv")
        assert [r["户编号"] for r in rows] == [i.household.number for i in items]
        assert rows[0]["人均纯收入(元)"] == f"{items[0].household.net_income_per_capita_fen / 100:.2f}"
        persons = read_csv(tmp_path / "persons.csv")
        assert [(r["证件号码"], r["姓名"]) for r in persons] == [(p.id_number, p.name) for i in items for p in i.members]

    def test_jsonl_has_the_csv_content(self, tmp_path):
        """JSON Lines files hold the CSV rows as objects (numbers as numbers), with null for an empty cell."""
        counts = Synthesizer(seed=8).write_files(tmp_path / "c", households=60)
        assert Synthesizer(seed=8).write_files(tmp_path / "j", households=60, format="jsonl") == counts
        for stem in FILE_HEADERS:
            lines = (tmp_path / "j" / f"{stem}.jsonl").read_text(encoding="utf-8").splitlines()
            objects = [json.loads(line) for line in lines]
            as_text = [{k: "" if v is None else str(v) for k, v in o.items()} for o in objects]
            assert as_text == read_csv(tmp_path / "c" / f"{stem}.csv")

    def test_memory_stays_flat(self, tmp_path):
        """Writing 10,000 households peaks under 2 MB above writing 1,000 (records are streamed)."""
        peaks = []
        for n in (1_000, 10_000):
            tracemalloc.start()
            try:
                Synthesizer(seed=9).write_files(tmp_path / str(n), households=n)
                peaks.append(tracemalloc.get_traced_memory()[1])
            finally:
                tracemalloc.stop()
        assert peaks[1] - peaks[0] < 2_000_000, peaks
