"""What each layout of export reads: its fields, their types, and which of them a profile must map.

A profile (``profiles/*.yaml``) says where a field is found in a file (column aliases, a title row,
the file name) and how its text is cleaned (value maps, named transforms); the field's *type* is
fixed here, so that no profile can hand a layout a NIP that is not a NIP or a date that is text.
"""

from __future__ import annotations

from dataclasses import dataclass

from analysis.core.ikm import UNSUR  # the nine elements of the SKM questionnaire (PermenPANRB 14/2017)


@dataclass(frozen=True)
class Layout:
    name: str
    fields: dict[str, str]  # field -> type (see ``transforms.TYPES``)
    # each group: at least one of its fields must be mapped by a profile and found in a file
    required: tuple[tuple[str, ...], ...]
    doc: str = ""


LAYOUTS: dict[str, Layout] = {layout.name: layout for layout in (
    Layout(
        "ekinerja",
        {
            "employee_id": "nip", "rater_id": "nip", "hasil_kerja": "rating", "perilaku_kerja": "rating",
            "predikat": "predikat", "period_start": "date", "period_end": "date", "year": "year",
            "unit_id": "id", "unit_name": "text", "parent_unit": "text", "position": "text",
            "position_type": "text", "eselon": "text", "acting": "flag", "grade": "text",
            "employment_type": "employment_type", "region": "text", "instansi": "text",
        },
        (("employee_id",), ("rater_id",), ("hasil_kerja",), ("perilaku_kerja",), ("unit_id",),
         ("period_end", "year")),
        "e-Kinerja 'Laporan Penilaian SKP': appraisals, and the units and employees they name",
    ),
    Layout(
        "siasn",
        {
            "employee_id": "nip", "gender": "gender", "birth_date": "date", "hire_date": "date",
            "employment_type": "employment_type", "legal_status": "text", "grade": "text",
            "position_type": "text", "position": "text", "eselon": "text", "education": "text",
            "unit_id": "id", "unit_name": "text", "parent_unit_id": "id", "parent_unit": "text",
            "instansi": "text", "region": "text",
        },
        (("employee_id",), ("unit_id", "unit_name"), ("position", "position_type", "eselon")),
        "SIASN 'Export Data ASN': employees and units",
    ),
    Layout(
        "training",
        {
            "employee_id": "nip", "name": "text", "form": "training_form", "jp": "number",
            "start": "date", "end": "date", "provider": "text",
        },
        (("employee_id",), ("name",), ("start", "end")),
        "training history (riwayat diklat / kursus): training_history",
    ),
    Layout(
        "skm",
        {"unit_id": "id", "unit_name": "text", "date": "date", "period": "quarter",
         **{u: "scale" for u in UNSUR}},
        (("unit_id", "unit_name"), ("date", "period"), *((u,) for u in UNSUR)),
        "SKM respondent sheets (PermenPANRB 14/2017): service_outcomes.ikm per unit and quarter",
    ),
)}
