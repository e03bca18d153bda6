"""Installs that work on any machine, in production without the dev tools.

Two locks, both made by `make lock` from pyproject.toml: requirements.lock holds the
production dependencies only (what `make install` and a production host install), and
requirements-dev.lock holds the same pins plus the dev tools (what `make test` installs).
Both name packages and hashes, never this machine's package index or wheel folder (pip
takes those from its own configuration), and both must install with --require-hashes on
every Python that requires-python admits: a dependency needed only on some of them (a
backport, say) has to be in the lock too, or pip refuses the whole install there.
"""

import importlib.metadata
import platform
import re
import tomllib
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PROD_LOCK = ROOT / "requirements.lock"
DEV_LOCK = ROOT / "requirements-dev.lock"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())

# Named here as well as read from pyproject's dev extra, so that moving one of them into
# the production dependencies fails a test instead of quietly shipping it.
DEV_TOOLS = {"pytest", "playwright", "ruff", "hypothesis", "pip-tools", "moto"}


def read_lock(path):
    """{canonical name: (version, set of hashes)} from a pip-compile lock with hashes."""
    packages = {}
    name = None
    for line in path.read_text().splitlines():
        pin = re.match(r"([A-Za-z0-9._-]+)==(\S+)", line)
        if pin:
            name = canonicalize_name(pin.group(1))
            packages[name] = (pin.group(2), set())
            continue
        digest = re.search(r"--hash=(sha256:[0-9a-f]{64})", line)
        if digest and name:
            packages[name][1].add(digest.group(1))
    return packages


PROD = read_lock(PROD_LOCK)
DEV = read_lock(DEV_LOCK)


def requirements(key):
    """pyproject's production dependencies ("main") or one extra's, as Requirements."""
    project = PYPROJECT["project"]
    listed = project["dependencies"] if key == "main" else project["optional-dependencies"][key]
    return [Requirement(text) for text in listed]


def dev_tool_names():
    return DEV_TOOLS | {canonicalize_name(req.name) for req in requirements("dev")}


def admitted_pythons():
    """The first and a late patch release of each Python requires-python admits: enough
    to meet markers such as `python_full_version < "3.11.3"` (redis's async-timeout)."""
    supported = SpecifierSet(PYPROJECT["project"]["requires-python"])
    versions = [f"3.{minor}.{patch}" for minor in range(8, 20) for patch in (0, 99)]
    return [version for version in versions if supported.contains(version)]


@pytest.mark.parametrize("lock", [PROD_LOCK, DEV_LOCK], ids=lambda path: path.name)
def test_neither_lock_names_a_package_index_or_local_folder(lock):
    for number, line in enumerate(lock.read_text().splitlines(), 1):
        option = line.strip().split(" ")[0]
        assert option not in {
            "--index-url",
            "-i",
            "--extra-index-url",
            "--find-links",
            "-f",
            "--trusted-host",
        }, f"{lock.name} line {number}: {line}"
        assert "file://" not in line and "/opt/" not in line, f"line {number}: {line}"


@pytest.mark.parametrize("lock", [PROD_LOCK, DEV_LOCK], ids=lambda path: path.name)
def test_every_locked_package_is_pinned_with_hashes(lock):
    packages = read_lock(lock)
    assert len(packages) > 20, f"{lock.name} looks empty or unreadable"
    assert all(hashes for _version, hashes in packages.values()), lock.name


def test_the_production_lock_has_no_dev_tool():
    shipped = sorted(dev_tool_names() & PROD.keys())
    assert shipped == [], f"dev tools in requirements.lock: {shipped}"


def test_the_dev_lock_has_every_dev_tool():
    missing = sorted(dev_tool_names() - DEV.keys())
    assert missing == [], f"missing from requirements-dev.lock: {missing}"


def test_packages_in_both_locks_have_the_same_pins_and_hashes():
    """What the tests ran against is what production installs, byte for byte."""
    for name, (version, hashes) in PROD.items():
        assert name in DEV, f"{name} is in requirements.lock but not in requirements-dev.lock"
        assert DEV[name][0] == version, f"{name}: {version} vs {DEV[name][0]} in the dev lock"
        assert DEV[name][1] == hashes, f"{name}: the locks list different hashes"


@pytest.mark.parametrize(
    ("key", "lock"),
    [("main", PROD_LOCK), ("dev", DEV_LOCK)],
    ids=["dependencies-in-requirements.lock", "dev-extra-in-requirements-dev.lock"],
)
def test_every_pyproject_dependency_is_pinned_in_its_lock(key, lock):
    """Each requirement, and each extra it asks for ([s3], [binary], [server]...), is
    locked at a version pyproject.toml allows."""
    packages = read_lock(lock)
    for req in requirements(key):
        name = canonicalize_name(req.name)
        assert name in packages, f"{req} is missing from {lock.name}: run make lock"
        version = packages[name][0]
        assert req.specifier.contains(version, prereleases=True), f"{name}=={version}: {req}"
        # What the extra brings, from the installed package's own metadata.
        for extra in req.extras:
            for needed in importlib.metadata.requires(req.name) or []:
                needed = Requirement(needed)
                if needed.marker and needed.marker.evaluate({"extra": extra}):
                    assert canonicalize_name(needed.name) in packages, (
                        f"{req.name}[{extra}] needs {needed.name}, missing from {lock.name}"
                    )


@pytest.mark.parametrize("lock", [PROD_LOCK, DEV_LOCK], ids=lambda path: path.name)
def test_each_lock_holds_everything_its_packages_need_on_every_admitted_python(lock):
    """pip-compile resolves for the Python it runs on (3.11.7 here) and drops the rest: a
    package needed only on another admitted Python would make `pip install
    --require-hashes` fail there. Read from the installed packages' metadata, so it needs
    the dev lock installed (make install-dev, which make test runs)."""
    packages = read_lock(lock)
    pythons = admitted_pythons()
    assert pythons, "requires-python admits no Python 3"
    for name, (version, _hashes) in packages.items():
        installed = importlib.metadata.version(name)
        assert installed == version, f"{name} {installed} installed, {version} locked"
        for text in importlib.metadata.requires(name) or []:
            needed = Requirement(text)
            if not needed.marker:
                wanted = True
            else:
                # Every admitted Python on this machine's platform, outside any extra.
                wanted = any(
                    needed.marker.evaluate(
                        {
                            **default_environment(),
                            "python_version": python.rsplit(".", 1)[0],
                            "python_full_version": python,
                            "extra": "",
                        }
                    )
                    for python in pythons
                )
            if wanted:
                assert canonicalize_name(needed.name) in packages, (
                    f"{name} needs {needed} on a Python that requires-python admits, "
                    f"but {lock.name} does not have it"
                )


def test_requires_python_admits_the_running_interpreter():
    supported = SpecifierSet(PYPROJECT["project"]["requires-python"])
    assert supported.contains(platform.python_version()), (
        f"Python {platform.python_version()} runs the tests; requires-python is {supported}"
    )


def test_ruff_targets_the_lowest_admitted_python():
    """ruff's pyupgrade rules must not suggest syntax the oldest admitted Python lacks."""
    lowest = admitted_pythons()[0].rsplit(".", 1)[0].replace(".", "")
    target = PYPROJECT["tool"]["ruff"]["target-version"]
    assert target == f"py{lowest}", f"ruff targets {target}, the lowest admitted is py{lowest}"
