"""Run parameters: a YAML file, validated before anything runs.

A scenario file may start with ``extends: default.yaml`` (a path relative to
the file) and override only what differs; mappings are merged key by key.
Unknown keys, wrong types and impossible values are errors naming the key.
Defaults marked [U] in the domain notes (JP credits, required levels…) are
agency conventions, kept here so that an agency can replace them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from analysis.core import codes, periods


class ParamsError(Exception):
    """Invalid parameters; ``problems`` lists (key, message)."""

    def __init__(self, source: str, problems: list[tuple[str, str]]):
        self.source = source
        self.problems = problems
        lines = [f"{source}: {key}: {msg}" if key else f"{source}: {msg}" for key, msg in problems]
        super().__init__("\n".join(lines))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Privacy(_Strict):
    pseudonymise: bool = True
    min_cell: int = Field(5, ge=1, le=100, description="smallest group shown in circulated tables")
    key_file: str = Field(".workbench/pseudonym.key",
                          description="secret key of the pseudonyms (kept out of outputs)")


class Weights(_Strict):
    skp: float = Field(ge=0, le=1)
    behaviour: float = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _sum_to_one(self):
        if abs(self.skp + self.behaviour - 1) > 1e-9:
            raise ValueError(f"skp + behaviour must be 1 (got {self.skp + self.behaviour:g})")
        return self


class Appraisal(_Strict):
    """PP 30/2019 numeric scheme and the achievement-based (capaian) view."""

    achievement_cap: float = Field(1.2, ge=1.0, le=2.0, description="cap on realisation/target")
    weights: Weights = Weights(skp=0.7, behaviour=0.3)
    weights_360: Weights = Weights(skp=0.6, behaviour=0.4)
    behaviour_points: dict[str, float] = Field(
        default_factory=lambda: {"di_atas": 110.0, "sesuai": 90.0, "di_bawah": 70.0},
        description="perilaku_kerja rating -> behaviour points when there is no 360 input")
    feedback_points: dict[int, float] = Field(
        default_factory=lambda: {1: 50.0, 2: 70.0, 3: 90.0, 4: 105.0, 5: 120.0},
        description="360 mean score -> behaviour points (linear between the given scores)")
    bands: dict[str, float] = Field(
        default_factory=lambda: {"sangat_baik": 110.0, "baik": 90.0, "cukup": 70.0, "kurang": 50.0},
        description="lower bounds of the PP 30/2019 bands (Sangat Baik also needs an innovation)")
    innovation_required: bool = Field(True, description="Sangat Baik needs a recognised innovation")
    capaian_thresholds: dict[str, float] = Field(
        default_factory=lambda: {"di_atas": 110.0, "sesuai": 90.0},
        description="SKP achievement (points) at or above which hasil kerja counts as di_atas / sesuai")

    @field_validator("behaviour_points")
    @classmethod
    def _ratings(cls, v):
        if set(v) != set(codes.RATINGS):
            raise ValueError(f"needs exactly the ratings {', '.join(codes.RATINGS)}")
        if not v["di_atas"] >= v["sesuai"] >= v["di_bawah"]:
            raise ValueError("points must not decrease from di_bawah to di_atas")
        return v

    @field_validator("feedback_points")
    @classmethod
    def _feedback(cls, v):
        keys = sorted(v)
        if keys[0] != 1 or keys[-1] != 5 or any(k < 1 or k > 5 for k in keys):
            raise ValueError("needs scores from 1 to 5")
        if any(v[a] > v[b] for a, b in zip(keys, keys[1:])):
            raise ValueError("points must not decrease as the score grows")
        return v

    @field_validator("bands")
    @classmethod
    def _bands(cls, v):
        need = ("sangat_baik", "baik", "cukup", "kurang")
        if set(v) != set(need):
            raise ValueError(f"needs exactly {', '.join(need)}")
        if not v["sangat_baik"] > v["baik"] > v["cukup"] > v["kurang"] > 0:
            raise ValueError("lower bounds must decrease from sangat_baik to kurang")
        return v

    @field_validator("capaian_thresholds")
    @classmethod
    def _capaian(cls, v):
        if set(v) != {"di_atas", "sesuai"} or not v["di_atas"] > v["sesuai"] > 0:
            raise ValueError("needs di_atas > sesuai > 0")
        return v


class Raters(_Strict):
    min_ratees: int = Field(10, ge=2, description="raters with fewer ratees are not flagged")
    min_effect: float = Field(0.2, ge=0, le=2,
                              description="leniency (score points) too small to act on: flags need more")
    min_group: int = Field(8, ge=2, description="women and men a unit needs for its own gender-gap test")
    method: Literal["reml", "ml"] = "reml"


class Clustering(_Strict):
    k_min: int = Field(2, ge=2)
    k_max: int = Field(10, ge=2, le=50)
    n_bootstrap: int = Field(50, ge=0, le=1000)
    tolerance: float = Field(0.01, ge=0, le=0.2,
                             description="smallest k whose silhouette is within this of the best")

    @model_validator(mode="after")
    def _range(self):
        if self.k_max < self.k_min:
            raise ValueError(f"k_max ({self.k_max}) must be at least k_min ({self.k_min})")
        return self


def _default_gain() -> dict[str, float]:
    # [U] planning assumption: how many levels of a competency one programme of a form is
    # expected to close. A full course (pelatihan, 24-40 JP) or an internship does more than a
    # seminar or an e-learning module; an agency should set these from its own evaluations.
    return {"pelatihan": 1.0, "kursus": 0.75, "workshop": 0.75, "bimtek": 0.75, "seminar": 0.1,
            "sosialisasi": 0.05, "coaching": 0.5, "mentoring": 0.5, "e_learning": 0.1, "pjj": 0.5,
            "detasering": 1.0, "patok_banding": 0.5, "pertukaran": 0.5, "belajar_mandiri": 0.05,
            "komunitas_belajar": 0.25, "bimbingan_kerja": 0.5, "magang": 1.0,
            "klasikal": 0.75, "nonklasikal": 0.25}


class Workshops(_Strict):
    budget: float = Field(2_500_000_000, ge=0, description="IDR available for the workshop plan")
    max_cohort: int = Field(30, ge=1, description="largest class a trainer takes")
    jp_per_day: float = Field(8, gt=0, le=12)
    min_jp: float = Field(20, ge=0, description="JP of development owed to each PNS a year (PP 11/2017)")
    gain: dict[str, float] = Field(
        default_factory=_default_gain,
        description="levels of a competency gap one programme is expected to close, by LAN form, "
                    "with klasikal/nonklasikal as the fallback for forms not listed [U]")
    pppk_max_jp: float = Field(24, ge=0, description="PPPK development at most this many JP a year "
                                                      "(PP 49/2018 art. 40 [S])")
    plan_pppk_cap: bool = Field(True, description="keep PPPK within pppk_max_jp in the workshop plan")
    supervisor_inhouse_jp: float | None = Field(
        48, ge=0, description="JP of in-house development (coaching, mentoring...) a supervisor can give in a "
                              "year, shared among their staff; null = unlimited [U]")

    @field_validator("gain")
    @classmethod
    def _gain(cls, v):
        unknown = set(v) - set(codes.TRAINING_FORMS) - set(codes.TRAINING_MODES)
        if unknown:
            raise ValueError(f"unknown forms {sorted(unknown)}")
        if not set(codes.TRAINING_MODES) <= set(v):
            raise ValueError("needs a fallback for klasikal and nonklasikal")
        if any(not 0 < x <= 5 for x in v.values()):
            raise ValueError("each gain must be above 0 and at most 5 levels")
        return v

    def gain_for(self, form: str, mode: str) -> float:
        """Expected gap closed by one programme of this form (mode fallback)."""
        return float(self.gain.get(form, self.gain[mode]))


class Gaps(_Strict):
    promotion_candidates: list[str] = Field(default_factory=list,
                                            description="NIPs prepared for promotion (target-position gaps)")
    promotion_rule: Literal["sangat_baik_two_years", "none"] = "sangat_baik_two_years"
    performance_threshold: float = Field(90, ge=0, le=120,
                                         description="SKP points below which there is a performance gap")


class Planning(_Strict):
    """The next wave: for which sizes the minimum detectable effect is tabulated."""

    next_wave_units: int = Field(20, ge=1, description="adopting units of the next wave (the headline MDE)")
    post_periods: int = Field(4, ge=1, description="periods after adoption the next wave will be observed")
    units_grid: list[int] = Field(default_factory=lambda: [5, 10, 20, 40])
    periods_grid: list[int] = Field(default_factory=lambda: [1, 2, 4, 8])
    power: float = Field(0.8, gt=0, lt=1)
    n_sims: int = Field(1000, ge=100, le=100_000)
    effect: dict[str, float] = Field(
        default_factory=lambda: {"ikm": 2.0, "iku_attainment": 5.0},
        description="per outcome, the smallest effect worth detecting (outcome units) [U]")

    @field_validator("units_grid", "periods_grid")
    @classmethod
    def _grid(cls, v):
        if not v or any(x < 1 for x in v):
            raise ValueError("needs at least one value, each at least 1")
        return sorted(set(v))


class Rollout(_Strict):
    """Staggered difference-in-differences of the new scheme (notebook 04)."""

    outcomes: list[str] = Field(default_factory=lambda: ["ikm", "iku_attainment"],
                                description="service_outcomes columns to evaluate")
    control: Literal["never", "notyet"] = Field(
        "never", description="comparison units: never-treated, or also not-yet-treated ones")
    method: Literal["dr", "ipw", "reg"] = "dr"
    covariates: list[str] = Field(default_factory=list, description="numeric service_outcomes columns")
    n_boot: int = Field(999, ge=0, le=100_000, description="multiplier-bootstrap draws for the bands")
    boot_weights: Literal["mammen", "rademacher"] = "mammen"
    pretest_min_units: int = Field(10, ge=1, description="adopting units behind a pre-period in the band pre-test")
    by: str = Field("region", description="units column for the heterogeneity of the effect")
    min_units: int = Field(5, ge=2, description="adopters and comparison units a level needs to be tested")
    appraisal_metrics: bool = Field(True, description="also evaluate share Sangat Baik and compliance per unit")
    planning: Planning = Planning()

    @field_validator("outcomes")
    @classmethod
    def _outcomes(cls, v):
        if not v:
            raise ValueError("name at least one outcome")
        return list(dict.fromkeys(v))


class Costs(_Strict):
    """Local cost conventions (IDR) used beside the catalogue's cost per participant."""

    trainer_day: float = Field(2_500_000, ge=0)
    venue_day: float = Field(1_500_000, ge=0)


def _default_jp() -> dict[str, float]:
    # [U] local convention from the domain notes: JP credited per activity.
    return {"coaching": 2, "mentoring": 2, "e_learning": 3, "seminar": 4, "bimtek": 4,
            "workshop": 5, "patok_banding": 10, "magang": 20, "detasering": 20}


def _default_levels() -> dict[str, int]:
    # [U] PermenPANRB 38/2017 practice; replaced by the competency_standards table when given.
    return {"jpt_utama": 5, "jpt_madya": 5, "jpt_pratama": 4, "administrator": 3, "pengawas": 2,
            "pelaksana": 1, "ahli_utama": 4, "ahli_madya": 3, "ahli_muda": 2, "ahli_pertama": 1,
            "penyelia": 1, "mahir": 1, "terampil": 1, "pemula": 1}


class Params(_Strict):
    name: str = Field("default", pattern=r"^[A-Za-z0-9_\-]+$")
    dataset: str = "data/sample"
    periods: str | list[str] = Field("all", description="'all' or a list of periods to analyse")
    language: Literal["id", "en"] = "id"
    alpha: float = Field(0.05, gt=0, lt=0.5)
    fdr: float = Field(0.10, gt=0, lt=0.5)
    seed: int = Field(20261122, ge=0)
    kernel: str = "asn-workbench"
    privacy: Privacy = Privacy()
    appraisal: Appraisal = Appraisal()
    raters: Raters = Raters()
    clustering: Clustering = Clustering()
    workshops: Workshops = Workshops()
    gaps: Gaps = Gaps()
    costs: Costs = Costs()
    rollout: Rollout = Rollout()
    jp_table: dict[str, float] = Field(default_factory=_default_jp)
    required_levels: dict[str, int] = Field(default_factory=_default_levels)

    @field_validator("periods", mode="before")
    @classmethod
    def _periods(cls, v):
        if v == "all":
            return v
        if isinstance(v, (str, int)):
            v = [v]
        if not isinstance(v, list):
            raise ValueError("must be 'all' or a list of periods")
        if not v:
            raise ValueError("give at least one period, or 'all'")
        out = []
        for p in v:
            parsed = periods.parse_period(p)
            if parsed is None:
                raise ValueError(f"{p!r} is not a period (2024, 2024Q1, 2024S1, 2024-03)")
            out.append(str(parsed))
        return out

    @field_validator("jp_table")
    @classmethod
    def _jp(cls, v):
        return _checked_mapping(v, codes.TRAINING_FORMS, "forms", lambda x: x > 0, "JP credits must be positive",
                                list_known=True)

    @field_validator("required_levels")
    @classmethod
    def _levels(cls, v):
        return _checked_mapping(v, codes.POSITION_CLASSES, "position classes", lambda x: 1 <= x <= 5,
                                "levels must be between 1 and 5")

    def dump(self) -> dict:
        return self.model_dump(mode="json")


def _checked_mapping(v: dict, known, what: str, valid, invalid: str, list_known: bool = False) -> dict:
    """A params mapping whose keys are known codes and whose values are valid, or a ValueError saying which."""
    unknown = set(v) - set(known)
    if unknown:
        listed = f"; {what} are {', '.join(known)}" if list_known else ""
        raise ValueError(f"unknown {what} {sorted(unknown)}{listed}")
    if not all(valid(x) for x in v.values()):
        raise ValueError(invalid)
    return v


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _read_yaml(path: Path, chain: tuple[Path, ...] = ()) -> dict:
    if path.resolve() in chain:
        raise ParamsError(str(path), [("extends", "files extend each other in a loop")])
    if not path.is_file():
        raise ParamsError(str(path), [("", "file not found")])
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" (line {where.line + 1})" if where else ""
        raise ParamsError(str(path), [("", f"not valid YAML{at}: {getattr(exc, 'problem', exc)}")]) from None
    if not isinstance(data, dict):
        raise ParamsError(str(path), [("", "must be a mapping of keys to values")])
    parent = data.pop("extends", None)
    if parent is not None:
        base = _read_yaml((path.parent / str(parent)), chain + (path.resolve(),))
        data = _merge(base, data)
    return data


def load_params(path: Path | str | None = None, overrides: dict | None = None) -> Params:
    """Read, merge and validate a params file (defaults only when ``path`` is None)."""
    source = str(path) if path else "defaults"
    data = _read_yaml(Path(path)) if path else {}
    if path and "name" not in data:
        data["name"] = Path(path).stem
    if overrides:
        data = _merge(data, overrides)
    try:
        return Params(**data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            key = ".".join(str(x) for x in err["loc"])
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key"
            elif "input" in err and err["type"] not in ("missing",) and not isinstance(err["input"], dict):
                msg += f" (got {err['input']!r})"
            problems.append((key, msg))
        raise ParamsError(source, problems) from None
