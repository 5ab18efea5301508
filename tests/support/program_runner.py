"""The program's tests run the real program (`partner_access.check.program`) against the fixture project
(`tests/fixtures/project`), never against the operator's Pulumi.yaml and stack files. A stack without a stack file
there runs on the fixture's project config and the test's overrides alone, as the engine would run it."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from partner_access.check import program
from partner_access.check.program import UNKNOWN, ProgramRun, is_secret, reveal

__all__ = ["FIXTURE_PROJECT", "REPO_ROOT", "UNKNOWN", "ProgramRun", "is_secret", "reveal", "run_program",
           "stack_config"]

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURE_PROJECT = REPO_ROOT / "tests" / "fixtures" / "project"


@functools.cache
def fixture_project() -> program.Project:
    return program.load_project(FIXTURE_PROJECT)


def stack_config(stack: str, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The fixture stack's config as the engine merges it (see `program.stack_config`)."""
    return program.stack_config(fixture_project(), stack, overrides, require_stack_file=False)


def run_program(
    stack: str,
    *,
    config_overrides: Mapping[str, Any] | None = None,
    secrets: Mapping[str, str] | None = None,
    preview: bool = True,
) -> ProgramRun:
    """The repository's program for a fixture stack, under mocks in a fresh interpreter (see `program.run_program`)."""
    return program.run_program(fixture_project(), stack, config_overrides=config_overrides, secrets=secrets,
                               preview=preview, require_stack_file=False)
