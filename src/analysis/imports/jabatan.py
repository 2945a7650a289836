"""Position class and job family from what exports say of a position (jabatan), by rule tables.

The rules are data (``rules/jabatan.yaml``), extendable by a user's file whose entries are tried
first. The position class is decided, in this order, by the eselon; the level words in the name of
a functional position ("Guru Ahli Muda" -> ahli_muda, "Perawat Terampil" -> terampil); the kind of
position when it names the class itself (jabatan pelaksana -> pelaksana); the name of a structural
position. The job family is the first rule one of whose words the name holds, else the default.
Words match as whole words, without case, accents or punctuation.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pandas as pd
import yaml

from analysis.core.codes import POSITION_CLASSES, fold

RULE_KEYS = {"position_class", "job_family", "default_job_family"}
CLASS_SECTIONS = ("eselon", "levels", "kinds", "structural")


class RulesError(Exception):
    """A rule table that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class Rules:
    # each section: (folded words, class), tried in order
    eselon: tuple[tuple[str, str], ...]
    levels: tuple[tuple[str, str], ...]
    kinds: tuple[tuple[str, str], ...]
    structural: tuple[tuple[str, str], ...]
    families: tuple[tuple[str, str], ...]  # (folded words, family)
    default_family: str


def _parse(text: str, source: str) -> dict:
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise RulesError(f"{source}: not valid YAML ({str(exc).splitlines()[0]})") from exc
    if not isinstance(data, dict):
        raise RulesError(f"{source}: a rule table is a mapping ({', '.join(sorted(RULE_KEYS))})")
    unknown = sorted(set(map(str, data)) - RULE_KEYS)
    if unknown:
        raise RulesError(f"{source}: {unknown[0]}: unknown key (a rule table has: {', '.join(sorted(RULE_KEYS))})")
    out: dict = {s: [] for s in CLASS_SECTIONS}
    classes = data.get("position_class") or {}
    if not isinstance(classes, dict):
        raise RulesError(f"{source}: position_class: must map {', '.join(CLASS_SECTIONS)} to their rules")
    for section, rules in classes.items():
        if section not in CLASS_SECTIONS:
            raise RulesError(f"{source}: position_class.{section}: unknown key (one of: {', '.join(CLASS_SECTIONS)})")
        if not isinstance(rules, dict):
            raise RulesError(f"{source}: position_class.{section}: must map words to a position class")
        for words, code in rules.items():
            if code not in POSITION_CLASSES:
                raise RulesError(f"{source}: position_class.{section}.{words}: {code!r} is not a position class "
                                 f"({', '.join(POSITION_CLASSES)})")
            out[section].append((fold(str(words)), code))
    families = data.get("job_family") or []
    if not isinstance(families, list):
        raise RulesError(f"{source}: job_family: must be a list of {{family, words}}")
    out["families"] = []
    for i, rule in enumerate(families):
        if not isinstance(rule, dict) or set(rule) != {"family", "words"} or not isinstance(rule["words"], list):
            raise RulesError(f"{source}: job_family[{i}]: must be {{family: name, words: [..]}}")
        family = fold(str(rule["family"]))
        out["families"] += [(fold(str(w)), family) for w in rule["words"]]
    default = data.get("default_job_family")
    out["default"] = fold(str(default)) if default is not None else None
    return out


def load_rules(user_file: str | Path | None = None) -> Rules:
    shipped = _parse(resources.files("analysis.imports").joinpath("rules", "jabatan.yaml").read_text(
        encoding="utf-8"), "rules/jabatan.yaml")
    user = {s: [] for s in (*CLASS_SECTIONS, "families")} | {"default": None}
    if user_file is not None:
        path = Path(user_file)
        try:
            user = _parse(path.read_text(encoding="utf-8"), str(path))
        except (OSError, UnicodeDecodeError) as exc:
            raise RulesError(f"{path}: cannot be read ({exc})") from exc

    def longest_first(rules: list) -> tuple:
        return tuple(sorted(rules, key=lambda r: -len(r[0])))

    return Rules(
        # a user's rules before the shipped ones; within each, the longer words first ("inspektur
        # pembantu" before "inspektur")
        *(longest_first(user[s]) + longest_first(shipped[s]) for s in CLASS_SECTIONS),
        families=tuple(user["families"]) + tuple(shipped["families"]),
        default_family=user["default"] or shipped["default"] or "lainnya",
    )


def _holds(name: str, words: str) -> bool:
    return bool(words) and f"_{words}_" in f"_{name}_"


def _first(name: str, rules: tuple[tuple[str, str], ...]) -> str | None:
    return next((code for words, code in rules if _holds(name, words)), None)


def _eselon(value: str, rules: tuple[tuple[str, str], ...]) -> str | None:
    key = fold(value).removeprefix("eselon_")
    exact = dict(rules)
    if key in exact:
        return exact[key]
    return exact.get(key.split("_")[0])  # "II.c" or "II" alone: its roman numeral


def position_class(position: str | None, kind: str | None, eselon: str | None, rules: Rules) -> str | None:
    """The position class of one position, or None when the rules cannot tell."""
    if eselon:
        found = _eselon(eselon, rules.eselon)
        if found:
            return found
    name = fold(position or "")
    kind_key = fold(kind or "")
    return (_first(name, rules.levels) or _first(kind_key, rules.kinds) or _first(name, rules.structural)
            or _first(kind_key, rules.levels))


def job_family(position: str | None, rules: Rules) -> tuple[str, bool]:
    """(family, whether a rule knew the name)."""
    found = _first(fold(position or ""), rules.families)
    return (found, True) if found else (rules.default_family, False)


def classify(frame: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """position_class, job_family and family_known for each row of a frame with ``position``,
    ``position_type`` and ``eselon`` (any may be absent), each distinct combination decided once."""
    cols = [c for c in ("position", "position_type", "eselon") if c in frame.columns]
    keys = frame[cols].astype("object").where(frame[cols].notna(), None) if cols else pd.DataFrame(index=frame.index)
    combos = keys.drop_duplicates()
    rows = []
    for rec in combos.itertuples(index=False):
        values = dict(zip(cols, rec))
        pc = position_class(values.get("position"), values.get("position_type"), values.get("eselon"), rules)
        fam, known = job_family(values.get("position"), rules)
        rows.append((*rec, pc, fam, known))
    decided = pd.DataFrame(rows, columns=[*cols, "position_class", "job_family", "family_known"])
    if not cols:
        return pd.DataFrame({"position_class": None, "job_family": rules.default_family, "family_known": False},
                            index=frame.index)
    merged = keys.reset_index(names="_row").merge(decided, on=cols, how="left").set_index("_row")
    merged.index.name = frame.index.name
    return merged.loc[frame.index, ["position_class", "job_family", "family_known"]]
