"""The one place the audit tests reach the gRPC engine harness: the pack launched as the Pulumi engine launches it.

An account's resources (as the audit models them) become the requests the engine would send for a `pulumi up` of a
stack holding them: `Analyze` per resource with its inputs and provider, one `AnalyzeStack` with every output.
"""

from __future__ import annotations

from pathlib import Path

from partner_access.audit.pack_resources import PackStack
from support.policy_engine import (
    AnalyzedResource,
    PolicyDiagnostic,
    PolicyPackProcess,
    ProviderReference,
)

PACK_DIR = Path(__file__).resolve().parents[2] / "policypack"

__all__ = ["PACK_DIR", "PolicyDiagnostic", "PolicyPackProcess", "engine_diagnostics"]


def engine_diagnostics(pack: PolicyPackProcess, stack: PackStack) -> list[tuple[str, PolicyDiagnostic]]:
    """(resource URN, diagnostic) for everything the pack reports on the stack over gRPC."""
    provider = ProviderReference(stack.provider.type, stack.provider.name, stack.provider.urn,
                                 dict(stack.provider.properties))
    found: list[tuple[str, PolicyDiagnostic]] = []
    for resource in stack.resources:
        analyzed = AnalyzedResource(resource.type, resource.name, resource.urn, dict(resource.inputs), provider)
        pack.remediate(analyzed)
        found.extend((resource.urn, diagnostic) for diagnostic in pack.analyze(analyzed).diagnostics)
    outputs = [
        AnalyzedResource(resource.type, resource.name, resource.urn, dict(resource.outputs), provider)
        for resource in stack.resources
    ]
    found.extend((diagnostic.urn, diagnostic) for diagnostic in pack.analyze_stack(outputs).diagnostics)
    return found
