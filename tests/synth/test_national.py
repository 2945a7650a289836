"""Tests of the national dataset (analysis.synth.national): many instansi, one partition each."""

from __future__ import annotations

import gc
import json
import weakref

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from analysis.data import nip
from analysis.data.validation import load_dataset
from analysis.synth import SynthConfig, generate, national
from analysis.synth.national import next_sequence, plan, unused_nips

SEED = 11
EMPLOYEES, PER = 1800, 600  # three instansi


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("national") / "dataset"
    national.write_national(out, EMPLOYEES, PER, SEED)
    return out


def read(folder, table) -> list[pd.DataFrame]:
    return [pd.read_parquet(p) for p in sorted((folder / table).glob("part-*.parquet"))]


def test_plan_splits_the_employees_into_instansi_of_near_equal_size():
    p = plan(4_700_003, 50_000, 1)
    assert len(p) == 94 and sum(i.employees for i in p) == 4_700_003
    assert max(i.employees for i in p) - min(i.employees for i in p) <= 1 and min(i.employees for i in p) >= 50_000
    assert [i.code for i in p[:2]] == ["I001", "I002"] and [i.index for i in p] == list(range(94))
    assert len({i.seed for i in p}) == 94
    assert [i.employees for i in plan(999, 500, 1)] == [999]  # never an instansi below the size asked for
    assert [i.seed for i in plan(1000, 500, 1)] == [i.seed for i in plan(1000, 500, 1)]
    with pytest.raises(ValueError, match="at least 500"):
        plan(10_000, 499, 1)
    with pytest.raises(ValueError, match="at least the size of one instansi"):
        plan(600, 700, 1)


def test_a_taken_nip_moves_to_the_next_free_sequence_of_its_prefix():
    base = int("198503152010011" + "001")
    nips = np.array([base, base + 5, int("198503152010011" + "999")], dtype=np.int64)
    taken = np.sort(np.array([base, base + 1, base + 5, int("198503152010011" + "999")], dtype=np.int64))
    out, now = unused_nips(nips, taken)
    assert out.tolist() == [base + 2, base + 6, base + 3]  # 999 wraps to 001, 002 then 003 are taken
    assert len(set(out.tolist()) | set(taken.tolist())) == len(out) + len(taken)
    assert now.tolist() == sorted(taken.tolist() + out.tolist())
    assert nip.check(pd.Series(out.astype(str))).isna().all()
    assert [str(x)[:15] for x in out] == ["198503152010011"] * 3
    assert next_sequence(np.array([base + 998], dtype=np.int64)).tolist() == [base]


def test_nips_that_clash_with_each_other_after_a_move_are_still_made_distinct():
    base = int("198503152010011" + "001")
    nips = np.array([base, base + 1], dtype=np.int64)  # 001 taken: moves to 002, which is the second's
    out, _ = unused_nips(nips, np.array([base], dtype=np.int64))
    assert sorted(out.tolist()) == [base + 1, base + 2] and len(set(out.tolist())) == 2


def test_a_full_prefix_is_an_error_not_an_endless_loop():
    prefix = int("198503152010011" + "000")
    taken = np.arange(prefix + 1, prefix + 1000, dtype=np.int64)
    with pytest.raises(ValueError, match="every sequence number"):
        unused_nips(np.array([prefix + 7], dtype=np.int64), taken)


def test_an_instansi_in_national_codes_is_its_regional_dataset_recoded():
    inst = plan(1200, 600, SEED)[1]
    tables, truth = generate(SynthConfig(employees=inst.employees, seed=inst.seed))
    local = tables["employees"]["employee_id"].to_numpy(dtype=object)
    taken = np.sort(local[::7].astype(np.int64))  # an earlier instansi drew every seventh of these NIPs
    out, t_out, now = national.nationalise(tables, truth, inst, taken)
    emp = out["employees"]["employee_id"]
    assert emp.is_unique and not np.isin(emp.astype(np.int64), taken).any()
    moved = emp.to_numpy() != local
    assert moved[::7].all() and moved.sum() == len(local[::7])
    assert nip.check(emp).isna().all()
    assert (out["units"]["unit_id"] == "I002-" + tables["units"]["unit_id"]).all()
    assert (out["units"]["region"] == tables["units"]["region"] + " I002").all()
    # every other column is the regional dataset's
    for name, df in tables.items():
        assert out[name].columns.tolist() == df.columns.tolist() and len(out[name]) == len(df)
    pd.testing.assert_series_equal(out["feedback_360"]["score"], tables["feedback_360"]["score"])
    # NIPs and codes move together in every table and in the truth
    assert set(out["appraisals"]["employee_id"].astype(str)) - set(emp) == {
        w["employee_id"] for w in t_out["planted_warnings"]}
    mapping = dict(zip(local, emp))
    assert [r["rater_id"] for r in t_out["raters"]["lenient"]] == [
        mapping[r["rater_id"]] for r in truth["raters"]["lenient"]]
    assert set(t_out["gender_gap"]["units"]) <= set(out["units"]["unit_id"])
    assert set(t_out["rollout"]["region_multiplier"]) == set(out["units"]["region"])
    assert len(now) == len(taken) + len(out["appraisals"]["employee_id"].cat.categories)


def test_the_written_dataset_is_one_country(folder):
    summary = json.loads((folder / "truth.json").read_text())
    assert [i["code"] for i in summary["instansi"]] == ["I001", "I002", "I003"]
    employees = pd.concat(read(folder, "employees"))
    assert len(employees) == EMPLOYEES == summary["row_counts"]["employees"] and employees["employee_id"].is_unique
    units = read(folder, "units")
    assert pd.concat(units)["unit_id"].is_unique
    regions = [set(u["region"]) for u in units]
    assert all(not (a & b) for i, a in enumerate(regions) for b in regions[i + 1:])
    # partition k of every cut table is instansi k: its employees are in its units
    for k, emp in enumerate(read(folder, "employees")):
        assert emp["unit_id"].str.startswith(f"I00{k + 1}-").all()
        for table, column in (("appraisals", "employee_id"), ("targets", "employee_id"),
                              ("feedback_360", "ratee_id"), ("competency_assessments", "employee_id")):
            ids = set(read(folder, table)[k][column])
            warned = {w["employee_id"] for w in json.loads((folder / "truth" / f"I00{k + 1}.json").read_text())
                      ["planted_warnings"]} if table == "appraisals" else set()
            assert ids - set(emp["employee_id"]) == warned
    for table in national.REFERENCE_TABLES:
        assert [p.name for p in (folder / table).iterdir()] == ["part-00000.parquet"]
    # every part of a table has the same schema
    for table in summary["row_counts"]:
        schemas = {str(pq.read_schema(p)) for p in (folder / table).glob("part-*.parquet")}
        assert len(schemas) == 1, table
    standards = read(folder, "competency_standards")[0]
    assert not standards.duplicated(["position_class", "job_family", "competency_code"]).any()
    assert set(pd.concat(read(folder, "employees"))["job_family"]) <= set(standards["job_family"]) | {"*"}


def test_the_dataset_validates_and_keeps_each_planted_truth(folder):
    ds = load_dataset(folder)
    assert ds.ok, ds.report
    warnings = {(p.table, p.check) for p in ds.report.problems if p.severity == "warning"}
    assert warnings <= {("appraisals", "dangling_reference")}
    assert len(ds.tables["employees"]) == EMPLOYEES
    assert ds.report.files["appraisals"]["parts"] == 3 and ds.report.files["appraisals"]["file"] == "appraisals/"
    planted = sum(len(json.loads((folder / "truth" / f"I00{k}.json").read_text())["planted_warnings"])
                  for k in (1, 2, 3))
    assert ds.report.files["appraisals"]["rows"] - ds.report.files["appraisals"]["rows_used"] == planted


def test_the_same_seed_writes_the_same_dataset(folder, tmp_path):
    again = tmp_path / "again"
    national.write_national(again, EMPLOYEES, PER, SEED)
    for table in json.loads((folder / "truth.json").read_text())["row_counts"]:
        for a, b in zip(read(folder, table), read(again, table)):
            pd.testing.assert_frame_equal(a, b)
    assert (folder / "truth" / "I002.json").read_text() == (again / "truth" / "I002.json").read_text()


def test_only_one_instansi_is_held_in_memory_at_a_time(tmp_path, monkeypatch):
    """When a table of instansi k is written, no table of an earlier instansi is still alive: memory
    holds one instansi, however many the country has."""
    real_write, real_generate, seen, alive = national.write_parquet, national.generate, [], []

    def watching(df, path):
        k, table = int(path.stem.split("-")[1]), path.parent.name
        if table not in national.REFERENCE_TABLES:
            gc.collect()
            alive.append({j for j, ref in seen if ref() is not None} - {k})
            seen.append((k, weakref.ref(df)))
        real_write(df, path)

    def generating(config):  # and while the next instansi is generated, none of the last one's
        gc.collect()
        alive.append({j for j, ref in seen if ref() is not None})
        return real_generate(config)

    monkeypatch.setattr(national, "write_parquet", watching)
    monkeypatch.setattr(national, "generate", generating)
    national.write_national(tmp_path / "n", 1500, 500, SEED)
    assert len(seen) == 3 * 9 and len(alive) == 3 * 9 + 3 and not any(alive)


def test_a_failed_write_leaves_no_dataset(tmp_path, monkeypatch):
    out = tmp_path / "national"

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(national, "write_parquet", broken)
    with pytest.raises(RuntimeError):
        national.write_national(out, 1000, 500, SEED)
    assert list(tmp_path.iterdir()) == []
