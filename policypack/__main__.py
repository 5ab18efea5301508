"""Entry point the Pulumi engine runs (`python -m pulumi.policy <engine> .`); PolicyPack serves gRPC until killed.

Nothing may print to stdout here: the engine reads the pack's gRPC port from the first stdout line.
"""

import os

from pulumi_policy import EnforcementLevel, PolicyPack

from iam_trust_policies.policies import POLICIES

PACK_NAME = "aws-cross-account-trust"
DESCRIPTION = (
    "Blocks IAM roles that another AWS account can assume without MFA, with exact IAM condition semantics, and flags "
    "related cross-account trust risks (missing External ID, open trust, wildcard AssumeRole, long sessions, admin "
    "roles)."
)


def readme() -> str:
    """The pack's README as Pulumi Cloud shows it: what it does and each policy with its default level."""
    lines = [f"# {PACK_NAME}", "", DESCRIPTION, ""]
    lines += ["| policy | default level | what it checks |", "| --- | --- | --- |"]
    for policy in POLICIES:
        level = policy.enforcement_level.value if policy.enforcement_level else EnforcementLevel.ADVISORY.value
        lines.append(f"| `{policy.name}` | {level} | {policy.description} |")
    return "\n".join(lines) + "\n"


def repository() -> str | None:
    # Known when the pack runs in GitHub Actions (e.g. a workflow that runs `pulumi policy publish`); else not set.
    server, name = os.environ.get("GITHUB_SERVER_URL"), os.environ.get("GITHUB_REPOSITORY")
    return f"{server}/{name}" if server and name else None


PolicyPack(
    name=PACK_NAME,
    policies=POLICIES,
    enforcement_level=EnforcementLevel.ADVISORY,
    description=DESCRIPTION,
    display_name="AWS cross-account trust requires MFA",
    readme=readme(),
    provider="aws",
    tags=["aws", "iam", "mfa", "cross-account"],
    repository=repository(),
)
