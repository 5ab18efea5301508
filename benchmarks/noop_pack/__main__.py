"""A pack whose only resource policy accepts everything: the cost of the policy SDK and the protocol alone."""

from pulumi_policy import (
    EnforcementLevel,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)


def accept_every_resource(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    # Nothing to check: the SDK has already deserialized the request's properties, which stays in the baseline.
    return None


PolicyPack(
    name="noop",
    policies=[
        ResourceValidationPolicy(
            name="accept-everything",
            description="Never reports a violation.",
            validate=accept_every_resource,
            enforcement_level=EnforcementLevel.ADVISORY,
        )
    ],
)
