"""The data contract (docs/data-format.md) as data: tables, columns, keys, references.

Everything that reads, checks, documents or generates a dataset works from
these specifications, so the contract is written down once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal[
    "id", "nip", "text", "key", "code", "competency", "period", "period_or_date",
    "date", "int", "float", "money", "bool",
]
Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    optional: bool = False  # the column may be absent from the file
    missing: Severity | None = "error"  # what an empty cell is; None = allowed
    codes: str | None = None  # code list for kind 'code'
    min: float | None = None
    max: float | None = None
    min_exclusive: bool = False
    allow_star: bool = False  # '*' means "any" (competency_standards.job_family)
    doc: str = ""


@dataclass(frozen=True)
class Reference:
    column: str
    table: str
    target: str
    severity: Severity = "error"
    # what happens to a warned row: kept in the analysis or set aside (and listed)
    action: Literal["keep", "exclude"] = "keep"


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    references: tuple[Reference, ...] = ()
    required: bool = False
    doc: str = ""
    column_map: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "column_map", {c.name: c for c in self.columns})

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if not c.optional]


def _c(name: str, kind: Kind, **kw) -> Column:
    return Column(name, kind, **kw)


def _opt(name: str, kind: Kind, **kw) -> Column:
    return Column(name, kind, optional=True, missing=None, **kw)


TABLES: dict[str, Table] = {t.name: t for t in (
    Table(
        "units",
        (
            _c("unit_id", "id", doc="unit code, unique"),
            _c("unit_name", "text"),
            _c("region", "text", doc="region (kecamatan or area) the unit belongs to"),
            _opt("unit_type", "key", doc="dinas, badan, kecamatan, kelurahan, puskesmas, sekolah, rsud…"),
        ),
        key=("unit_id",), required=True,
        doc="Organisational units (perangkat daerah and their service units).",
    ),
    Table(
        "employees",
        (
            _c("employee_id", "nip", doc="NIP, 18 digits"),
            _c("unit_id", "id"),
            _c("position_class", "code", codes="position_class"),
            _c("job_family", "key", doc="guru, kesehatan, administrasi…; free text, folded to snake case"),
            _c("employment_type", "code", codes="employment_type"),
            _opt("gender", "code", codes="gender", doc="L or P; must agree with the NIP"),
            _opt("birth_date", "date", doc="must agree with the NIP"),
            _opt("hire_date", "date"),
            _opt("grade", "text", doc="golongan (III/a…) or PPPK grade (IX…)"),
            _opt("education", "text"),
            _opt("name", "text", doc="personal data: never shown in circulated outputs"),
        ),
        key=("employee_id",),
        references=(Reference("unit_id", "units", "unit_id", "error"),),
        required=True,
        doc="Civil servants (PNS and PPPK), one row each.",
    ),
    Table(
        "org_ratings",
        (
            _c("unit_id", "id"),
            _c("period", "period"),
            _c("org_predikat", "code", codes="org_predikat"),
        ),
        key=("unit_id", "period"),
        references=(Reference("unit_id", "units", "unit_id", "warning", "exclude"),),
        doc="Each unit's own performance rating (predikat kinerja organisasi) per period.",
    ),
    Table(
        "appraisals",
        (
            _c("employee_id", "nip"),
            _c("period", "period"),
            _c("rater_id", "nip", doc="the appraising supervisor (pejabat penilai)"),
            _c("hasil_kerja", "code", codes="rating"),
            _c("perilaku_kerja", "code", codes="rating"),
            _opt("predikat_reported", "code", codes="predikat"),
            _opt("innovation", "bool", doc="an innovation was recognised (PP 30/2019 Sangat Baik)"),
        ),
        key=("employee_id", "period"),
        references=(
            Reference("employee_id", "employees", "employee_id", "warning", "exclude"),
            Reference("rater_id", "employees", "employee_id", "warning", "keep"),
        ),
        required=True,
        doc="Appraisal ratings under PermenPANRB 6/2022, one row per employee and period.",
    ),
    Table(
        "targets",
        (
            _c("employee_id", "nip"),
            _c("period", "period"),
            _c("indicator_id", "id"),
            _opt("indicator_name", "text"),
            _c("target", "float", min=0, min_exclusive=True),
            _c("realization", "float", min=0),
            _opt("weight", "float", min=0, min_exclusive=True),
            _c("direction", "code", codes="direction"),
            _opt("is_main", "bool"),
        ),
        key=("employee_id", "period", "indicator_id"),
        references=(Reference("employee_id", "employees", "employee_id", "warning", "exclude"),),
        doc="Individual performance indicators (SKP) with targets and realisations.",
    ),
    Table(
        "feedback_360",
        (
            _c("period", "period"),
            _c("ratee_id", "nip"),
            _c("rater_id", "nip"),
            _c("rater_role", "code", codes="rater_role"),
            _c("aspect", "code", codes="aspect"),
            _c("score", "int", min=1, max=5),
        ),
        key=("period", "ratee_id", "rater_id", "aspect"),
        references=(
            Reference("ratee_id", "employees", "employee_id", "warning", "exclude"),
            Reference("rater_id", "employees", "employee_id", "warning", "keep"),
        ),
        doc="360-degree ratings of the BerAKHLAK aspects, integers 1-5.",
    ),
    Table(
        "competencies",
        (
            _c("competency_code", "competency"),
            _c("name_id", "text"),
            _c("name_en", "text"),
            _c("kind", "code", codes="competency_kind"),
        ),
        key=("competency_code",),
        doc="Competency dictionary (PermenPANRB 38/2017 plus the agency's technical ones).",
    ),
    Table(
        "competency_standards",
        (
            _c("position_class", "code", codes="position_class"),
            _c("job_family", "key", allow_star=True, doc="'*' = any job family"),
            _c("competency_code", "competency"),
            _c("required_level", "int", min=1, max=5),
        ),
        key=("position_class", "job_family", "competency_code"),
        references=(Reference("competency_code", "competencies", "competency_code", "error"),),
        doc="Required level per position class (and job family) and competency.",
    ),
    Table(
        "competency_assessments",
        (
            _c("employee_id", "nip"),
            _c("assessed_on", "date"),
            _c("competency_code", "competency"),
            _c("level", "float", min=1, max=5, doc="1-5, decimals allowed"),
            _opt("method", "key", doc="assessment_center, uji_kompetensi, 360…"),
        ),
        key=("employee_id", "assessed_on", "competency_code"),
        references=(
            Reference("employee_id", "employees", "employee_id", "warning", "exclude"),
            Reference("competency_code", "competencies", "competency_code", "error"),
        ),
        doc="Assessed competency levels; the latest per competency counts.",
    ),
    Table(
        "rollout",
        (
            _c("unit_id", "id"),
            _c("adopted_period", "period_or_date", missing=None,
               doc="empty = not adopted; a date becomes the first month lived entirely under the scheme"),
            _opt("scheme", "key"),
        ),
        key=("unit_id",),
        references=(Reference("unit_id", "units", "unit_id", "warning", "exclude"),),
        doc="When each unit adopted the new appraisal scheme.",
    ),
    Table(
        "service_outcomes",
        (
            _c("unit_id", "id"),
            _c("period", "period"),
            _c("ikm", "float", min=25, max=100, missing="warning",
               doc="public satisfaction index (PermenPANRB 14/2017), 25-100"),
            _c("iku_attainment", "float", min=0, max=200, missing="warning",
               doc="key performance indicator attainment, percent"),
            _opt("complaints", "int", min=0),
            _opt("processing_days", "float", min=0),
        ),
        key=("unit_id", "period"),
        references=(Reference("unit_id", "units", "unit_id", "warning", "exclude"),),
        doc="Public-service outcomes per unit and period (quarterly).",
    ),
    Table(
        "training_catalog",
        (
            _c("program_id", "id"),
            _c("competency_code", "competency"),
            _c("name", "text"),
            _c("mode", "code", codes="training_mode"),
            _c("form", "code", codes="training_form"),
            _c("jp", "float", min=0, min_exclusive=True, doc="lesson hours (jam pelajaran)"),
            _c("cost_per_participant", "money", min=0, doc="IDR"),
            _c("min_participants", "int", min=1),
            _c("max_participants", "int", min=1),
            _opt("provider", "text"),
        ),
        key=("program_id",),
        references=(Reference("competency_code", "competencies", "competency_code", "error"),),
        doc="Development programmes on offer, in the LAN 10/2018 forms.",
    ),
    # No key: exports repeat a course (two systems, a joined export), and a repeated row is not an
    # error to stop a run for; the received-JP count folds repeats (training.development).
    Table(
        "training_history",
        (
            _c("employee_id", "nip"),
            _c("start", "date", missing="warning",
               doc="first day; empty: the record cannot be placed in a year unless `end` is given"),
            _opt("end", "date", doc="last day; the JP count in the year of this date (of `start` when empty)"),
            _c("name", "text", missing="warning", doc="the course or training (nama diklat / kursus)"),
            _opt("form", "code", codes="training_form", doc="LAN 10/2018 form, when the export says"),
            _c("jp", "float", min=0, missing="warning",
               doc="lesson hours (jam pelajaran) received; empty: the record counts no JP"),
            _opt("provider", "text", doc="the organiser (institusi penyelenggara)"),
        ),
        references=(Reference("employee_id", "employees", "employee_id", "warning", "exclude"),),
        doc="Development each employee has received (riwayat diklat / kursus), one row per course.",
    ),
)}

REQUIRED_TABLES = tuple(name for name, t in TABLES.items() if t.required)
