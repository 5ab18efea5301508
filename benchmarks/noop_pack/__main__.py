"""A pack of policies that accept everything: the cost of the policy SDK and the protocol alone.

It has as many resource and stack policies as the real pack (benchmarks/pack_overhead.py checks the shapes match),
because the SDK deserializes a resource's properties once per resource policy and every resource's once per stack
policy; with the same shape, the difference between the two packs is the real pack's own analysis.
"""

from pulumi_policy import (
    EnforcementLevel,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

# The real pack's shape: six resource policies and one stack policy.
RESOURCE_POLICIES = 6
STACK_POLICIES = 1


def accept_every_resource(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    # Nothing to check: the SDK has already deserialized the request's properties, which stays in the baseline.
    return None


def accept_every_stack(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    return None


PolicyPack(
    name="noop",
    policies=[
        *(ResourceValidationPolicy(name=f"accept-every-resource-{index}", description="Never reports a violation.",
                                   validate=accept_every_resource, enforcement_level=EnforcementLevel.ADVISORY)
          for index in range(RESOURCE_POLICIES)),
        *(StackValidationPolicy(name=f"accept-every-stack-{index}", description="Never reports a violation.",
                                validate=accept_every_stack, enforcement_level=EnforcementLevel.ADVISORY)
          for index in range(STACK_POLICIES)),
    ],
)
