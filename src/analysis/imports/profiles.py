"""Profiles: how one kind of export maps to a layout's fields, written as YAML data.

A profile names its layout (``fields.LAYOUTS``) and, for each field, the column headers it may
carry (compared without case, spaces or underscores: ``nipBaru``, ``NIP BARU`` and ``nip_baru``
are one name), a value map, named transforms (``transforms.TRANSFORMS``) and a default. Rows above
the header (``title``) and the file name (``file_name``, a pattern with named groups) may give a
field too. The shipped profiles are in ``profiles/``; a user's own is a file given to
``workbench import --profile``. Every key is checked when the profile is loaded: an unknown key,
an unknown transform or a required field left unmapped is an error naming the file and the key.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml

from analysis.core.codes import fold
from analysis.imports.fields import LAYOUTS, Layout
from analysis.imports.transforms import TRANSFORMS, check_date_format, value_key

SHIPPED = ("ekinerja_penilaian_skp", "siasn_data_asn", "siasn_riwayat_kursus", "siasn_riwayat_diklat",
           "skm_responden")
PROFILE_KEYS = {"name", "layout", "description", "null_values", "date_formats", "personal", "title",
                "file_name", "fields"}
FIELD_KEYS = {"columns", "values", "transforms", "default"}


class ProfileError(Exception):
    """A profile that cannot be used; the message names the file and the key."""


def header_key(text: object) -> str:
    """A column header as profiles compare it: ASCII letters and digits, lower case, nothing else."""
    return re.sub(r"[^0-9a-z]", "", fold(unicodedata.normalize("NFKC", str(text or ""))))


@dataclass(frozen=True)
class FieldSpec:
    name: str
    columns: tuple[str, ...] = ()  # header keys, the preferred first
    values: dict[str, str | None] = field(default_factory=dict)  # value_key(text) -> text (None: empty)
    transforms: tuple[str, ...] = ()
    default: str | None = None


@dataclass(frozen=True)
class Profile:
    name: str
    layout: Layout
    source: str  # the file it was read from, for messages
    description: str = ""
    null_values: frozenset[str] = frozenset()  # cells that mean empty, compared as value_key
    date_formats: tuple[str, ...] = ()
    personal: frozenset[str] = frozenset()  # header keys of columns with personal data: read, dropped
    title: dict[str, str] = field(default_factory=dict)  # field -> the words a title row starts with
    file_name: re.Pattern | None = None
    fields: dict[str, FieldSpec] = field(default_factory=dict)

    def sources_of(self, name: str) -> bool:
        """Whether the profile can give a field at all (a column, a default, a title row, the file name)."""
        spec = self.fields.get(name)
        return bool((spec and (spec.columns or spec.default is not None)) or name in self.title
                    or (self.file_name is not None and name in self.file_name.groupindex))


def shipped_path(name: str):
    return resources.files("analysis.imports").joinpath("profiles", f"{name}.yaml")


def load_profile(name_or_path: str | Path) -> Profile:
    """A shipped profile by name, or a user's profile file."""
    text_name = str(name_or_path)
    if text_name in SHIPPED:
        path = shipped_path(text_name)
        return parse_profile(path.read_text(encoding="utf-8"), f"profiles/{text_name}.yaml")
    path = Path(name_or_path)
    if not path.is_file():
        raise ProfileError(f"profile {text_name}: no such file, and not a shipped profile "
                           f"({', '.join(SHIPPED)})")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{path}: cannot be read ({exc})") from exc
    return parse_profile(text, str(path))


def shipped_profiles() -> list[Profile]:
    return [load_profile(name) for name in SHIPPED]


def _fail(source: str, key: str, message: str) -> ProfileError:
    return ProfileError(f"{source}: {key}: {message}")


def _strings(source: str, key: str, value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) and not isinstance(v, bool)
                                              for v in value):
        raise _fail(source, key, "must be a list of texts")
    return [str(v) for v in value]


def parse_profile(text: str, source: str) -> Profile:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ProfileError(f"{source}: not valid YAML ({str(exc).splitlines()[0]})") from exc
    if not isinstance(data, dict):
        raise ProfileError(f"{source}: a profile is a mapping of keys ({', '.join(sorted(PROFILE_KEYS))})")
    unknown = sorted(set(map(str, data)) - PROFILE_KEYS)
    if unknown:
        raise _fail(source, unknown[0], f"unknown key (a profile has: {', '.join(sorted(PROFILE_KEYS))})")
    for key in ("name", "layout", "fields"):
        if key not in data:
            raise _fail(source, key, "missing")
    layout = LAYOUTS.get(str(data["layout"]))
    if layout is None:
        raise _fail(source, "layout", f"unknown layout {data['layout']!r} (one of: {', '.join(LAYOUTS)})")
    fields_data = data["fields"]
    if not isinstance(fields_data, dict):
        raise _fail(source, "fields", "must map each field to its columns")
    specs: dict[str, FieldSpec] = {}
    for name, spec in fields_data.items():
        specs[str(name)] = _field(source, layout, str(name), spec)
    title = data.get("title") or {}
    if not isinstance(title, dict):
        raise _fail(source, "title", "must map a field to the words its title row starts with")
    for name, words in title.items():
        if name not in layout.fields:
            raise _fail(source, f"title.{name}", f"unknown field of layout {layout.name}")
        if not isinstance(words, str) or not words.strip():
            raise _fail(source, f"title.{name}", "must be the words the title row starts with")
    pattern = None
    if data.get("file_name") is not None:
        try:
            pattern = re.compile(str(data["file_name"]), re.IGNORECASE)
        except re.error as exc:
            raise _fail(source, "file_name", f"not a valid pattern ({exc})") from exc
        for group in pattern.groupindex:
            if group not in layout.fields:
                raise _fail(source, f"file_name.{group}", f"unknown field of layout {layout.name}")
    formats = _strings(source, "date_formats", data.get("date_formats") or [])
    for fmt in formats:
        if not check_date_format(fmt):
            raise _fail(source, "date_formats", f"{fmt!r} is not a date format (such as %d-%m-%Y)")
    profile = Profile(
        name=str(data["name"]), layout=layout, source=source, description=str(data.get("description") or ""),
        null_values=frozenset(value_key(v) for v in _strings(source, "null_values", data.get("null_values") or [])),
        date_formats=tuple(formats),
        personal=frozenset(header_key(c) for c in _strings(source, "personal", data.get("personal") or [])),
        title={str(k): str(v) for k, v in title.items()}, file_name=pattern, fields=specs,
    )
    for group in layout.required:
        if not any(profile.sources_of(f) for f in group):
            raise _fail(source, f"fields.{group[0]}",
                        "required mapping missing: give the column(s) of "
                        + (" or ".join(group) if len(group) > 1 else group[0]))
    return profile


def _field(source: str, layout: Layout, name: str, spec: object) -> FieldSpec:
    key = f"fields.{name}"
    if name not in layout.fields:
        raise _fail(source, key, f"unknown field of layout {layout.name} (it has: {', '.join(layout.fields)})")
    if isinstance(spec, (list, str)):  # shorthand: just the columns
        spec = {"columns": spec}
    if not isinstance(spec, dict):
        raise _fail(source, key, "must be a list of columns or a mapping with columns, values, transforms, default")
    unknown = sorted(set(map(str, spec)) - FIELD_KEYS)
    if unknown:
        raise _fail(source, f"{key}.{unknown[0]}", f"unknown key (a field has: {', '.join(sorted(FIELD_KEYS))})")
    columns = [header_key(c) for c in _strings(source, f"{key}.columns", spec.get("columns") or [])]
    if any(not c for c in columns):
        raise _fail(source, f"{key}.columns", "a column name must have letters or digits")
    transforms = _strings(source, f"{key}.transforms", spec.get("transforms") or [])
    for t in transforms:
        if t not in TRANSFORMS:
            raise _fail(source, f"{key}.transforms", f"unknown transform {t!r} (one of: {', '.join(TRANSFORMS)})")
    values = spec.get("values") or {}
    if not isinstance(values, dict):
        raise _fail(source, f"{key}.values", "must map texts as exported to the texts to read")
    for k, v in values.items():
        if v is not None and not isinstance(v, (str, int, float)) or isinstance(v, bool):
            raise _fail(source, f"{key}.values.{k}", "must map to a text (or null for empty)")
    default = spec.get("default")
    if default is not None and not isinstance(default, (str, int, float)):
        raise _fail(source, f"{key}.default", "must be a text")
    return FieldSpec(name, tuple(columns), {value_key(k): (None if v is None else str(v)) for k, v in values.items()},
                     tuple(transforms), None if default is None else str(default))
