"""The synthetic dataset's configuration: size, seed and every planted effect size (copied into
truth.json), and the order of the random streams."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

VERSION = "1.0"
MIN_EMPLOYEES = 500
# child random streams, in a fixed order (adding one at the end keeps the others unchanged)
STREAMS = ("org", "names", "programme", "gender", "feedback_pairs", "latent", "targets", "ratings",
           "feedback_scores", "competencies", "rollout", "catalog", "warnings")


@dataclass
class SynthConfig:
    """Size, seed and every effect size of the synthetic dataset (copied into truth.json).

    Units: 360 effects are points on the latent 1-5 rating scale (before
    rounding); appraisal effects are standard deviations of the appraisal
    latent; rollout effects are IKM points and IKU percentage points.
    """

    employees: int = 6000
    seed: int = 20261122
    periods: tuple[str, ...] = ("2023", "2024", "2025")  # annual appraisal periods
    feedback_periods: tuple[str, ...] = ("2024", "2025")
    # --- organisation
    move_rate: float = 0.10  # share of staff moving to another team leader of their unit each year
    feedback_region: str = "Polonia"  # every unit of this region is in the 360 programme
    feedback_other_unit_share: float = 0.45  # share of the other units in the 360 programme
    # --- performance latents
    theta_ar: float = 0.8  # AR(1) coefficient of performance across periods
    # --- 360 feedback (latent 1-5 scale)
    fb_mean: float = 3.5
    fb_ratee_sd: float = 0.45
    fb_ratee_aspect_sd: float = 0.25
    fb_noise_sd: float = 0.5
    fb_rater_sd: float = 0.10  # background rater effects N(0, sd^2) for every rater
    planted_min_ratees: int = 10  # planted rater kinds are drawn mostly among raters with this many ratees
    lenient_share: float = 0.08
    severe_share: float = 0.08
    halo_share: float = 0.05
    central_share: float = 0.05
    small_rater_planted_share: float = 0.003  # per kind, among raters with fewer ratees (at least 2)
    lenient_effect: float = 0.6
    severe_effect: float = -0.6
    halo_noise_sd: float = 0.05
    central_center: float = 3.5
    central_compression: float = 0.25
    source_effects: dict[str, float] = field(default_factory=lambda: {
        "supervisor": -0.10, "peer": 0.0, "subordinate": 0.15})
    self_inflation: float = 0.45
    # --- gender gap
    gender_gap_unit_share: float = 0.10
    gender_gap_min_size: int = 30
    gender_gap_min_each: int = 8
    gender_gap_appraisal: float = -0.6  # sd of the appraisal latent, female ratees, supervisor appraisal
    gender_gap_feedback: float = -0.4  # latent points, supervisor 360 ratings of female ratees
    # --- appraisal outcomes
    org_predikat_shares: dict[str, float] = field(default_factory=lambda: {
        "istimewa": 0.15, "baik": 0.70, "butuh_perbaikan": 0.10, "kurang": 0.04, "sangat_kurang": 0.01})
    violation_rate: dict[str, float] = field(default_factory=lambda: {
        "baik": 0.08, "istimewa": 0.12, "butuh_perbaikan": 0.06})
    reported_mismatch_share: float = 0.02
    innovation_share: float = 0.10  # among sangat_baik
    transferred_out: int = 3  # appraisal rows (last period) of NIPs not in employees
    # --- competencies
    profile_share: float = 0.60  # among employees eligible for at least one profile
    missing_cell_share: float = 0.04
    never_assessed_share: float = 0.03
    older_assessment_share: float = 0.15
    # --- rollout and service outcomes
    cohorts: tuple[str, ...] = ("2023Q1", "2023Q3", "2024Q1", "2024Q3", "2025Q1")
    never_share: float = 0.25
    service_start: str = "2022Q1"
    service_end: str = "2025Q4"
    ikm_tau_intercept: float = 0.5
    ikm_tau_slope: float = 0.3
    iku_tau_intercept: float = 1.0
    iku_tau_slope: float = 0.5
    region_multiplier: dict[str, float] = field(default_factory=lambda: {
        "Polonia": 1.4, "Palu": 1.2, "Alak": 1.0, "Rakumpit": 0.8, "Andir": 0.6})
    ikm_mean: float = 80.0
    ikm_unit_sd: float = 4.0
    ikm_noise_sd: float = 1.5
    iku_mean: float = 95.0
    iku_unit_sd: float = 8.0
    iku_noise_sd: float = 4.0

    @property
    def appraisal_shift_per_point(self) -> float:
        """Appraisal-latent sd per 360 latent point: 1 / sd of a 360 rating net of rater effects."""
        return 1.0 / float(np.sqrt(self.fb_ratee_sd**2 + self.fb_ratee_aspect_sd**2 + self.fb_noise_sd**2))
