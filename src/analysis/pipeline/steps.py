"""The pipeline's notebooks, in order, with the tables each needs.

Only notebooks that exist are listed. A step whose required tables are absent
is skipped with the reason; a step whose predecessor failed is skipped too.
Steps 01-04 read only the validated tables (and the appraisal outcomes the runner
derives once), so the runner may execute them side by side; the brief comes last.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    name: str
    requires: tuple[str, ...]  # tables without which the notebook cannot say anything
    after: tuple[str, ...] = ()  # steps whose results it reads
    last: bool = False  # runs once every step before it has ended (it reads whatever they wrote)
    early: bool = False  # a long step: started first, so that the others fill the cores around it

    @property
    def notebook(self) -> str:
        return f"{self.name}.ipynb"

    @property
    def number(self) -> str:
        return self.name.split("_", 1)[0]


STEPS: tuple[Step, ...] = (
    Step("01_appraisal_outcomes", requires=("units", "employees", "appraisals")),
    # without 360 feedback the rater model cannot separate raters from ratees; the notebook
    # still runs its fairness and appraisal-adjustment sections and says what it skipped
    # 02 and 03 are the long ones (03 on small data, where the workshop plan dominates; 02 from about
    # 30,000 employees, where the rater model's per-unit fits do): both start first
    Step("02_rater_bias", requires=("units", "employees", "appraisals"), early=True),
    # gaps need assessed competencies; without a catalogue the plans are skipped inside
    Step("03_competency_gaps", requires=("units", "employees", "appraisals", "competency_assessments"), early=True),
    # service outcomes and the adoption dates; the appraisal metrics of the units are a section inside
    Step("04_rollout_evaluation", requires=("units", "rollout", "service_outcomes")),
    # the brief reads only results/ and figures/: it runs whatever the notebooks before it did
    Step("05_policy_brief", requires=(), after=(), last=True),
)


def select(only: str | None) -> list[Step]:
    """Steps named by ``--only`` (comma-separated names, numbers or name endings)."""
    if not only:
        return list(STEPS)
    wanted = [w.strip() for w in only.split(",") if w.strip()]
    chosen = []
    for w in wanted:
        match = [s for s in STEPS if w in (s.name, s.number, s.name.split("_", 1)[1])]
        if not match:
            names = ", ".join(s.name for s in STEPS)
            raise ValueError(f"--only: no notebook called {w!r}; the notebooks are: {names}")
        chosen.extend(m for m in match if m not in chosen)
    return [s for s in STEPS if s in chosen]
