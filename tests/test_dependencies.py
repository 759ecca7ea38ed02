"""requirements.lock agrees with pyproject.toml, and every entry is pinned and hashed.

``make venv`` installs with ``pip install --require-hashes -r requirements.lock``: a package
missing from the lock, pinned to another version than pyproject.toml says, or without a
sha256 would fail the install (or, worse, install something nobody reviewed). ``make lock``
regenerates the file (README "Dependencies").
"""

import re
import tomllib
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")
HASH = re.compile(r"--hash=sha256:([0-9a-f]+)")


def canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def pyproject_pins():
    """{package: version} of every requirement in pyproject.toml (dependencies + the test extra)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        requirements += extra
    pins, unpinned = {}, []
    for requirement in requirements:
        m = PIN.match(requirement.strip())
        if m is None:
            unpinned.append(requirement)
        else:
            pins[canonical(m.group(1))] = m.group(2)
    assert not unpinned, f"pyproject.toml requirements without an exact == pin: {unpinned}"
    return pins


def lock_entries():
    """[(package, version or None, [sha256…], raw text)] of requirements.lock, one per
    requirement."""
    text = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    logical, current = [], ""
    for line in text.splitlines():
        stripped = line.split(" #", 1)[0].strip() if not line.lstrip().startswith("#") else ""
        if not stripped:
            continue
        current += " " + stripped.rstrip("\\").strip()
        if not stripped.endswith("\\"):
            logical.append(current.strip())
            current = ""
    if current.strip():
        logical.append(current.strip())
    entries = []
    for entry in logical:
        m = PIN.match(entry)
        entries.append(
            (
                canonical(m.group(1)) if m else None,
                m.group(2) if m else None,
                HASH.findall(entry),
                entry,
            )
        )
    return entries


def test_every_lock_entry_is_an_exact_pin_with_sha256_hashes():
    entries = lock_entries()
    assert len(entries) > 20
    bad = [raw[:80] for name, version, hashes, raw in entries if name is None or version is None]
    assert not bad, f"lines of requirements.lock that are not `package==version`: {bad}"
    unhashed = [
        name
        for name, _v, hashes, raw in entries
        if not hashes or raw.count("--hash=") != len(hashes)
    ]
    assert not unhashed, f"lock entries without a --hash=sha256: for every file: {unhashed}"
    short = [name for name, _v, hashes, _raw in entries if any(len(h) != 64 for h in hashes)]
    assert not short, f"lock entries with a malformed sha256: {short}"
    names = [name for name, *_ in entries]
    assert len(names) == len(set(names)), "a package appears twice in requirements.lock"


def test_lock_pins_every_pyproject_dependency_at_its_version():
    locked = {name: version for name, version, *_ in lock_entries()}
    missing = sorted(set(pyproject_pins()) - set(locked))
    assert not missing, (
        f"in pyproject.toml but not in requirements.lock (run `make lock`): {missing}"
    )
    different = {
        name: (want, locked[name])
        for name, want in pyproject_pins().items()
        if locked[name] != want
    }
    assert not different, f"pyproject.toml pin ≠ lock pin (run `make lock`): {different}"


def test_lock_installs_nothing_but_packages():
    # No index URLs, editable installs or file paths slipped into the lock: only pinned packages.
    options = [raw for *_, raw in lock_entries() if raw.startswith("-")]
    assert not options, f"options in requirements.lock: {options}"


def test_the_test_environment_is_the_locked_one():
    """The venv running these tests was installed from the lock (``make venv``), version for
    version."""
    wrong = {}
    for name, version, *_ in lock_entries():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = None
        if installed != version:
            wrong[name] = (version, installed)
    assert not wrong, f"installed ≠ locked (run `make venv`): {wrong}"
