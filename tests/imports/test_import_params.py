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
    assert p.dump()["import"] == {"region": "Kota A"} and "imports" not in p.dump()
