"""Results files: the key numbers of each notebook, the brief's only input.

``results/<notebook>.json`` holds ``{"notebook", "status", "reason",
"sections", "values"}``. Values are plain JSON (numbers, strings, lists,
mappings); NaN becomes null. No timestamps: the same inputs and params give
the same file.
"""

from __future__ import annotations

import json
from pathlib import Path

from analysis.core.jsonsafe import to_json_safe


def write_results(path: Path, notebook: str, values: dict, status: str = "ok",
                  reason: str | None = None, sections: dict | None = None) -> Path:
    doc = {
        "notebook": notebook,
        "status": status,
        "reason": reason,
        "sections": sections or {},
        "values": to_json_safe(values),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=False) + "\n", encoding="utf-8")
    return path
