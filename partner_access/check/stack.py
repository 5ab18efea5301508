"""What the engine sends a policy pack for one `pulumi preview`/`up` of a stack: every registered resource with its
inputs and provider, then every resource's outputs for AnalyzeStack (see `engine` for the RPC sequence).

The engine registers the root stack first, then each package's default provider just before the first resource that
needs it (named after the requested plugin version, its inputs the stack's `<package>:*` config as the provider's
CheckConfig returns them), then the program's resources in registration order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata

from partner_access.check.engine import (
    ROOT_STACK_TYPE,
    AnalyzedResource,
    ProviderReference,
    StackPreview,
    engine_config_value,
    make_urn,
    secret,
    unknown,
)
from partner_access.check.program import ProgramRun

# Outputs every AWS resource computes on create; during a preview the provider returns them as unknown.
_PREVIEW_COMPUTED_OUTPUTS = ("id", "arn")


def package_of(resource_type: str) -> str:
    """`aws:iam/role:Role` -> `aws`; `pulumi:providers:aws` -> `pulumi`."""
    return resource_type.split(":", 1)[0]


def default_provider_name(version: str | None) -> str:
    # The engine names default providers after the requested plugin version: `default_7_51_1`.
    return "default" if not version else "default_" + re.sub(r"[.\-+]", "_", version)


def installed_version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


@dataclass(frozen=True)
class StackResourceSpec:
    """A registered resource, independent of how it was recorded (program run under mocks, synthetic stack)."""

    type: str
    name: str
    urn: str
    inputs: Mapping[str, object]
    custom: bool
    parent_urn: str | None = None
    outputs: Mapping[str, object] | None = None
    dependencies: tuple[str, ...] = ()
    property_dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def provider_reference(
    stack: str, project: str, package: str, properties: Mapping[str, object], version: str | None
) -> ProviderReference:
    """A default provider as the engine registers it; `properties` are its inputs as CheckConfig returned them."""
    name = default_provider_name(version)
    checked = dict(properties)
    if version:
        checked["version"] = version
    return ProviderReference(
        type=f"pulumi:providers:{package}",
        name=name,
        urn=make_urn(stack, project, f"pulumi:providers:{package}", name),
        properties=checked,
    )


def package_config(config: Mapping[str, object], package: str) -> dict[str, object]:
    """The engine's `GetPackageConfig`: the stack's `<package>:*` config with the prefix removed."""
    prefix = package + ":"
    return {key[len(prefix):]: value for key, value in config.items() if key.startswith(prefix)}


def encode_provider_properties(
    package: str, properties: Mapping[str, object], secret_config_keys: Iterable[str] = ()
) -> dict[str, object]:
    """Provider inputs as the analyzer receives them: strings, lists and objects JSON-encoded (the bridge's
    CheckConfig re-encodes them so), config keys marked secret wrapped as secrets."""
    secret_names = {key.partition(":")[2] for key in secret_config_keys if key.partition(":")[0] == package}
    encoded: dict[str, object] = {}
    for key, value in properties.items():
        text = engine_config_value(value)
        encoded[key] = secret(text) if key in secret_names else text
    return encoded


def _preview_outputs(spec: StackResourceSpec, dry_run: bool) -> dict[str, object]:
    if spec.outputs is not None:
        return dict(spec.outputs)
    if spec.custom and dry_run:
        return {**{key: unknown() for key in _PREVIEW_COMPUTED_OUTPUTS}, **spec.inputs}
    return dict(spec.inputs)


def build_stack_preview(
    *,
    project: str,
    stack: str,
    config: Mapping[str, object],
    resources: Sequence[StackResourceSpec],
    dry_run: bool = True,
    secret_config_keys: Iterable[str] = (),
    provider_properties: Mapping[str, Mapping[str, object]] | None = None,
    stack_outputs: Mapping[str, object] | None = None,
) -> StackPreview:
    """What the engine sends for a run of a program that registered `resources` in that order.

    `provider_properties` maps a package to its default provider's inputs; packages not listed get the stack's
    package config, as the engine builds default providers. Every custom resource uses its package's default provider,
    registered just before the first resource that needs it. Without recorded outputs, a custom resource's outputs
    are its inputs, plus unknown `id` and `arn` during a preview.
    """
    engine_config = {key: engine_config_value(value) for key, value in config.items()}
    secret_keys = tuple(secret_config_keys)
    root_name = f"{project}-{stack}"
    root_urn = make_urn(stack, project, ROOT_STACK_TYPE, root_name)
    analyzed: list[AnalyzedResource] = [AnalyzedResource(ROOT_STACK_TYPE, root_name, root_urn, {})]
    finals: list[AnalyzedResource] = [
        AnalyzedResource(ROOT_STACK_TYPE, root_name, root_urn, dict(stack_outputs or {}))
    ]
    providers: dict[str, ProviderReference] = {}

    def provider_for(package: str) -> ProviderReference:
        if package not in providers:
            given = provider_properties.get(package) if provider_properties is not None else None
            inputs = given if given is not None else package_config(config, package)
            reference = provider_reference(
                stack, project, package, encode_provider_properties(package, inputs, secret_keys),
                installed_version(f"pulumi_{package.replace('-', '_')}"),
            )
            providers[package] = reference
            registered = AnalyzedResource(reference.type, reference.name, reference.urn, reference.properties,
                                          parent=root_urn)
            analyzed.append(registered)
            finals.append(registered)
        return providers[package]

    for spec in resources:
        if spec.type == ROOT_STACK_TYPE:
            continue
        provider = provider_for(package_of(spec.type)) if spec.custom else None
        parent = spec.parent_urn or root_urn
        analyzed.append(AnalyzedResource(spec.type, spec.name, spec.urn, dict(spec.inputs), provider, parent))
        finals.append(
            AnalyzedResource(spec.type, spec.name, spec.urn, _preview_outputs(spec, dry_run), provider, parent,
                             spec.dependencies, spec.property_dependencies)
        )
    return StackPreview(project, stack, dry_run, engine_config, secret_keys, tuple(analyzed), tuple(finals))


def preview_from_program_run(run: ProgramRun) -> StackPreview:
    """What `pulumi preview --policy-pack ...` (or `up`, for a run with `preview=False`) would send for a program run
    under mocks (`program.run_program`); the config keys the run was given as secrets are wrapped as secrets in the
    provider's properties, as the engine does. An `up` sends the outputs the resources got; a preview the inputs with
    unknown computed outputs."""
    specs = [
        StackResourceSpec(
            type=r.type, name=r.name, urn=r.urn, inputs=r.inputs, custom=r.custom, parent_urn=r.parent_urn,
            outputs=None if run.preview else r.outputs, dependencies=tuple(r.dependencies),
            property_dependencies={key: tuple(urns) for key, urns in r.property_dependencies.items()},
        )
        for r in run.resources
    ]
    return build_stack_preview(
        project=run.project,
        stack=run.stack,
        config=run.config,
        resources=specs,
        dry_run=run.preview,
        secret_config_keys=run.secret_keys,
        stack_outputs=run.outputs,
    )
