"""Run parameters: a YAML file, validated before anything runs.

A scenario file may start with ``extends: default.yaml`` (a path relative to
the file) and override only what differs; mappings are merged key by key.
Unknown keys, wrong types and impossible values are errors naming the key.
Defaults marked [U] in the domain notes (JP credits, required levels…) are
agency conventions, kept here so that an agency can replace them.

A params file is read defensively: it must be UTF-8 text of at most
``MAX_FILE_BYTES``; YAML anchors and aliases (``&``, ``*``: the way to make a
small file expand into gigabytes) and a key given twice in one mapping are
errors; every bad value an error quotes is cut to a readable length.
A relative ``privacy.key_file`` (and ``dask.tls_*`` file) is relative to the folder of the file that
sets it.
"""

from __future__ import annotations

import ipaddress
import os
import re
import reprlib
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from analysis.core import codes, periods

MAX_FILE_BYTES = 1_000_000  # a params file is a page of settings; anything bigger is not one
VALUE_CHARS = 60  # a bad value quoted in an error is cut to this many characters
MESSAGE_CHARS = 600  # and the whole message of one problem (paths included) to this many
SEED_LIMIT = 2**32  # seeds are 0 <= seed < 2**32 (what numpy and scikit-learn accept)

_value_repr = reprlib.Repr()
_value_repr.maxstring = _value_repr.maxother = VALUE_CHARS
_value_repr.maxlist = _value_repr.maxtuple = _value_repr.maxdict = _value_repr.maxset = 4
_value_repr.maxlevel = 3


def shorten(text: str, limit: int = MESSAGE_CHARS) -> str:
    """``text`` on one line and at most ``limit`` characters (an ellipsis says it was cut)."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def quote(value) -> str:
    """A value as an error message shows it: its repr, never longer than ``VALUE_CHARS``.

    Built with ``reprlib``, so a huge or deeply nested value is never expanded in full."""
    return shorten(_value_repr.repr(value), VALUE_CHARS)


class ParamsError(Exception):
    """Invalid parameters; ``problems`` lists (key, message), each cut to a readable length."""

    def __init__(self, source: str, problems: list[tuple[str, str]]):
        self.source = source
        self.problems = [(shorten(key, 2 * VALUE_CHARS), shorten(msg)) for key, msg in problems]
        lines = [f"{source}: {key}: {msg}" if key else f"{source}: {msg}" for key, msg in self.problems]
        super().__init__("\n".join(lines))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Privacy(_Strict):
    pseudonymise: bool = True
    min_cell: int = Field(5, ge=1, le=100, description="smallest group shown in circulated tables")
    key_file: str = Field(".workbench/pseudonym.key", min_length=1,
                          description="secret key of the pseudonyms (kept out of outputs); relative to the "
                                      "folder of the params file that sets it")


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


class Imports(_Strict):
    """What ``workbench import`` cannot read from the exports (params key ``import``)."""

    region: str | None = Field(None, min_length=1, max_length=200,
                               description="region of the units when the exports name none")
    skm_population: int | dict[str, int] | None = Field(
        None, description="population a unit serves, for the SKM's minimum of respondents (PermenPANRB 14/2017, "
                          "Krejcie & Morgan): one number for every unit, or by unit id (units not named: 384)")

    @field_validator("skm_population")
    @classmethod
    def _positive_population(cls, v):
        values = v.values() if isinstance(v, dict) else ([] if v is None else [v])
        if any(n < 1 for n in values):
            raise ValueError("a population served is at least 1")
        return v


class Validation(_Strict):
    """What a run does when the data has errors (docs/scheduling.md)."""

    on_error: Literal["stop", "exclude"] = Field(
        "stop", description="stop: nothing is analysed; exclude: the rows with errors and the rows depending "
                            "on them are set aside and the analysis runs on the rest")
    max_excluded_share: float = Field(0.05, ge=0, le=1,
                                      description="with exclude, the run still stops when a required table "
                                                  "would lose more than this share of its rows")


class Retention(_Strict):
    """Which finished run folders a run keeps (``workbench prune``; after every run)."""

    keep_successful: int | None = Field(None, ge=1, le=100_000,
                                        description="successful runs kept, newest first (none: all)")
    keep_failed: int | None = Field(None, ge=0, le=100_000,
                                    description="failed and interrupted runs kept, newest first (none: all)")
    trend_runs: int = Field(24, ge=2, le=1_000,
                            description="successful runs the history page's trend charts show: never pruned")


class Notify(_Strict):
    """Commands run when a run ends (run folder, status and error in WORKBENCH_* environment variables)."""

    on_failure: str | None = Field(None, min_length=1, max_length=2_000,
                                   description="shell command run when a run fails, stops or has bad data")
    on_success: str | None = Field(None, min_length=1, max_length=2_000,
                                   description="shell command run when a run succeeds")
    timeout_seconds: float = Field(60.0, gt=0, le=3_600, description="a notifier still running then is stopped")


# A Dask scheduler's address: tcp:// or tls://, a host name or IPv4/IPv6 address, a port.
SCHEDULER_ADDRESS = re.compile(r"(tcp|tls)://(\[[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*\]|[A-Za-z0-9]([A-Za-z0-9.\-]*[A-Za-z0-9])?)"
                               r":([0-9]{1,5})")
# Memory per worker as Dask writes it: a number and a unit, upper or lower case (4GiB, 2.5 GB, 512mib, 4G).
MEMORY_SIZE = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([kmgtp]?i?b|[kmgtp])\s*", re.IGNORECASE)
MEMORY_UNITS = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12, "p": 10**15,
                "ki": 2**10, "mi": 2**20, "gi": 2**30, "ti": 2**40, "pi": 2**50}
MIN_WORKER_MEMORY = 2**27  # 128 MiB: a worker with less pauses before it has done anything


def _host_ok(host: str) -> bool:
    """A bracketed host is an IPv6 address; a name's dotted labels are not empty."""
    if host.startswith("["):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            return False
        return True
    return all(host.split("."))


def memory_bytes(text: str) -> int | None:
    """Bytes of a size as Dask writes it (``4GiB``, ``2.5 GB``, ``4G``), or None when it is not one."""
    m = MEMORY_SIZE.fullmatch(text)
    if not m:
        return None
    unit = m.group(2).lower().removesuffix("b")
    return int(float(m.group(1)) * MEMORY_UNITS[unit]) if unit in MEMORY_UNITS else None


class Dask(_Strict):
    """The Dask cluster of a run with ``engine: dask`` (docs/national.md)."""

    scheduler: str = Field("local", max_length=300,
                           description="'local' (a LocalCluster on this machine, started and stopped by the "
                                       "run) or the address of a running scheduler: tcp://host:8786 or "
                                       "tls://host:8786")
    workers: int = Field(2, ge=1, le=256, strict=True, description="local: worker processes")
    threads_per_worker: int = Field(1, ge=1, le=64, strict=True, description="local: threads of each worker")
    memory_limit: str = Field("4GiB", max_length=40,
                              description="local: memory of each worker (Dask spills to disk, then pauses, "
                                          "then restarts a worker above it)")
    connect_seconds: float = Field(30.0, gt=0, le=600,
                                   description="an address: a scheduler that does not answer by then stops the run")
    partitions: int = Field(64, ge=1, le=4096, strict=True,
                            description="partitions of the validated tables: every region lies in one")
    tls_ca_file: str | None = Field(None, min_length=1, max_length=1_000,
                                    description="tls://: the certificate authority that signed the cluster's "
                                                "certificates")
    tls_cert: str | None = Field(None, min_length=1, max_length=1_000, description="tls://: this client's certificate")
    tls_key: str | None = Field(None, min_length=1, max_length=1_000, description="tls://: this client's private key")

    @field_validator("scheduler")
    @classmethod
    def _scheduler(cls, v: str) -> str:
        m = SCHEDULER_ADDRESS.fullmatch(v)
        if v != "local" and not (m and 1 <= int(m.group(4)) <= 65535 and _host_ok(m.group(2))):
            raise ValueError(f"{quote(v)} is neither 'local' nor a scheduler address such as "
                             "tls://10.0.0.5:8786 or tcp://scheduler:8786 (port 1-65535)")
        return v

    @field_validator("memory_limit")
    @classmethod
    def _memory(cls, v: str) -> str:
        size = memory_bytes(v)
        if size is None:
            raise ValueError(f"{quote(v)} is not a size such as 4GiB, 2.5 GB or 512MiB")
        if size < MIN_WORKER_MEMORY:
            raise ValueError(f"{quote(v)} is less than the 128 MiB a worker needs")
        return v

    @field_validator("tls_ca_file", "tls_cert", "tls_key")
    @classmethod
    def _file(cls, v: str | None) -> str | None:
        if v is not None and not v.strip():
            raise ValueError("must be the path of a file (it is blank)")
        return v

    @model_validator(mode="after")
    def _tls(self):
        files = {"tls_ca_file": self.tls_ca_file, "tls_cert": self.tls_cert, "tls_key": self.tls_key}
        if self.scheduler.startswith("tls://") and not all(files.values()):
            missing = ", ".join(k for k, f in files.items() if not f)
            raise ValueError(f"a tls:// scheduler needs tls_ca_file, tls_cert and tls_key (missing: {missing})")
        if any(files.values()) and not self.scheduler.startswith("tls://"):
            raise ValueError("TLS files are given but the scheduler is not a tls:// address: appraisal data is "
                             "personal data, so give the tls:// address (or remove the files)")
        return self


class Params(_Strict):
    # ``import`` is a Python keyword: the field is ``imports``, written ``import`` in params files
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: str = Field("default", pattern=r"^[A-Za-z0-9_\-]+$")
    dataset: str = "data/sample"
    periods: str | list[str] = Field("all", description="'all' or a list of periods to analyse")
    language: Literal["id", "en"] = "id"
    alpha: float = Field(0.05, gt=0, lt=0.5)
    fdr: float = Field(0.10, gt=0, lt=0.5)
    seed: int = Field(20261122, ge=0, lt=SEED_LIMIT, strict=True)
    kernel: str = Field("asn-workbench", pattern=r"^[A-Za-z0-9._\-]+$", max_length=100)
    # notebooks 01-04 executed side by side, each in its own kernel (and memory); 1: one after another
    parallel_notebooks: int = Field(2, ge=1, le=8, strict=True)
    # pandas in each notebook's process, or Dask for the heavy computations of a national run
    engine: Literal["pandas", "dask"] = "pandas"
    dask: Dask = Dask()
    privacy: Privacy = Privacy()
    appraisal: Appraisal = Appraisal()
    raters: Raters = Raters()
    clustering: Clustering = Clustering()
    workshops: Workshops = Workshops()
    gaps: Gaps = Gaps()
    costs: Costs = Costs()
    rollout: Rollout = Rollout()
    imports: Imports = Field(Imports(), alias="import")
    validation: Validation = Validation()
    retention: Retention = Retention()
    notify: Notify = Notify()
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
        if not all(isinstance(p, (str, int)) and not isinstance(p, bool) for p in v):
            bad = next(p for p in v if not isinstance(p, (str, int)) or isinstance(p, bool))
            raise ValueError(f"{quote(bad)} is not a period (2024, 2024Q1, 2024S1, 2024-03)")
        if not v:
            raise ValueError("give at least one period, or 'all'")
        out = []
        for p in v:
            parsed = periods.parse_period(p)
            if parsed is None:
                raise ValueError(f"{quote(p)} is not a period (2024, 2024Q1, 2024S1, 2024-03)")
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
        return self.model_dump(mode="json", by_alias=True)


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


class _Refused(Exception):
    """A params file the loader will not read; ``line`` is 1-based or None."""

    def __init__(self, message: str, line: int | None = None, key: str = ""):
        super().__init__(message)
        self.line, self.key = line, key


class _ParamsLoader(yaml.SafeLoader):
    """PyYAML's safe loader without anchors and aliases.

    An alias makes one node stand for another, so a few hundred bytes of aliases of aliases stand
    for gigabytes once anything walks the value (the "billion laughs"). A params file never needs
    them: refused where the parser meets them, before anything is built."""

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise _Refused("YAML anchors and aliases (& and *) are not allowed in a params file; "
                           "write each value out", event.start_mark.line + 1)
        return super().compose_node(parent, index)


def _check_duplicates(node: yaml.Node, path: tuple[str, ...] = ()) -> None:
    """A key given twice in one mapping is an error (YAML loaders otherwise keep the last)."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[tuple[str, str], int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                ident = (key_node.tag, key_node.value)
                line = key_node.start_mark.line + 1
                if ident in seen:
                    raise _Refused(f"given twice (lines {seen[ident]} and {line}); keep one", line,
                                   ".".join((*path, key)))
                seen[ident] = line
            _check_duplicates(value_node, (*path, key))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _check_duplicates(item, (*path, str(i)))


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """One line about a YAML syntax error, with its line when PyYAML knows it."""
    if isinstance(exc, yaml.reader.ReaderError):
        return f"not valid YAML: character #x{exc.character:04x} at position {exc.position} is not allowed" \
            if isinstance(exc.character, int) else f"not valid YAML: {exc.reason}"
    mark = getattr(exc, "problem_mark", None)
    at = f" (line {mark.line + 1})" if mark is not None else ""
    return f"not valid YAML{at}: {getattr(exc, 'problem', None) or exc}"


def _parse(path: Path) -> object:
    """The YAML value of a params file, or a ParamsError naming the file and, if known, the line."""
    source = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ParamsError(source, [("", f"is {size:,} bytes; a params file is at most {MAX_FILE_BYTES:,}")])
        raw = path.read_bytes()
    except OSError as exc:
        raise ParamsError(source, [("", f"cannot be read: {exc.strerror or exc}")]) from None
    if b"\0" in raw:
        raise ParamsError(source, [("", "is a binary file, not a YAML text file")])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParamsError(source, [("", f"is not UTF-8 text (byte 0x{raw[exc.start]:02x} at position "
                                        f"{exc.start}); save it as UTF-8")]) from None
    loader = None
    try:
        loader = _ParamsLoader(text)  # checks the characters first
        node = loader.get_single_node()
        if node is None:
            return None
        _check_duplicates(node)
        return loader.construct_document(node)
    except _Refused as exc:
        at = f"line {exc.line}: " if exc.line and not exc.key else ""
        raise ParamsError(source, [(exc.key, f"{at}{exc}")]) from None
    except yaml.YAMLError as exc:
        raise ParamsError(source, [("", _yaml_problem(exc))]) from None
    except RecursionError:
        raise ParamsError(source, [("", "values are nested too deeply")]) from None
    finally:
        if loader is not None:
            loader.dispose()


def _resolve_key_file(data: dict, path: Path) -> None:
    """Make a relative ``privacy.key_file`` absolute against the folder of the file that sets it.

    Until this rule, relative paths were taken from the current folder: a key that is there and not
    where the rule now looks is an error rather than a silent switch to a new key (and new pseudonyms).
    """
    privacy = data.get("privacy")
    value = privacy.get("key_file") if isinstance(privacy, dict) else None
    if not isinstance(value, str) or not value.strip():
        return
    written = Path(value).expanduser()
    if written.is_absolute():
        privacy["key_file"] = str(written)
        return
    resolved = Path(os.path.abspath(path.parent / written))
    legacy = Path(os.path.abspath(written))
    if not resolved.exists() and legacy.is_file() and legacy != resolved:
        raise ParamsError(str(path), [("privacy.key_file", (
            f"{resolved} does not exist, but {legacy} does: a relative key_file is now relative to the "
            f"params file's folder, not the current folder. Move the key, or give its absolute path"))])
    privacy["key_file"] = str(resolved)


TLS_FILES = ("tls_ca_file", "tls_cert", "tls_key")


def _resolve_tls_files(data: dict, path: Path) -> None:
    """Make relative ``dask.tls_*`` files absolute against the folder of the file that sets them, as
    ``privacy.key_file`` is (a scheduled run starts in whatever folder its scheduler chooses)."""
    dask = data.get("dask")
    if not isinstance(dask, dict):
        return
    for name in TLS_FILES:
        value = dask.get(name)
        if isinstance(value, str) and value.strip() and not Path(value).expanduser().is_absolute():
            dask[name] = os.path.abspath(path.parent / Path(value).expanduser())
        elif isinstance(value, str) and value.strip():
            dask[name] = str(Path(value).expanduser())


def _read_yaml(path: Path, chain: tuple[Path, ...] = ()) -> dict:
    if path.resolve() in chain:
        raise ParamsError(str(path), [("extends", "files extend each other in a loop")])
    if path.is_dir():
        raise ParamsError(str(path), [("", "is a folder, not a params file")])
    if not path.is_file():
        raise ParamsError(str(path), [("", "file not found")])
    data = _parse(path)
    data = {} if data is None else data
    if not isinstance(data, dict):
        raise ParamsError(str(path), [("", "must be a mapping of keys to values")])
    if any(not isinstance(k, str) for k in data):
        bad = next(k for k in data if not isinstance(k, str))
        raise ParamsError(str(path), [("", f"{quote(bad)} is not a key (keys are names such as fdr)")])
    _resolve_key_file(data, path)
    _resolve_tls_files(data, path)
    parent = data.pop("extends", None)
    if parent is not None:
        if not isinstance(parent, str) or not parent.strip():
            raise ParamsError(str(path), [("extends", f"must be the name of a params file (got {quote(parent)})")])
        base = _read_yaml((path.parent / parent), chain + (path.resolve(),))
        data = _merge(base, data)
    return data


def load_params(path: Path | str | None = None, overrides: dict | None = None) -> Params:
    """Read, merge and validate a params file (defaults only when ``path`` is None).

    A relative ``privacy.key_file`` comes back absolute: against the folder of the file that set
    it, or the current folder for the defaults."""
    source = str(path) if path else "defaults"
    data = _read_yaml(Path(path)) if path else {}
    if path and "name" not in data:
        data["name"] = Path(path).stem
    if overrides:
        data = _merge(data, overrides)
    try:
        params = Params.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            key = ".".join(str(x) for x in err["loc"])
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key"
            elif "input" in err and err["type"] not in ("missing",) and not isinstance(err["input"], dict):
                msg += f" (got {quote(err['input'])})"
            problems.append((key, msg))
        raise ParamsError(source, problems) from None
    key_file = Path(params.privacy.key_file).expanduser()
    if not key_file.is_absolute():  # the model's default, or the defaults without a file
        params = params.model_copy(update={"privacy": params.privacy.model_copy(
            update={"key_file": os.path.abspath(key_file)})})
    return params
