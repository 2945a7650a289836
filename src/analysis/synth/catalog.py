"""Training catalogue in the forms of LAN 10/2018, with realistic JP, costs and class sizes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.core import codes

from .competencies import MANAGERIAL, SOCIOCULTURAL, TECHNICAL

PROVIDERS = ("BPSDM Provinsi", "LAN", "Universitas Tadulako", "Universitas Padjadjaran",
             "Universitas Sumatera Utara", "Universitas Nusa Cendana", "Yayasan Pelita Nusantara (LSM)",
             "BKPSDM (in-house)")
# form -> (jp range, cost range in IDR, min participants range, max participants range, name prefix)
FORMS = {
    "pelatihan": ((24, 40), (2_500_000, 4_500_000), (10, 15), (25, 40), "Pelatihan"),
    "workshop": ((10, 16), (1_000_000, 2_000_000), (10, 15), (25, 40), "Lokakarya"),
    "bimtek": ((8, 16), (1_500_000, 3_000_000), (10, 15), (25, 40), "Bimbingan Teknis"),
    "seminar": ((4, 4), (300_000, 750_000), (20, 30), (100, 200), "Seminar"),
    "coaching": ((8, 8), (500_000, 900_000), (1, 1), (3, 5), "Coaching"),
    "mentoring": ((8, 8), (400_000, 800_000), (1, 1), (2, 3), "Mentoring"),
    "e_learning": ((6, 12), (100_000, 250_000), (1, 1), (500, 500), "E-learning"),
    "patok_banding": ((10, 10), (4_000_000, 6_000_000), (5, 8), (15, 20), "Patok Banding"),
    "magang": ((20, 40), (2_500_000, 4_500_000), (1, 2), (3, 5), "Magang"),
    "detasering": ((20, 40), (3_000_000, 5_000_000), (1, 1), (2, 3), "Detasering"),
}
TOPIC_SUFFIX = {"pelatihan": "", "workshop": "", "bimtek": "", "seminar": "", "coaching": " (4 sesi)",
                "mentoring": " (4 sesi)", "e_learning": "", "patok_banding": " ke Pemerintah Daerah Berkinerja Tinggi",
                "magang": " di Instansi Mitra", "detasering": " di Instansi Mitra"}


def generate(rng: np.random.Generator) -> pd.DataFrame:
    plan: list[tuple[str, str, str]] = []  # (competency, name, form)
    core = {**MANAGERIAL, **SOCIOCULTURAL}
    for code, (name, _) in core.items():
        plan.append((code, name, "pelatihan" if rng.random() < 0.6 else "workshop"))
        plan.append((code, name, "coaching" if rng.random() < 0.5 else "mentoring"))
        plan.append((code, name, "e_learning"))
    for code in ("M.05", "SK.01"):
        plan.append((code, core[code][0], "seminar"))
    tech = [f"T.{f}.{k + 1}" for f in TECHNICAL for k in range(3)]
    names = {f"T.{f}.{k + 1}": n for f, comps in TECHNICAL.items() for k, (n, _) in enumerate(comps)}
    online = set(rng.choice(tech, size=15, replace=False))
    for code in tech:
        plan.append((code, names[code], "bimtek"))
        if code in online:
            plan.append((code, names[code], "e_learning"))
    for code in rng.choice(tech, size=4, replace=False):
        plan.append((code, names[code], "patok_banding"))
    for code in rng.choice(tech, size=4, replace=False):
        plan.append((code, names[code], "magang" if rng.random() < 0.7 else "detasering"))

    rows = []
    for i, (code, topic, form) in enumerate(plan):
        (j0, j1), (c0, c1), (mn0, mn1), (mx0, mx1), prefix = FORMS[form]
        jp = int(rng.integers(j0, j1 + 1))
        if form in ("pelatihan", "magang", "detasering"):
            jp = int(round(jp / 4) * 4)
        cost = int(round(rng.uniform(c0, c1) / 50_000) * 50_000)
        lo = int(rng.integers(mn0, mn1 + 1))
        hi = int(rng.integers(mx0, mx1 + 1))
        if form in ("coaching", "mentoring", "magang", "detasering"):
            provider = "BKPSDM (in-house)" if rng.random() < 0.5 else "BPSDM Provinsi"
        elif form == "e_learning":
            provider = "LAN" if rng.random() < 0.6 else "BPSDM Provinsi"
        else:
            provider = str(rng.choice(PROVIDERS))
        rows.append({
            "program_id": f"PRG-{i + 1:03d}", "competency_code": code, "name": f"{prefix} {topic}{TOPIC_SUFFIX[form]}",
            "mode": codes.TRAINING_FORMS[form], "form": form, "jp": float(jp), "cost_per_participant": cost,
            "min_participants": lo, "max_participants": max(lo, hi), "provider": provider,
        })
    return pd.DataFrame(rows)
