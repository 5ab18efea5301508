"""The pack's own policies run over an account's resources, as the engine has pulumi_policy run them.

Each resource goes to every enabled resource policy's `validate` with pulumi_policy's `ResourceValidationArgs`, and
the whole account to every stack policy with `StackValidationArgs`, built the way pulumi_policy's analyzer builds
them from the engine's request: properties through protobuf's Struct (so numbers arrive as the engine sends them)
and pulumi_policy's deserializer and unknown-checking proxy, the policy's reconciled config, the provider reference.
What a policy reports is the finding; nothing here decides a verdict.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from inspect import isawaitable
from typing import Any

from google.protobuf import json_format, struct_pb2
from pulumi_policy import (
    Policy,
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from iam_trust_policies.findings import code_of

from .pack_config import PolicySettings
from .pack_resources import PackProvider, PackStack, Subject


@dataclass(frozen=True)
class Finding:
    policy: str
    level: str
    code: str | None
    message: str


@dataclass(frozen=True)
class SubjectFindings:
    subject: Subject | None
    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class StackEvaluation:
    account_id: str
    subjects: tuple[SubjectFindings, ...]
    errors: tuple[str, ...]


def engine_properties(properties: Mapping[str, Any]) -> Mapping[str, Any]:
    """Properties as a policy receives them from the engine: Struct-encoded, deserialized, unknown-checking."""
    struct = struct_pb2.Struct()
    struct.update(dict(properties))
    return unknown_checking_proxy(deserialize_properties(json_format.MessageToDict(struct)))


def evaluate_stack(
    stack: PackStack, policies: Sequence[Policy], settings: Mapping[str, PolicySettings]
) -> StackEvaluation:
    findings: dict[str, list[Finding]] = {}
    errors: list[str] = []
    provider = _provider(stack.provider)
    subject_of = {resource.urn: resource.subject for resource in stack.resources}

    def reporter(policy: Policy, default_urn: str | None) -> Any:
        level = settings[policy.name].reported_level

        def report_violation(message: str, urn: str | None = None) -> None:
            text = message or ""
            where = default_urn if isinstance(policy, ResourceValidationPolicy) else (urn or "")
            findings.setdefault(where or "", []).append(Finding(policy.name, level, code_of(text), text))

        return report_violation

    for resource in stack.resources:
        props = engine_properties(resource.inputs)
        for policy in policies:
            if not isinstance(policy, ResourceValidationPolicy) or not settings[policy.name].enabled:
                continue
            args = ResourceValidationArgs(resource.type, props, resource.urn, resource.name, _options(), provider,
                                          dict(settings[policy.name].properties))
            _run(policy, args, reporter(policy, resource.urn), f"{resource.type} {resource.name}", errors)

    stack_resources = [
        PolicyResource(resource.type, engine_properties(resource.outputs), resource.urn, resource.name, _options(),
                       provider, None, [], {})
        for resource in stack.resources
    ]
    for policy in policies:
        if not isinstance(policy, StackValidationPolicy) or not settings[policy.name].enabled:
            continue
        args = StackValidationArgs(stack_resources, dict(settings[policy.name].properties))
        _run(policy, args, reporter(policy, None), "the account", errors)

    grouped: dict[Subject | None, list[Finding]] = {subject: [] for subject in stack.subjects}
    for urn, reported in findings.items():
        grouped.setdefault(subject_of.get(urn), []).extend(reported)
    return StackEvaluation(
        stack.account_id,
        tuple(SubjectFindings(subject, tuple(found)) for subject, found in grouped.items()),
        tuple(errors),
    )


def _run(policy: Policy, args: Any, report_violation: Any, what: str, errors: list[str]) -> None:
    """A policy's validate, awaited as pulumi_policy awaits it; a failure is an error about this resource."""
    try:
        result = policy.validate(args, report_violation)  # type: ignore[attr-defined]
        if isawaitable(result):
            asyncio.run(_awaited(result))
    except UnknownValueError as error:
        errors.append(f"policy {policy.name} could not check {what}: a value it needs is not known ({error.message})")
    except Exception as error:
        errors.append(f"policy {policy.name} failed on {what}: {type(error).__name__}: {error}")


async def _awaited(result: Any) -> None:
    await result


def _provider(provider: PackProvider) -> PolicyProviderResource:
    return PolicyProviderResource(provider.type, engine_properties(provider.properties), provider.urn, provider.name)


def _options() -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)

