"""The constraints files agree with pyproject.toml: constraints/minimum.txt pins every declared
lower bound (the suite is run against it, README "Tests and checks"), and constraints/locked.txt,
which the Dockerfile installs, satisfies every runtime dependency."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent


def _project() -> dict[str, list[Requirement]]:
    with (ROOT / "pyproject.toml").open("rb") as fh:
        project = tomllib.load(fh)["project"]
    return {
        "runtime": [Requirement(r) for r in project["dependencies"]],
        "dev": [Requirement(r) for r in project["optional-dependencies"]["dev"]],
    }


def _pins(name: str) -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for raw in (ROOT / "constraints" / name).read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            requirement = Requirement(line)
            (spec,) = requirement.specifier
            assert spec.operator == "==", raw
            pins[canonicalize_name(requirement.name)] = Version(spec.version)
    return pins


def _lower_bound(requirement: Requirement) -> Version:
    (bound,) = [Version(s.version) for s in requirement.specifier if s.operator == ">="]
    return bound


def test_minimum_constraints_pin_every_declared_lower_bound() -> None:
    declared = {
        canonicalize_name(r.name): _lower_bound(r) for group in _project().values() for r in group
    }
    assert _pins("minimum.txt") == declared


def test_locked_constraints_satisfy_every_runtime_dependency() -> None:
    locked = _pins("locked.txt")
    for requirement in _project()["runtime"]:
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{name} is not in constraints/locked.txt: run tools/lock.py"
        assert requirement.specifier.contains(locked[name]), (
            f"constraints/locked.txt has {name}=={locked[name]}, pyproject.toml wants "
            f"{requirement.specifier}: run tools/lock.py"
        )
