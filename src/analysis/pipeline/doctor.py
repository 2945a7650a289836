"""``workbench doctor``: what a server needs before its first scheduled run, checked one thing at a time.

Each check is a function that looks (it changes nothing, except that the output folder is created
when missing, as a run would, and a probe file is written there and removed) and returns a
``Check``: its name, whether it passed, one sentence saying what was found, and, when it did not
pass, the fix in plain words (often a command to paste). A check that did not pass is a
``problem`` (the scheduled run would fail: ``workbench doctor`` exits 2), a ``warning`` (the run
would work, but something should be looked at) or a ``note`` (for information only).

The checks: the params file loads; the Jupyter kernel the params name is registered and usable (the
runner's own check, ``run.check_kernel``); WeasyPrint can make the brief's PDFs and the fonts the
brief's template asks for are there; the output folder can be written and its disk has room; the
pseudonym key is present, strong enough and private; the dataset folder holds the data contract's
required tables (the files are found, not read); and whether a run is holding the output folder's
lock right now.

Run it as the user the scheduled run runs as, from the folder it starts in: relative paths in the
params (the dataset) and file permissions depend on both.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from analysis.core import privacy
from analysis.core.params import ParamsError, load_params, shorten
from analysis.data.contract import REQUIRED_TABLES, TABLES
from analysis.data.reading import find_files
from analysis.pipeline import run as runner

try:
    import fcntl
except ImportError:  # not POSIX: runs are not locked against each other
    fcntl = None

MIN_FREE_BYTES = 2 * 10**9  # below this much free space on the output folder's disk: a warning
GENERIC_FAMILIES = {"serif", "sans-serif", "monospace", "cursive", "fantasy", "system-ui", "math", "emoji"}
# what the brief is written with: words of both languages, digits, a percentage, a dash
FONT_SAMPLE = "Penilaian Kinerja ASN 2024 \u2013 Appraisal 12,5% Rp 1.234"
FONT_PACKAGES = ("sudo apt-get install fonts-dejavu-core fonts-liberation (Debian, Ubuntu), or "
                 "sudo dnf install dejavu-sans-fonts dejavu-sans-mono-fonts liberation-sans-fonts (Fedora, RHEL)")
PANGO_PACKAGES = ("install the Pango library WeasyPrint draws text with: sudo apt-get install libpango-1.0-0 "
                  "libpangoft2-1.0-0 (Debian, Ubuntu), or sudo dnf install pango (Fedora, RHEL)")


@dataclass(frozen=True)
class Check:
    """The outcome of one check: ``ok``, or not ok with a ``severity`` and the ``fix``."""

    name: str
    ok: bool
    message: str
    fix: str = ""
    severity: str = "problem"  # what a check that is not ok is: "problem" (must be fixed), "warning", "note"

    @property
    def label(self) -> str:
        return "OK" if self.ok else self.severity.upper()

    @property
    def blocking(self) -> bool:
        """The scheduled run would fail: this must be fixed first."""
        return not self.ok and self.severity == "problem"

    def line(self) -> str:
        """The check as one line of plain text: ``PROBLEM key: ... Fix: chmod 600 ...``."""
        text = f"{self.label:<8}{self.name}: {self.message}"
        return f"{text} Fix: {self.fix}" if self.fix and not self.ok else text


def _ok(name: str, message: str) -> Check:
    return Check(name, True, message)


def _problem(name: str, message: str, fix: str, severity: str = "problem") -> Check:
    return Check(name, False, message, fix, severity)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror + (f" ({exc.filename})" if exc.filename else "")
    text = str(exc).strip()
    return shorten(text.splitlines()[0] if text else type(exc).__name__)


def _user() -> str:
    try:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError, AttributeError):
        import getpass

        return getpass.getuser()


def _existing_ancestor(path: Path) -> Path:
    path = Path(os.path.abspath(path))
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


# --- params -------------------------------------------------------------------------------------

def check_params(params_file: str | Path | None, data: str | Path | None = None) -> Check:
    """The params file loads and is valid (``data``, when given, replaces its dataset, as ``run --data`` does)."""
    overrides = {"dataset": str(data)} if data else None
    try:
        params = load_params(params_file, overrides=overrides)
    except ParamsError as exc:
        where = params_file or "the defaults"
        if any(msg == "file not found" for _, msg in exc.problems):
            fix = ("give --params the params file the scheduled run uses (relative paths start from the folder "
                   "the command is started in: the service's WorkingDirectory)")
        else:
            fix = f"correct {where} as the message says (docs/parameters.md describes every key)"
        return _problem("params", "; ".join(str(exc).splitlines()), fix)
    return _ok("params", f"{params_file or 'the defaults'} loads (params {params.name!r}, kernel {params.kernel!r}, "
                         f"dataset {params.dataset})")


# --- Jupyter kernel -----------------------------------------------------------------------------

def check_jupyter_kernel(name: str) -> Check:
    """The kernel is registered, runs Python and has the workbench installed (``run.check_kernel``).

    As in a run, the default kernel is registered for this interpreter when it is missing."""
    from jupyter_client.kernelspec import KernelSpecManager

    try:
        before = set(KernelSpecManager().find_kernel_specs())
    except Exception:
        before = set()
    try:
        runner.check_kernel(name)
    except Exception as exc:  # the runner's one-line reason
        message = str(exc).removeprefix("kernel: ") or type(exc).__name__
        install = f"{sys.executable} -m ipykernel install --sys-prefix --name {name}"
        if name == runner.DEFAULT_KERNEL:
            fix = f"register it for the workbench's interpreter (as `make setup` does): {install}"
        else:
            fix = (f"set `kernel:` in the params to a registered kernel (the default is {runner.DEFAULT_KERNEL}), "
                   f"or register {name!r} for the workbench's interpreter: {install}")
        return _problem("kernel", message, fix)
    try:
        argv = KernelSpecManager().get_kernel_spec(name).argv or ["?"]
    except Exception:
        argv = ["?"]
    registered = "" if name in before else " (it was not registered: registered now, as a run would)"
    return _ok("kernel", f"the Jupyter kernel {name!r} is registered and starts {argv[0]}, which has the "
                         f"workbench and ipykernel{registered}")


# --- PDFs and fonts -----------------------------------------------------------------------------

def check_pdf() -> Check:
    """WeasyPrint (which turns the brief's HTML into PDF) imports and makes a PDF: it needs Pango."""
    try:
        import weasyprint

        weasyprint.HTML(string=f"<p>{FONT_SAMPLE}</p>").write_pdf()
    except Exception as exc:
        return _problem("pdf", f"the brief's PDFs cannot be made here: WeasyPrint fails: {_reason(exc)}",
                        PANGO_PACKAGES)
    return _ok("pdf", f"WeasyPrint {weasyprint.__version__} makes PDFs (the brief is rendered with it, offline)")


def brief_font_stacks() -> list[list[str]]:
    """The ``font-family`` lists of the brief's template, in order (the body text's first), without repeats."""
    template = resources.files("analysis.report").joinpath("templates/brief.html.j2").read_text(encoding="utf-8")
    stacks: list[list[str]] = []
    for value in re.findall(r"font-family\s*:\s*([^;}\"]*(?:\"[^\"]*\"[^;}\"]*)*)", template):
        stack = [f.strip().strip("\"'").strip() for f in value.split(",")]
        stack = [f for f in stack if f]
        if stack and stack not in stacks:
            stacks.append(stack)
    return stacks


def _squash(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def font_used(stack: list[str]) -> str | None:
    """The font WeasyPrint draws ``stack`` with (as named in the PDF), or None when it draws no text at all.

    Raises when WeasyPrint cannot make a PDF."""
    from weasyprint import HTML

    css = ", ".join(f if f.lower() in GENERIC_FAMILIES else f"'{f}'" for f in stack)
    pdf = HTML(string=f"<p style=\"font-family: {css}\">{FONT_SAMPLE}</p>").write_pdf(uncompressed_pdf=True)
    names = re.findall(rb"/BaseFont\s*/([^\s/<>\[\]()]+)", pdf)
    if not names:
        return None
    return re.sub(r"^[A-Z]{6}\+", "", names[0].decode("latin-1"))


def installed_families() -> set[str] | None:
    """Font families fontconfig knows (``fc-list``), squashed; None when fc-list cannot be run."""
    exe = shutil.which("fc-list")
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, ":", "family"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return {_squash(f) for line in out.splitlines() for f in line.split(",") if f.strip()}


def check_fonts(stacks: list[list[str]] | None = None) -> Check:
    """The brief's fonts are there: the body text's list (the first) must find one of its named fonts
    (a problem otherwise), the others (the annex's monospace keys) should (a warning otherwise).

    Asked of WeasyPrint itself (a one-line PDF per list: which font it embeds); of ``fc-list`` when
    WeasyPrint does not work."""
    stacks = stacks if stacks is not None else brief_font_stacks()
    found: list[tuple[list[str], str | None, str | None]] = []  # (named fonts, the one used, what is used)
    try:
        for stack in stacks:
            named = [f for f in stack if f.lower() not in GENERIC_FAMILIES]
            if not named:
                continue
            used = font_used(stack)
            match = next((f for f in named if used and _squash(used).startswith(_squash(f))), None)
            found.append((named, match, used))
        how = "WeasyPrint draws"
    except Exception:
        families = installed_families()
        if families is None:
            return _problem("fonts", "cannot tell which fonts are installed: WeasyPrint does not work (see the pdf "
                                     "line) and fc-list cannot be run",
                            f"fix the pdf line first; fc-list comes with fontconfig. The brief needs {FONT_PACKAGES}")
        for stack in stacks:
            named = [f for f in stack if f.lower() not in GENERIC_FAMILIES]
            if not named:
                continue
            match = next((f for f in named if _squash(f) in families), None)
            found.append((named, match, match))
        how = "fontconfig has"
    missing_body = [(named, used) for i, (named, match, used) in enumerate(found) if match is None and i == 0]
    missing_other = [(named, used) for i, (named, match, used) in enumerate(found) if match is None and i > 0]

    def listed(named: list[str], used: str | None) -> str:
        instead = f"; {used} is used instead" if used else "; no font is found for it at all"
        return f"none of {', '.join(named) or 'its fonts'}{instead}"

    if missing_body:
        named, used = missing_body[0]
        return _problem("fonts", f"the brief's text font is missing: {listed(named, used)}", FONT_PACKAGES)
    used_fonts = ", ".join(match for _, match, _ in found if match)
    if missing_other:
        named, used = missing_other[0]
        return _problem("fonts", f"the brief's text font is there ({used_fonts}), but {listed(named, used)} "
                                 "(the annex's keys)", FONT_PACKAGES, severity="warning")
    return _ok("fonts", f"the brief's fonts are there ({how} {used_fonts or 'them'})")


# --- output folder ------------------------------------------------------------------------------

def check_output_folder(out: str | Path) -> Check:
    """The output folder exists (created when missing, as a run would), this user can write in it, and
    its lock file can be opened for writing."""
    out = Path(out)
    user = _user()
    where = Path(os.path.abspath(out))
    if out.exists() and not out.is_dir():
        return _problem("output", f"{where} is a file, not a folder",
                        "give --out a folder (the scheduled run's --out), or move the file away")
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        ancestor = _existing_ancestor(out)
        if ancestor.exists() and not ancestor.is_dir():
            why = f"{ancestor} is a file, not a folder"
            fix = "give --out a folder whose parents are folders"
        else:
            why = _reason(exc)
            fix = f"create it and let the user {user} write in it: sudo mkdir -p {where} && sudo chown {user} {where}"
        return _problem("output", f"the output folder {where} cannot be created: {why}", fix)
    probe = out / f".doctor-probe-{os.getpid()}"
    try:
        probe.write_text("workbench doctor: this file can be deleted\n", encoding="utf-8")
        probe.unlink()
    except OSError as exc:
        return _problem("output", f"the user {user} cannot write in the output folder {where}: {_reason(exc)}",
                        f"sudo chown -R {user} {where} (or run the schedule as the folder's owner)")
    lock = out / runner.LOCK_FILE
    if lock.exists():
        try:
            os.close(os.open(lock, os.O_RDWR))
        except OSError as exc:
            return _problem("output", f"the user {user} cannot open the output folder's lock file {lock}: "
                                      f"{_reason(exc)}", f"sudo chown {user} {lock}")
    made = " (created now)" if created else ""
    return _ok("output", f"the user {user} can write in the output folder {where}{made}")


def check_disk_space(out: str | Path, min_free: int = MIN_FREE_BYTES) -> Check:
    """Free space on the output folder's disk (a warning below ``min_free`` bytes)."""
    where = _existing_ancestor(Path(out))
    try:
        free = shutil.disk_usage(where).free
    except OSError as exc:
        return _problem("disk", f"cannot tell the free space of {where}: {_reason(exc)}", "check the disk is mounted",
                        severity="warning")
    text = f"{free / 1e9:.1f} GB free on the disk of {Path(os.path.abspath(out))}"
    if free < min_free:
        return _problem("disk", f"only {text} (less than {min_free / 1e9:.1f} GB): a run that fills the disk fails",
                        "free some space: keep fewer old runs (`retention` in the params, `workbench prune`), or give "
                        "--out a folder on a larger disk", severity="warning")
    return _ok("disk", text)


# --- pseudonym key ------------------------------------------------------------------------------

def check_pseudonym_key(key_file: str | Path, pseudonymise: bool = True) -> Check:
    """The key the run would use (``WORKBENCH_PSEUDONYM_KEY``, else ``key_file``) is there, strong enough
    and, as a file, readable by its owner only. Never creates one (a run would: see the fix)."""
    if not pseudonymise:
        return _ok("key", "pseudonyms are switched off (privacy.pseudonymise: false): no key is needed")
    path = Path(key_file).expanduser()
    env = (os.environ.get(privacy.KEY_ENV) or "").strip()
    new_key = f"\"import secrets; print(secrets.token_hex({privacy.MIN_KEY_BYTES}))\""
    if env:
        try:
            key = privacy.check_key(env.encode("utf-8"), f"the key in {privacy.KEY_ENV}")
        except privacy.PseudonymKeyError as exc:
            return _problem("key", str(exc), f"set {privacy.KEY_ENV} to a random key of "
                                             f"{2 * privacy.MIN_KEY_BYTES} hex digits (python3 -c {new_key}), "
                                             f"or unset it to use the key file {path}")
        return _ok("key", f"the key comes from {privacy.KEY_ENV} (fingerprint {privacy.key_fingerprint(key)}; "
                          f"the key file {path} is not used): give the scheduled run the same variable "
                          "(EnvironmentFile= in the service)")
    if not path.exists():
        return _problem("key", f"the pseudonym key {path} does not exist (a run would make a new one, and with it "
                               "new pseudonyms)",
                        f"if the agency has a key from earlier runs, copy it there; else make one now and keep a copy "
                        f"safe: mkdir -p {path.parent} && (umask 077 && python3 -c {new_key} > {path})")
    try:
        key = privacy.load_key(path, create=False)
    except privacy.PseudonymKeyError as exc:
        if path.is_dir():
            fix = "set privacy.key_file in the params to the key file itself"
        elif not os.access(path, os.R_OK):
            fix = f"let the user {_user()} read it: sudo chown {_user()} {path} && sudo chmod 600 {path}"
        else:
            fix = (f"replace it with a random key (this changes every pseudonym): (umask 077 && python3 -c {new_key} "
                   f"> {path})")
        return _problem("key", str(exc), fix)
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        return _problem("key", f"the pseudonym key {path} can be read by other users (permissions {mode:04o})",
                        f"chmod 600 {path}")
    return _ok("key", f"the pseudonym key {path} is strong enough and private (permissions {mode:04o}, fingerprint "
                      f"{privacy.key_fingerprint(key)}): keep a copy of it safe, the pseudonyms depend on it")


# --- dataset ------------------------------------------------------------------------------------

def check_dataset(folder: str | Path) -> Check:
    """The dataset folder exists and has a file for every required table of the data contract.

    The files are found (``reading.find_files``), not read: ``workbench validate`` and every run
    check their contents."""
    path = Path(folder).expanduser().resolve()
    given = "set `dataset:` in the params (or the service's --data) to the folder of the agency's exports"
    if not path.exists():
        return _problem("dataset", f"the dataset folder {path} does not exist",
                        f"make it from the agency's exports (workbench import EXPORTS... --out {path}), or {given}")
    if not path.is_dir():
        return _problem("dataset", f"the dataset {path} is a file, not a folder", given)
    try:
        files, problems = find_files(path)
    except OSError as exc:
        return _problem("dataset", f"the dataset folder {path} cannot be listed: {_reason(exc)}",
                        f"let the user {_user()} read it: sudo chmod -R u+rX,g+rX {path} (and the group or owner)")
    missing = [t for t in REQUIRED_TABLES if t not in files]
    errors = [p.message for p in problems if p.severity == "error"]
    if missing:
        expected = ", ".join(f"{t}.csv" for t in missing)
        return _problem("dataset", f"the dataset folder {path} lacks required table(s): {', '.join(missing)} "
                                   f"(expected {expected}, or .xlsx or .parquet)"
                                   + (f"; also: {'; '.join(errors)}" if errors else ""),
                        "add them: `workbench import` turns the e-Kinerja and SIASN exports into these files "
                        "(docs/imports.md, docs/data-format.md)")
    if errors:
        return _problem("dataset", f"the dataset folder {path}: {'; '.join(errors)}",
                        "keep one file per table, in .csv, .xlsx or .parquet (docs/data-format.md)")
    unreadable = [p.name for p in files.values() if not os.access(p, os.R_OK)]
    if unreadable:
        return _problem("dataset", f"the user {_user()} cannot read {', '.join(unreadable)} in {path}",
                        f"sudo chmod g+r,u+r {' '.join(str(path / n) for n in unreadable)} (and the group or owner)")
    optional = sorted(t for t in files if t not in REQUIRED_TABLES and t in TABLES)
    extra = f" and {len(optional)} optional ({', '.join(optional)})" if optional else ""
    return _ok("dataset", f"{path} holds the required tables ({', '.join(REQUIRED_TABLES)}){extra}; "
                          f"`workbench validate --data {path}` checks their contents")


# --- lock ---------------------------------------------------------------------------------------

def check_lock(out: str | Path) -> Check:
    """Whether a run holds the output folder's lock now (a note, never a problem: a scheduled run with
    ``--wait`` waits for it), and run folders left by a run that was cut off."""
    out = Path(out)
    where = Path(os.path.abspath(out))
    leftovers = sorted(p.name for p in out.glob(".tmp-*")) if out.is_dir() else []
    if fcntl is None:
        return _problem("lock", "runs are not locked against each other on this system (no flock)",
                        "give each schedule its own --out", severity="note")
    lock = out / runner.LOCK_FILE
    holder = None
    if lock.exists():
        try:
            fd = os.open(lock, os.O_RDONLY)
        except OSError as exc:
            return _problem("lock", f"cannot tell whether a run holds {lock}: {_reason(exc)}",
                            "see the output line", severity="note")
        try:
            # shared and at once: never waits, and blocks a starting run for no longer than this call
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            fcntl.flock(fd, fcntl.LOCK_UN)
        except BlockingIOError:
            text = runner.lock_holder(fd)
            holder = f"process {text}" if text else "another process"
        finally:
            os.close(fd)
    if holder:
        return _problem("lock", f"a run ({holder}) is writing to {where} now; a scheduled run started meanwhile "
                                "waits for it with --wait (without it, exits 3)",
                        "", severity="note")
    if leftovers:
        return _problem("lock", f"no run is writing to {where}; {len(leftovers)} folder(s) left by a run that was cut "
                                f"off ({', '.join(leftovers[:3])}{'…' if len(leftovers) > 3 else ''}) will be "
                                "marked .interrupted by the next run", "", severity="note")
    return _ok("lock", f"no run is writing to {where} now")


# --- all of them --------------------------------------------------------------------------------

def run_checks(params_file: str | Path | None = "params/default.yaml", out: str | Path = "outputs",
               data: str | Path | None = None) -> list[Check]:
    """Every check, in the order they are printed. The kernel, key and dataset checks need the params:
    when they do not load, those are left out (the params line says what to fix)."""
    checks = [check_params(params_file, data)]
    params = None
    if checks[0].ok:
        params = load_params(params_file, overrides={"dataset": str(data)} if data else None)
        checks.append(check_jupyter_kernel(params.kernel))
    checks += [check_pdf(), check_fonts(), check_output_folder(out), check_disk_space(out)]
    if params is not None:
        checks.append(check_pseudonym_key(params.privacy.key_file, params.privacy.pseudonymise))
        checks.append(check_dataset(params.dataset))
    elif data:
        checks.append(check_dataset(data))
    checks.append(check_lock(out))
    return checks


def exit_code(checks: list[Check]) -> int:
    """2 when a check found something that must be fixed first, else 0."""
    return runner.EXIT_BAD_INPUT if any(c.blocking for c in checks) else runner.EXIT_OK


def summary(checks: list[Check]) -> str:
    problems = sum(c.blocking for c in checks)
    warnings = sum(not c.ok and c.severity == "warning" for c in checks)
    if problems:
        return (f"{problems} problem(s) to fix before the first scheduled run (see Fix: above); then run "
                "`workbench doctor` again.")
    more = f", with {warnings} warning(s) to look at" if warnings else ""
    return f"Ready for scheduled runs: all {len(checks)} checks passed{more}."
