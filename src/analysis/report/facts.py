"""What the brief knows of a run: its results looked up by key (every key used remembered), and numbers
written as each language writes them."""

from __future__ import annotations

from dataclasses import dataclass, field

from markupsafe import Markup

from analysis.core.numbers import number

# --- numbers --------------------------------------------------------------------------


def fmt(value: float | int | None, kind: str, lang: str, digits: int = 1) -> str:
    """A number as the language writes it (``core.numbers.number``)."""
    return number(value, kind, lang, digits)


@dataclass
class Facts:
    """The results of a run, looked up by key, with every key used remembered."""

    results: dict[str, dict]
    lang: str
    min_cell: int = 5
    used: set[str] = field(default_factory=set)

    def status(self, notebook: str) -> str:
        doc = self.results.get(notebook)
        return "missing" if doc is None else doc.get("status", "ok")

    def section_status(self, notebook: str, section: str) -> str:
        doc = self.results.get(notebook) or {}
        return doc.get("sections", {}).get(section, "missing")

    def available(self, notebook: str, section: str | None = None) -> bool:
        if self.status(notebook) != "ok":
            return False
        return section is None or self.section_status(notebook, section) == "ok"

    def get(self, key: str):
        notebook, path = key.split(":", 1)
        node = self.results[notebook]["values"]
        for part in path.split("."):
            node = node[int(part)] if isinstance(node, list) else node[part]
        return node

    def has(self, key: str) -> bool:
        try:
            return self.get(key) is not None
        except (KeyError, IndexError, ValueError, TypeError):
            return False

    def n(self, key: str, kind: str = "num", digits: int = 1) -> Markup:
        """A number from the results, formatted, with its key attached."""
        value = self.get(key)
        self.used.add(key)
        return Markup('<span class="n" data-key="{}">{}</span>').format(key, fmt(value, kind, self.lang, digits))

    def text(self, key: str) -> Markup:
        """A label from the results (a period, say), as it is, with its key attached."""
        value = self.get(key)
        self.used.add(key)
        return Markup('<span class="n" data-key="{}">{}</span>').format(key, value)

    def word(self, key: str) -> str:
        """A word from the results (a band letter, say), as plain text: remembered as used, but not in a
        number's span (spans hold numbers)."""
        value = self.get(key)
        self.used.add(key)
        return str(value)

    def count(self, key: str) -> Markup:
        """A count of people: shown as "<min_cell" when it is a small group (but not none)."""
        value = self.get(key)
        self.used.add(key)
        text = f"<{self.min_cell}" if value and 0 < value < self.min_cell else fmt(value, "int", self.lang)
        return Markup('<span class="n" data-key="{}">{}</span>').format(key, text)

    def ci(self, key: str, digits: int = 2, signed: bool = False, estimate: str = "estimate") -> Markup:
        """Estimate (low to high) from a results entry with an estimate, ci_low and ci_high."""
        kind = "signed" if signed else "num"
        return Markup("{} ({}–{})").format(self.n(f"{key}.{estimate}", kind, digits),
                                          self.n(f"{key}.ci_low", kind, digits),
                                          self.n(f"{key}.ci_high", kind, digits))
