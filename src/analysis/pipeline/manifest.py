"""What produced a run: code version, environment, inputs. Written to manifest.json."""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from analysis import __version__

PACKAGES = (
    "asn-workbench", "pandas", "numpy", "pyarrow", "scipy", "scikit-learn", "statsmodels",
    "matplotlib", "pandera", "pydantic", "papermill", "nbclient", "ipykernel", "openpyxl", "xlsxwriter", "pyyaml",
)


def project_root() -> Path:
    """The checkout the package runs from (src/analysis -> repository root)."""
    return Path(__file__).resolve().parents[3]


def git_info(root: Path | None = None) -> dict:
    root = root or project_root()

    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return {"commit": None, "dirty": None, "note": "not a git checkout"}
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": bool(status), "branch": git("rev-parse", "--abbrev-ref", "HEAD")}


def package_versions() -> dict[str, str | None]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def environment() -> dict:
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
        "workbench": __version__,
        "packages": package_versions(),
    }


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def write_manifest(path: Path, manifest: dict) -> None:
    """Replace ``path`` atomically: a reader sees the old manifest or the new one, never half of one.
    When the write fails (disk full, file system read-only) the old one stays and the error is raised."""
    tmp = path.with_suffix(".json.tmp")
    try:
        tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
        tmp.replace(path)
    except OSError:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        raise
