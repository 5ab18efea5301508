"""Entry point the Pulumi engine runs (`python -m pulumi.policy <engine> .`); PolicyPack serves gRPC until killed."""

from pulumi_policy import EnforcementLevel, PolicyPack

from iam_trust_policies.policies import POLICIES

PolicyPack(
    name="aws-cross-account-trust",
    policies=POLICIES,
    enforcement_level=EnforcementLevel.ADVISORY,
)
