"""The MEME suite's STREME and TOMTOM: built on the user's machine, found, and run.

MEME is free for research and non-profit use only, so we never ship it: ``install_meme``
builds just ``streme`` and ``tomtom`` from the MEME 5.4.1 C source inside the
pymemesuite source distribution (``pip download``), into a prefix of the user's.
Tools are found in this order: ``--meme-bin``, ``$MEDNA_MEME_BIN``, our prefix, ``PATH``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from ..core.errors import MednaError

MEME_VERSION = "5.4.1"
SDIST = "pymemesuite==0.1.0a4"
TOOLS = ("streme", "tomtom")
MARKER = ".medna-interp-meme"
INSTALL_HINT = "run 'medna-interp install-meme' (or 'make meme'), or point --meme-bin / MEDNA_MEME_BIN at them"

# pymemesuite comments these out of src/utils.c (its Python layer supplies them); the
# command-line tools need plain C versions.
_UTILS_C_DEFINITIONS = r"""

/* Restored by medna-interp for the command-line tools. */
void die(char *format, ...) {
  va_list args;
  fputs("FATAL: ", stderr);
  va_start(args, format);
  vfprintf(stderr, format, args);
  va_end(args);
  fputc('\n', stderr);
  exit(1);
}

void myassert(bool die_on_error, bool test, char * const format, ...) {
  va_list args;
  if (test) return;
  fputs(die_on_error ? "FATAL: " : "WARNING: ", stderr);
  va_start(args, format);
  vfprintf(stderr, format, args);
  va_end(args);
  fputc('\n', stderr);
  if (die_on_error) exit(1);
}
"""

# tomtom/streme call these HTML converters after writing their XML/TSV outputs; the
# sdist lacks their templates, and we parse the XML/TSV anyway.
_HTML_STAND_IN = "#!/bin/sh\n# medna-interp stand-in: HTML output is not built.\nexit 0\n"


def default_prefix() -> Path:
    """Inside a virtual environment: ``<venv>/opt/meme-5.4.1``; otherwise a per-user folder."""
    if sys.prefix != sys.base_prefix:
        return Path(sys.prefix) / "opt" / f"meme-{MEME_VERSION}"
    data = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share"))
    return data / "medna-interp" / f"meme-{MEME_VERSION}"


def tool_version(binary: Path) -> str | None:
    """The version a MEME tool reports, or ``None`` when it does not run."""
    try:
        result = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"\d+\.\d+\.\d+", result.stdout + result.stderr)
    return match.group(0) if match else None


def find_tool(name: str, meme_bin: str | os.PathLike | None = None) -> Path:
    """Path of ``streme`` or ``tomtom``, checked to run and to report MEME 5.x."""
    if meme_bin is not None:  # a folder the user named is the only place looked at
        candidate = Path(meme_bin) / name
        if not Path(meme_bin).is_dir():
            raise MednaError(f"{meme_bin}: MEME folder not found", hint=f"point --meme-bin at the folder holding {name}")
        if not (candidate.is_file() and os.access(candidate, os.X_OK)):
            raise MednaError(f"{meme_bin}: no executable {name} there",
                             hint=f"point --meme-bin at the folder holding {name}, or leave it out")
        version = tool_version(candidate)
        if version is None or not version.startswith("5."):
            raise MednaError(f"{candidate}: not a MEME 5 {name} (version {version or 'unknown'})", hint=INSTALL_HINT)
        return candidate
    candidates = []
    for folder in (os.environ.get("MEDNA_MEME_BIN"), default_prefix() / "bin"):
        if folder:
            candidates.append(Path(folder) / name)
    on_path = shutil.which(name)
    if on_path:
        candidates.append(Path(on_path))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            version = tool_version(candidate)
            if version is None or not version.startswith("5."):
                        raise MednaError(f"{candidate}: not a MEME 5 {name} (version {version or 'unknown'})",
                                 hint=INSTALL_HINT)
            return candidate
    raise MednaError(f"MEME tool '{name}' not found; build it with 'medna-interp install-meme' (or 'make meme')",
                     hint="or point --meme-bin / MEDNA_MEME_BIN at a folder holding streme and tomtom")


def tool_message(stderr: str) -> str:
    """The line of a MEME tool's error output that says what went wrong (not its usage text)."""
    lines = [line.strip() for line in stderr.splitlines()]
    usage = next((i for i, line in enumerate(lines) if line.startswith("Usage:")), len(lines))
    said = [line for line in lines[:usage] if line and not line.startswith(("Warning", "WARNING"))]
    return (said or [line for line in lines if line] or ["no message"])[0 if said else -1]


def meme_environment(binary: Path) -> dict[str, str]:
    """Environment for a tool: ``MEME_LIBEXEC_DIR`` next to its bin/, wherever the prefix moved."""
    env = dict(os.environ)
    libexec = binary.parent.parent / "libexec" / f"meme-{MEME_VERSION}"
    if libexec.is_dir():
        env["MEME_LIBEXEC_DIR"] = str(libexec)
    return env


def installed(prefix: Path) -> bool:
    """True when ``prefix/bin`` holds streme and tomtom of our MEME version."""
    return all(tool_version(prefix / "bin" / tool) == MEME_VERSION for tool in TOOLS)


def install_meme(prefix: str | os.PathLike | None = None, source: str | os.PathLike | None = None,
                 jobs: int = 2, force: bool = False, log=print) -> Path:
    """Build ``streme`` and ``tomtom`` into ``prefix``/bin (idempotent); returns the bin folder.

    ``source`` may name an already downloaded ``pymemesuite-0.1.0a4.tar.gz``; otherwise
    the source distribution is fetched with pip (the only network use, at install time).
    """
    prefix = Path(prefix) if prefix else default_prefix()
    _check_prefix(prefix)
    if source is not None and not Path(source).is_file():
        raise MednaError(f"{source}: no such file", hint="give the path of a downloaded pymemesuite-0.1.0a4.tar.gz")
    if installed(prefix) and not force:
        log(f"MEME {MEME_VERSION} streme and tomtom already in {prefix / 'bin'}")
        return prefix / "bin"
    with tempfile.TemporaryDirectory(prefix="medna-meme-") as work:
        work = Path(work)
        tarball = Path(source) if source else _download(work, log)
        log(f"unpacking {tarball.name}")
        _run(["tar", "xzf", str(tarball), "-C", str(work)], work, "unpack")
        tree = next(work.glob("pymemesuite-*/vendor/meme"), None)
        if tree is None:
            raise MednaError(f"{tarball}: no vendor/meme source tree inside")
        _prepare(tree)
        log(f"configuring MEME {MEME_VERSION} (prefix {prefix})")
        build_prefix = prefix.resolve()
        _run(["./configure", f"--prefix={build_prefix}", "--enable-serial", "--disable-shared"], tree, "configure")
        log("building streme and tomtom (about a minute)")
        _run(["make", "-C", "src", "dir.h", "projrel.h", "citation.js.h"], tree, "make headers")
        _run(["make", "-C", "src", f"-j{jobs}", *TOOLS], tree, "make")
        staging = Path(tempfile.mkdtemp(prefix=".meme.", dir=_ensure_parent(prefix)))
        (staging / "bin").mkdir()
        libexec = staging / "libexec" / f"meme-{MEME_VERSION}"
        libexec.mkdir(parents=True)
        for tool in TOOLS:
            shutil.copy2(tree / "src" / tool, staging / "bin" / tool)
            converter = libexec / f"{tool}_xml_to_html"
            converter.write_text(_HTML_STAND_IN)
            converter.chmod(0o755)
        (staging / MARKER).write_text(f"MEME {MEME_VERSION} streme and tomtom, built by medna-interp\n")
        if prefix.exists():
            old = Path(tempfile.mkdtemp(prefix=".meme-old.", dir=prefix.parent))
            os.replace(prefix, old / "previous")
            os.replace(staging, prefix)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, prefix)
    if not installed(prefix):
        raise MednaError(f"{prefix}/bin: the built tools do not report MEME {MEME_VERSION}")
    log(f"installed streme and tomtom into {prefix / 'bin'}")
    return prefix / "bin"


def _check_prefix(prefix: Path) -> None:
    """Only a new or empty folder, or one we built MEME into, is ever replaced."""
    if prefix.exists() and not prefix.is_dir():
        raise MednaError(f"{prefix}: is a file", hint="choose another --prefix")
    if not prefix.is_dir() or not any(prefix.iterdir()):
        return
    bin_folder = prefix / "bin"
    earlier_build = bin_folder.is_dir() and {p.name for p in prefix.iterdir()} <= {"bin", "libexec"} \
        and {p.name for p in bin_folder.iterdir()} <= set(TOOLS)  # made before the marker existed
    if not (prefix / MARKER).exists() and not earlier_build:
        raise MednaError(f"{prefix}: folder is not empty and holds no MEME build of ours; it would be replaced",
                         hint="choose a new or empty --prefix")


def _ensure_parent(prefix: Path) -> Path:
    prefix.parent.mkdir(parents=True, exist_ok=True)
    return prefix.parent


def _download(work: Path, log) -> Path:
    log(f"downloading the {SDIST} source distribution (MEME {MEME_VERSION} C source)")
    _run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:", SDIST,
          "-d", str(work)], work, "pip download")
    found = sorted(work.glob("pymemesuite-*.tar.gz"))
    if not found:
        raise MednaError(f"pip download {SDIST} produced no source archive")
    return found[0]


def _prepare(tree: Path) -> None:
    """Stand-ins for the Makefile.in files the sdist dropped, and the missing C functions."""
    configure_ac = (tree / "configure.ac").read_text()
    listed = re.search(r"AC_CONFIG_FILES\(\[(.*?)\]\)", configure_ac, re.S)
    for entry in listed.group(1).replace("\\", " ").split() if listed else []:
        template = tree / f"{entry}.in"
        if not template.exists():
            template.parent.mkdir(parents=True, exist_ok=True)
            template.write_text("all:\ninstall:\nclean:\n.PHONY: all install clean\n")
    utils = tree / "src" / "utils.c"
    text = utils.read_text()
    if "Restored by medna-interp" not in text:
        utils.write_text(text + _UTILS_C_DEFINITIONS)


def _run(command: list[str], cwd: Path, what: str) -> None:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
        raise MednaError(f"building MEME failed at '{what}' (exit {result.returncode}): {tail[0]}")
