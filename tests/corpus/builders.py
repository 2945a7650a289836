"""A minimal valid dataset of all thirteen tables, and helpers to write it.

``base_tables()`` returns every table as a DataFrame of text cells, exactly as
a clean export would hold them; tests change one thing and write the result
with ``write_dataset``. The base dataset loads with no error and no warning
(``tests/data/test_broken_inputs.py`` checks that).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd

from analysis.data.reading import column_letter

# Eight employees; every NIP agrees with the gender and birth_date beside it.
# NIP = birth date (8) + appointment year and month (6) + sex digit + sequence (3)
NIPS = {
    "kadis": "198001012005011001",      # 1980-01-01, appointed 2005-01, male
    "sekretaris": "198503152010012002",  # 1985-03-15, 2010-01, female
    "guru": "199007202015031003",       # 1990-07-20, 2015-03, male
    "perawat": "199212302019022004",    # 1992-12-30, 2019-02, female
    "kasi": "198811112012041005",       # 1988-11-11, 2012-04, male
    "staf": "199502282020011006",       # 1995-02-28, 2020-01, male
    "bidan": "198706052011102007",      # 1987-06-05, 2011-10, female
    "operator": "199109092016061008",   # 1991-09-09, 2016-06, male
}
N = NIPS  # short alias for the case table


def _df(rows: list[list[str]], columns: str) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns.split(), dtype="object")


def base_tables() -> dict[str, pd.DataFrame]:
    """The valid base dataset, one DataFrame of strings per table (fresh copies)."""
    t: dict[str, pd.DataFrame] = {}
    t["units"] = _df([
        ["U01", "Dinas Pendidikan", "Kota", "dinas"],
        ["U02", "Dinas Kesehatan", "Kota", "dinas"],
        ["U03", "Kecamatan Selatan", "Selatan", "kecamatan"],
    ], "unit_id unit_name region unit_type")
    t["employees"] = _df([
        [N["kadis"], "U01", "jpt_pratama", "administrasi", "PNS", "L", "1980-01-01", "2005-01-01", "IV/c", "S2", "Budi Santoso"],
        [N["sekretaris"], "U01", "administrator", "administrasi", "PNS", "P", "1985-03-15", "2010-01-01", "IV/a", "S2", "Siti Aminah"],
        [N["guru"], "U01", "ahli_pertama", "guru", "PNS", "L", "1990-07-20", "2015-03-01", "III/b", "S1", "Agus Salim"],
        [N["perawat"], "U02", "ahli_muda", "kesehatan", "PNS", "P", "1992-12-30", "2019-02-01", "III/c", "S1", "Dewi Lestari"],
        [N["kasi"], "U02", "pengawas", "administrasi", "PNS", "L", "1988-11-11", "2012-04-01", "III/d", "S1", "Rudi Hartono"],
        [N["staf"], "U03", "pelaksana", "administrasi", "PPPK", "L", "1995-02-28", "2020-01-01", "IX", "D3", "Andi Wijaya"],
        [N["bidan"], "U03", "terampil", "kesehatan", "PPPK", "P", "1987-06-05", "2011-10-01", "VII", "D3", "Rina Marlina"],
        [N["operator"], "U03", "pelaksana", "administrasi", "PNS", "L", "1991-09-09", "2016-06-01", "II/c", "SMA", "Joko Susilo"],
    ], "employee_id unit_id position_class job_family employment_type gender birth_date hire_date grade education name")
    t["org_ratings"] = _df([
        ["U01", "2024", "baik"],
        ["U02", "2024", "istimewa"],
        ["U03", "2024", "butuh_perbaikan"],
    ], "unit_id period org_predikat")
    t["appraisals"] = _df([
        [N["sekretaris"], "2024", N["kadis"], "di_atas", "sesuai", "baik", "false"],
        [N["guru"], "2024", N["sekretaris"], "sesuai", "sesuai", "baik", "false"],
        [N["perawat"], "2024", N["kasi"], "di_atas", "di_atas", "sangat_baik", "true"],
        [N["kasi"], "2024", N["kadis"], "sesuai", "di_bawah", "butuh_perbaikan", "false"],
        [N["staf"], "2024", N["kasi"], "di_bawah", "di_bawah", "sangat_kurang", "false"],
        [N["bidan"], "2024", N["kasi"], "sesuai", "sesuai", "baik", "false"],
        [N["operator"], "2024", N["kasi"], "sesuai", "di_atas", "baik", "false"],
    ], "employee_id period rater_id hasil_kerja perilaku_kerja predikat_reported innovation")
    t["targets"] = _df([
        [N["guru"], "2024", "IKI-01", "Ketuntasan belajar", "80", "85", "60", "higher", "true"],
        [N["guru"], "2024", "IKI-02", "Keterlambatan laporan", "5", "3", "40", "lower", "false"],
        [N["perawat"], "2024", "IKI-01", "Pasien terlayani", "1200", "1150", "100", "higher", "true"],
        [N["staf"], "2024", "IKI-01", "Dokumen diproses", "300", "0", "100", "higher", "true"],
    ], "employee_id period indicator_id indicator_name target realization weight direction is_main")
    fb = []
    for aspect, scores in (("akuntabel", "4 3 5"), ("kolaboratif", "3 4 4")):
        s_self, s_sup, s_peer = scores.split()
        fb += [
            ["2024", N["guru"], N["guru"], "self", aspect, s_self],
            ["2024", N["guru"], N["sekretaris"], "supervisor", aspect, s_sup],
            ["2024", N["guru"], N["kadis"], "peer", aspect, s_peer],
        ]
    fb.append(["2024", N["kasi"], N["perawat"], "subordinate", "loyal", "4"])
    t["feedback_360"] = _df(fb, "period ratee_id rater_id rater_role aspect score")
    t["competencies"] = _df([
        ["M.01", "Integritas", "Integrity", "manajerial"],
        ["M.02", "Kerja Sama", "Teamwork", "manajerial"],
        ["SK.01", "Perekat Bangsa", "National unity", "sosial_kultural"],
        ["T.guru.1", "Perencanaan pembelajaran", "Lesson planning", "teknis"],
    ], "competency_code name_id name_en kind")
    t["competency_standards"] = _df([
        ["administrator", "*", "M.01", "4"],
        ["ahli_pertama", "guru", "T.guru.1", "2"],
        ["pelaksana", "*", "SK.01", "1"],
        ["pengawas", "*", "M.02", "3"],
    ], "position_class job_family competency_code required_level")
    t["competency_assessments"] = _df([
        [N["guru"], "2024-02-10", "T.guru.1", "1.5", "uji_kompetensi"],
        [N["sekretaris"], "2024-03-05", "M.01", "3", "assessment_center"],
        [N["staf"], "2024-03-05", "SK.01", "2", "uji_kompetensi"],
        [N["kasi"], "2023-11-20", "M.02", "2.5", "assessment_center"],
    ], "employee_id assessed_on competency_code level method")
    t["rollout"] = _df([
        ["U01", "2024Q1", "skp_2022"],
        ["U02", "2024Q3", "skp_2022"],
        ["U03", "", ""],
    ], "unit_id adopted_period scheme")
    t["service_outcomes"] = _df([
        ["U01", "2024Q1", "78.5", "95", "3", "4.5"],
        ["U01", "2024Q2", "80.1", "101.5", "2", "4"],
        ["U02", "2024Q1", "82", "88", "10", "6"],
        ["U03", "2024Q1", "70", "75", "0", "2"],
    ], "unit_id period ikm iku_attainment complaints processing_days")
    t["training_catalog"] = _df([
        ["P01", "M.01", "Pelatihan integritas", "klasikal", "pelatihan", "24", "1500000", "10", "30", "BPSDM Provinsi"],
        ["P02", "T.guru.1", "Coaching perencanaan", "nonklasikal", "coaching", "8", "0", "1", "5", "Internal"],
        ["P03", "SK.01", "Seminar kebangsaan", "klasikal", "seminar", "4", "250000", "20", "200", ""],
    ], "program_id competency_code name mode form jp cost_per_participant min_participants max_participants provider")
    t["training_history"] = _df([
        [N["guru"], "2024-02-05", "2024-02-07", "Bimtek kurikulum merdeka", "bimtek", "24", "LPMP"],
        [N["perawat"], "2024-05-13", "", "Pelatihan PPI dasar", "pelatihan", "16", "Dinas Kesehatan"],
        [N["kasi"], "2023-12-28", "2024-01-04", "E-learning kepemimpinan", "e_learning", "10", "LAN"],
    ], "employee_id start end name form jp provider")
    return t


TABLE_NAMES = tuple(base_tables())


def write_table(folder: Path, name: str, df: pd.DataFrame, fmt: str = "csv", **kw) -> Path:
    """Write one table as <name>.<fmt>: csv (UTF-8, comma), xlsx (text cells) or parquet (strings)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.{fmt}"
    if fmt == "csv":
        df.to_csv(path, index=False, **kw)
    elif fmt == "xlsx":
        df.to_excel(path, index=False, sheet_name=name, **kw)
    elif fmt == "parquet":
        df.to_parquet(path, index=False, **kw)
    else:
        raise ValueError(fmt)
    return path


def write_dataset(folder: Path, tables: dict[str, pd.DataFrame] | None = None,
                  fmt: str = "csv", skip: tuple[str, ...] = ()) -> Path:
    """Write every table (the base dataset unless given) to ``folder``; returns the folder."""
    folder = Path(folder)
    tables = base_tables() if tables is None else tables
    for name, df in tables.items():
        if name not in skip:
            write_table(folder, name, df, fmt)
    return folder


def run_cli(data: Path, report: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """``python -m analysis validate --data DATA --report REPORT`` in a fresh interpreter."""
    return subprocess.run(
        [sys.executable, "-m", "analysis", "validate", "--data", str(data), "--report", str(report)],
        capture_output=True, text=True, timeout=timeout,
    )


def report_rows(frame: pd.DataFrame, columns=("table", "row", "column", "check")) -> list[list]:
    """Rows of a report frame as plain lists: rows as int, missing cells as None."""
    out = []
    for rec in frame[list(columns)].itertuples(index=False):
        vals = []
        for name, v in zip(columns, rec):
            if v is None or (not isinstance(v, str) and pd.isna(v)):
                vals.append(None)
            elif name == "row":
                vals.append(int(v))
            else:
                vals.append(v)
        out.append(vals)
    return out


# --- hand-made .xlsx packages ------------------------------------------------------
# Excel, LibreOffice and the tools that export spreadsheets write things openpyxl and pandas
# never do (shared strings, formulas without a saved value, a cell longer than Excel allows);
# these builders write the package's XML themselves, streaming, so a huge cell costs no memory.

class Formula(str):
    """A cell holding this formula and no saved value (as written by a tool that does not calculate),
    or, given ``text``, the text Excel saved as its value (``t="str"``; ``""`` for an empty result)."""

    def __new__(cls, formula: str, text: str | None = None):
        obj = super().__new__(cls, formula)
        obj.text = text
        return obj


class LongText:
    """A text cell of ``n`` times ``char``, streamed into the package rather than built in memory."""

    def __init__(self, n: int, char: str = "A"):
        self.n, self.char = n, char


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def raw_xlsx(path: Path, rows: dict[int, dict[int, object]] | list[list], sheet: str = "Sheet1",
             shared_strings: bool = True, dimension: str | None = None) -> Path:
    """Write an .xlsx package by hand: ``rows`` maps Excel row -> {column number: value} (or is a list
    of rows from row 1). Values: str, int, float, None, ``Formula``, ``LongText``. Strings are shared
    (as Excel writes them) or inline (as openpyxl does)."""
    import zipfile

    if isinstance(rows, list):
        rows = {i: {j: v for j, v in enumerate(r, start=1)} for i, r in enumerate(rows, start=1)}
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006/relationships"
    strings: list[object] = []
    index: dict[str, int] = {}

    def shared(v) -> int:
        if isinstance(v, LongText):
            strings.append(v)
            return len(strings) - 1
        if v not in index:
            index[v] = len(strings)
            strings.append(v)
        return index[v]

    def write_text(out, v) -> None:
        if isinstance(v, LongText):
            block = (v.char * 65536).encode()
            full, rest = divmod(v.n, 65536)
            for _ in range(full):
                out.write(block)
            out.write((v.char * rest).encode())
        else:
            out.write(_esc(v).encode())

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("xl/worksheets/sheet1.xml", "w") as out:
            out.write(f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{main}" '
                      f'xmlns:r="{rel}">'.encode())
            if dimension:
                out.write(f'<dimension ref="{dimension}"/>'.encode())
            out.write(b"<sheetData>")
            for r in sorted(rows):
                out.write(f'<row r="{r}">'.encode())
                for c in sorted(rows[r]):
                    v, ref = rows[r][c], f"{column_letter(c)}{r}"
                    if v is None:
                        continue
                    if isinstance(v, Formula) and v.text is not None:
                        out.write(f'<c r="{ref}" t="str"><f>{_esc(v.lstrip("="))}</f><v>{_esc(v.text)}</v></c>'
                                  .encode())
                    elif isinstance(v, Formula):
                        out.write(f'<c r="{ref}"><f>{_esc(v.lstrip("="))}</f><v></v></c>'.encode())
                    elif isinstance(v, (int, float)) and not isinstance(v, bool):
                        out.write(f'<c r="{ref}"><v>{v!r}</v></c>'.encode())
                    elif shared_strings:
                        out.write(f'<c r="{ref}" t="s"><v>{shared(v)}</v></c>'.encode())
                    else:
                        out.write(f'<c r="{ref}" t="inlineStr"><is><t>'.encode())
                        write_text(out, v)
                        out.write(b"</t></is></c>")
                out.write(b"</row>")
            out.write(b"</sheetData></worksheet>")
        if strings:
            with zf.open("xl/sharedStrings.xml", "w") as out:
                out.write(f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="{main}" '
                          f'count="{len(strings)}" uniqueCount="{len(strings)}">'.encode())
                for v in strings:
                    out.write(b"<si><t>")
                    write_text(out, v)
                    out.write(b"</t></si>")
                out.write(b"</sst>")
        sst = ('<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
               'officedocument.spreadsheetml.sharedStrings+xml"/>') if strings else ""
        zf.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types xmlns="http://schemas.'
            'openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/'
            'xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            f'{sst}</Types>'))
        zf.writestr("_rels/.rels", (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{pkg}">'
            f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>'))
        zf.writestr("xl/workbook.xml", (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook xmlns="{main}" xmlns:r="{rel}">'
            f'<sheets><sheet name="{_esc(sheet)}" sheetId="1" r:id="rId1"/></sheets></workbook>'))
        shared_rel = (f'<Relationship Id="rId2" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/>'
                      if strings else "")
        zf.writestr("xl/_rels/workbook.xml.rels", (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{pkg}">'
            f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>{shared_rel}'
            '</Relationships>'))
    return path


def table_rows(df: pd.DataFrame) -> list[list]:
    """A table's header and cells as rows for ``raw_xlsx`` (empty cells left out)."""
    return [list(df.columns)] + [[None if v == "" else v for v in r] for r in df.to_numpy().tolist()]
