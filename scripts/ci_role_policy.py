"""Prints the IAM policy for a stack's CI role, built from the grants in Pulumi.yaml and the stack's file.

    .venv/bin/python scripts/ci_role_policy.py --stack partner [--role deploy|preview] [--project-dir DIR]

`deploy` (the default) is what `pulumi up` needs for that stack's grants; `preview` is the provider's reads only, for
`pulumi preview --refresh`. Attach the output to the role in the stack's account (docs/pipeline.md, step 2), and
update it before merging a change that adds, renames or removes a grant: the policy names each grant's resources.
A bad config prints the problems (each naming its setting) and exits 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

from components.config_checks import GrantConfigError
from components.grant_model import parse_grants
from components.namespace import GRANTS_SETTING
from components.stack_model import ALLOWED_ACCOUNT_IDS_KEY, SIDE_KEY, grants_for_stack, parse_stack_side
from partner_access.deploy_permissions import (
    MANAGED_POLICY_MAX_CHARACTERS,
    deploy_role_policy,
    policy_size,
    preview_role_policy,
)


def _config(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text()) or {}
    config = document.get("config") or {}
    if not isinstance(config, dict):
        raise GrantConfigError([f"{path.name}: `config:` is not a mapping"])
    return config


def stack_policy(project_dir: Path, stack: str, role: str) -> dict[str, Any]:
    project_file, stack_file = project_dir / "Pulumi.yaml", project_dir / f"Pulumi.{stack}.yaml"
    for path in (project_file, stack_file):
        if not path.is_file():
            raise FileNotFoundError(f"{path}: not found (is --stack {stack!r} a stack of this project?)")
    # Pulumi.yaml declares the project's own settings without its namespace.
    declared = _config(project_file).get(GRANTS_SETTING)
    raw_grants = declared.get("value") if isinstance(declared, dict) else declared
    stack_config = _config(stack_file)
    side = parse_stack_side(stack_config.get(SIDE_KEY), stack_config.get(ALLOWED_ACCOUNT_IDS_KEY))
    grants = grants_for_stack(side, parse_grants(raw_grants))
    build = deploy_role_policy if role == "deploy" else preview_role_policy
    return build(side.side, grants)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", required=True)
    parser.add_argument("--role", choices=("deploy", "preview"), default="deploy")
    parser.add_argument("--project-dir", type=Path, default=Path.cwd())
    options = parser.parse_args(argv)
    try:
        policy = stack_policy(options.project_dir, options.stack, options.role)
    except (GrantConfigError, FileNotFoundError, yaml.YAMLError) as error:
        print(f"ci_role_policy: {error}", file=sys.stderr)
        return 1
    print(json.dumps(policy, indent=2))
    size = policy_size(policy)
    if size > MANAGED_POLICY_MAX_CHARACTERS:
        print(f"ci_role_policy: the policy is {size} characters without white space, over IAM's "
              f"{MANAGED_POLICY_MAX_CHARACTERS} for a managed policy; split its statements across two policies "
              "attached to the role", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
