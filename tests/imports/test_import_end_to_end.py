"""Exports in, a run out: import -> validate passes -> run --only 01 succeeds (one small run)."""

from __future__ import annotations

import json

import export_fixtures as fx
import pytest

from analysis.cli import main
from conftest import TEST_KEY


@pytest.mark.slow
def test_import_validate_and_run_01(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("WORKBENCH_PSEUDONYM_KEY", TEST_KEY)
    src = tmp_path / "exports"
    src.mkdir()
    fx.write_siasn(src / "siasn.csv")
    fx.write_ekinerja_xlsx(src / "penilaian_skp_2024.xlsx")
    fx.write_kursus(src / "riwayat_kursus.csv")
    fx.write_skm(src / "skm_2024.csv")
    data = tmp_path / "dataset"
    assert main(["import", "--out", str(data), str(src)]) == 0
    assert "Dataset written to" in capsys.readouterr().out
    assert main(["validate", "--data", str(data), "--report", str(tmp_path / "validation.csv")]) == 0
    assert "0 error(s)" in capsys.readouterr().out
    # what the import writes beside the tables (its report, the unit hierarchy) is not an unknown file
    assert "unknown_file" not in (tmp_path / "validation.csv").read_text(encoding="utf-8")
    assert main(["run", "--only", "01", "--data", str(data), "--out", str(tmp_path / "runs")]) == 0
    run_dir = tmp_path / "runs" / "latest"
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "success"
