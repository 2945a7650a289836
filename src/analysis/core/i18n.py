"""User-facing text in Bahasa Indonesia and English, from translation tables.

``messages.yaml`` maps a key to ``{id: ..., en: ...}`` templates with named
fields (``{n}``, ``{share:.0%}``); ``labels.yaml`` (see ``codes``) holds the
labels of codes. No user-facing sentence is written in code.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import yaml

from analysis.core.numbers import format_text

LANGUAGES = ("id", "en")


@lru_cache(maxsize=1)
def messages() -> dict[str, dict[str, str]]:
    text = resources.files("analysis.core").joinpath("messages.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def t(key: str, lang: str = "id", **fields) -> str:
    """The text of ``key`` in ``lang`` with its fields filled in."""
    if lang not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, not {lang!r}")
    try:
        template = messages()[key][lang]
    except KeyError:
        raise KeyError(f"no translation for {key!r} in {lang!r}") from None
    return format_text(template, lang, **fields) if fields else template


def outcome_label(outcome: str, lang: str = "id") -> str:
    """A service outcome's name (IKM, IKU attainment) for labels and headings; other columns by their
    display label, or their own name."""
    from analysis.core.codes import label  # codes reads its own table; imported here to keep i18n dependency-free

    return label("service_outcome", outcome, lang)


def outcome_phrase(outcome: str, lang: str = "id") -> str:
    """A service outcome inside a sentence ("the public satisfaction index (IKM)"); other columns by
    their display label, or their own name."""
    key = f"brief.outcome.{outcome}"
    if key in messages():
        return t(key, lang)
    return outcome_label(outcome, lang)
