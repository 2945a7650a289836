"""The region from the params file (``import.region``), and a bad params file refused with nothing written."""

from __future__ import annotations

import csv

import export_fixtures as fx

from analysis.cli import main
from analysis.core.params import load_params


def test_the_params_region_is_used_when_the_command_gives_none(tmp_path, capsys):
    src = fx.write_siasn_upper(tmp_path / "siasn_upper.csv")
    params = tmp_path / "p.yaml"
    params.write_text("import:\n  region: Kota Params\n", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["import", "--params", str(params), "--out", str(out), str(src)]) == 0
    with open(out / "units.csv", encoding="utf-8") as f:
        assert {r["region"] for r in csv.DictReader(f)} == {"Kota Params"}
    # --region on the command line wins over the params file
    out2 = tmp_path / "out2"
    assert main(["import", "--params", str(params), "--region", "Kota CLI", "--out", str(out2), str(src)]) == 0
    with open(out2 / "units.csv", encoding="utf-8") as f:
        assert {r["region"] for r in csv.DictReader(f)} == {"Kota CLI"}


def test_a_bad_params_file_writes_nothing(tmp_path, capsys):
    src = fx.write_siasn_upper(tmp_path / "siasn_upper.csv")
    params = tmp_path / "p.yaml"
    params.write_text("import:\n  regoin: typo\n", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["import", "--params", str(params), "--out", str(out), str(src)]) == 2
    assert "Bad parameters" in capsys.readouterr().out and not out.exists()


def test_the_params_key_is_written_as_import_and_read_back(tmp_path):
    p = load_params(None, overrides={"import": {"region": "Kota A"}})
    assert p.imports.region == "Kota A"
    assert p.dump()["import"] == {"region": "Kota A", "skm_population": None} and "imports" not in p.dump()


def test_the_skm_minimum_follows_the_population_in_params(tmp_path, capsys):
    src = tmp_path / "in"
    src.mkdir()
    fx.write_siasn(src / "siasn.csv")
    fx.write_skm(src / "skm_2024.csv")

    def below(params_text: str) -> list[str]:
        params = tmp_path / "p.yaml"
        params.write_text(params_text, encoding="utf-8")
        out = tmp_path / f"out{len(list(tmp_path.glob('out*')))}"
        assert main(["import", "--params", str(params), "--out", str(out), str(src)]) == 0
        with open(out / "import_report.csv", encoding="utf-8") as f:
            return sorted(r["value"] for r in csv.DictReader(f) if r["problem"] == "below_min_respondents")

    # without a population every unit needs 384: all three unit-quarters are marked, none dropped
    assert below("import:\n  region: Kota A\n") == [
        "U-PKM2 2024Q1: 2 respondents, the regulation asks 384", "U-PKM2 2024Q2: 1 respondents, the regulation asks 384",
        "U-SD1 2024Q1: 1 respondents, the regulation asks 384"]
    # a population of 2 (Krejcie & Morgan: 2) for Puskesmas Dua: its first quarter meets it
    assert below("import:\n  region: Kota A\n  skm_population:\n    U-PKM2: 2\n    U-SD1: 1\n") == [
        "U-PKM2 2024Q2: 1 respondents, the regulation asks 2"]
    assert below("import:\n  region: Kota A\n  skm_population: 1\n") == []


def test_a_population_below_one_is_refused():
    import pytest

    from analysis.core.params import ParamsError

    for bad in (0, {"U1": -5}):
        with pytest.raises(ParamsError, match="population"):
            load_params(None, overrides={"import": {"skm_population": bad}})
