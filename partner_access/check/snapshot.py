"""Stack state as `pulumi stack export` writes it, and what `pulumi policy analyze --file` sends a pack for it.

The file is an `apitype.UntypedDeployment` (pulumi/pulumi `sdk/go/common/apitype/core.go`): `{"version": 3,
"deployment": DeploymentV3}`, the deployment holding a manifest, the secrets provider and the resources
(`ResourceV3`: urn, custom, delete, id, type, inputs, outputs, parent, dependencies, provider as `<urn>::<id>`,
propertyDependencies, ...). A secret in state is `{<sig key>: <secret sig>, "plaintext": "<JSON>"}` when exported with
`--show-secrets`, else `{..., "ciphertext": "..."}`. `policy analyze --file` decrypts with the stack's secrets
provider and, when it cannot, redacts every secret to the string `[secret]`
(`pkg/cmd/pulumi/policy/policy_analyze.go`, `pkg/backend/secrets/providers.go`); this reader never has the secrets
provider, so it redacts every ciphertext the same way and reads every plaintext.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from iam_trust_policies.policies import REDACTED_SECRET
from partner_access.check.engine import (
    ROOT_STACK_TYPE,
    AnalyzedResource,
    ProviderReference,
    Snapshot,
    StackPreview,
    secret,
    urn_name,
)
from partner_access.check.files import UnreadableFileError, read_text
from partner_access.check.program import SECRET_SIGNATURE, SECRET_SIGNATURE_KEY, is_secret

DEPLOYMENT_VERSION = 3
_PROVIDER_TYPE_PREFIX = "pulumi:providers:"
_CLI_VERSION = "v3.272.0"


class ExportError(ValueError):
    """The export file cannot be analyzed; the message names the file and what is wrong."""


# Writing: a stack's state from what a program run registered ---------------------------------------------------


def _state_value(value: Any, *, encrypt_secrets: bool) -> Any:
    """A wire-encoded value as state stores it: each secret as plaintext JSON or as (stand-in) ciphertext."""
    if is_secret(value):
        plaintext = json.dumps(_state_value(value["value"], encrypt_secrets=False))
        if encrypt_secrets:
            # Not a real passphrase ciphertext: nothing here can decrypt it, as for a reader without the secrets
            # provider. Its shape is the state's (`v1:<nonce>:<ciphertext>`).
            opaque = base64.b64encode(hashlib.sha256(plaintext.encode()).digest()).decode()
            return {SECRET_SIGNATURE_KEY: SECRET_SIGNATURE, "ciphertext": f"v1:{opaque[:16]}:{opaque}"}
        return {SECRET_SIGNATURE_KEY: SECRET_SIGNATURE, "plaintext": plaintext}
    if isinstance(value, dict):
        return {key: _state_value(item, encrypt_secrets=encrypt_secrets) for key, item in value.items()}
    if isinstance(value, list):
        return [_state_value(item, encrypt_secrets=encrypt_secrets) for item in value]
    return value


def _provider_id(provider: ProviderReference) -> str:
    return hashlib.sha256(provider.urn.encode()).hexdigest()[:32]


def export_stack(deployed: StackPreview, *, encrypt_secrets: bool) -> dict[str, Any]:
    """`pulumi stack export` of the state an `up` of `deployed` (a `StackPreview` with dry_run False) leaves:
    secrets as plaintext (`--show-secrets`) or as ciphertext only the stack's secrets provider could read."""
    if deployed.dry_run:
        raise ValueError("a preview leaves no state; export the run of an `up` (dry_run=False)")
    outputs_by_urn = {resource.urn: resource for resource in deployed.stack_resources}
    resources: list[dict[str, Any]] = []
    for resource in deployed.resources:
        final = outputs_by_urn[resource.urn]
        is_provider = resource.type.startswith(_PROVIDER_TYPE_PREFIX)
        entry: dict[str, Any] = {"urn": resource.urn, "custom": is_provider or resource.provider is not None,
                                 "type": resource.type}
        if is_provider:
            entry["id"] = _provider_id(ProviderReference(resource.type, resource.name, resource.urn, {}))
        elif entry["custom"]:
            entry["id"] = str(final.properties.get("id", f"{resource.name}-id"))
        if resource.type != ROOT_STACK_TYPE:
            entry["inputs"] = _state_value(dict(resource.properties), encrypt_secrets=encrypt_secrets)
        entry["outputs"] = _state_value(dict(final.properties), encrypt_secrets=encrypt_secrets)
        if resource.parent:
            entry["parent"] = resource.parent
        if resource.provider is not None:
            entry["provider"] = f"{resource.provider.urn}::{_provider_id(resource.provider)}"
        if final.dependencies:
            entry["dependencies"] = list(final.dependencies)
        if final.property_dependencies:
            entry["propertyDependencies"] = {key: list(urns) for key, urns in final.property_dependencies.items()}
        resources.append(entry)
    deployment: dict[str, Any] = {
        "manifest": {
            "time": datetime.now(UTC).isoformat(),
            "magic": hashlib.sha256(_CLI_VERSION.encode()).hexdigest(),
            "version": _CLI_VERSION,
        },
        "resources": resources,
    }
    if encrypt_secrets:
        deployment["secrets_providers"] = {"type": "passphrase", "state": {"salt": "v1:c3RhbmQtaW4=:v1:stand-in"}}
    return {"version": DEPLOYMENT_VERSION, "deployment": deployment}


# Reading: what `pulumi policy analyze --file` sends -------------------------------------------------------------


def _analyzer_value(value: Any, where: str) -> Any:
    """A state value in the engine's wire encoding for analyzers: plaintext secrets read, ciphertext redacted."""
    if isinstance(value, dict) and value.get(SECRET_SIGNATURE_KEY) == SECRET_SIGNATURE:
        plaintext, ciphertext = value.get("plaintext"), value.get("ciphertext")
        if isinstance(plaintext, str) == isinstance(ciphertext, str):
            raise ExportError(f"{where}: malformed secret value: exactly one of `ciphertext` or `plaintext` must be "
                              "supplied")
        if isinstance(ciphertext, str):
            return secret(REDACTED_SECRET)
        try:
            return secret(_analyzer_value(json.loads(plaintext), where))
        except json.JSONDecodeError as error:
            raise ExportError(f"{where}: a secret's plaintext is not JSON ({error.msg})") from None
    if isinstance(value, dict):
        return {key: _analyzer_value(item, f"{where}.{key}") for key, item in value.items()}
    if isinstance(value, list):
        return [_analyzer_value(item, f"{where}[{index}]") for index, item in enumerate(value)]
    return value


def _properties(resource: Mapping[str, Any], key: str, where: str) -> dict[str, Any]:
    value = resource.get(key) or {}
    if not isinstance(value, dict):
        raise ExportError(f"{where}.{key}: must be an object of properties")
    return _analyzer_value(value, f"{where}.{key}")


def snapshot_from_export(document: Any, source: str = "the export") -> Snapshot:
    """What `pulumi policy analyze --file` sends for an `UntypedDeployment` (version 3) document."""
    if not isinstance(document, dict) or not isinstance(document.get("deployment"), dict):
        raise ExportError(f"{source}: is not a `pulumi stack export` file (no `deployment` object)")
    if document.get("version") != DEPLOYMENT_VERSION:
        raise ExportError(f"{source}: deployment version {document.get('version')!r} is not supported; "
                          f"`pulumi stack export` writes version {DEPLOYMENT_VERSION}")
    raw_resources = document["deployment"].get("resources") or []
    if not isinstance(raw_resources, list):
        raise ExportError(f"{source}: deployment.resources must be a list")
    live: list[tuple[str, dict[str, Any]]] = []
    for index, resource in enumerate(raw_resources):
        where = f"{source}: deployment.resources[{index}]"
        if not isinstance(resource, dict):
            raise ExportError(f"{where}: must be an object")
        urn, resource_type = resource.get("urn"), resource.get("type")
        if not isinstance(urn, str) or not urn.startswith("urn:pulumi:") or urn.count("::") < 3:
            raise ExportError(f"{where}: invalid URN {urn!r}")
        if not isinstance(resource_type, str):
            raise ExportError(f"{where}: has no type")
        if not resource.get("delete"):
            live.append((where, resource))

    providers: dict[str, ProviderReference] = {}
    for where, resource in live:
        if resource["type"].startswith(_PROVIDER_TYPE_PREFIX):
            providers[resource["urn"]] = ProviderReference(
                resource["type"], urn_name(resource["urn"]), resource["urn"], _properties(resource, "inputs", where)
            )

    def analyzed(where: str, resource: Mapping[str, Any], key: str) -> AnalyzedResource:
        reference = resource.get("provider")
        provider = providers.get(reference.rsplit("::", 1)[0]) if isinstance(reference, str) else None
        return AnalyzedResource(
            type=resource["type"],
            name=urn_name(resource["urn"]),
            urn=resource["urn"],
            properties=_properties(resource, key, where),
            provider=provider,
            parent=resource.get("parent") or None,
            dependencies=tuple(resource.get("dependencies") or ()),
            property_dependencies={name: tuple(urns) for name, urns in
                                   (resource.get("propertyDependencies") or {}).items()},
            protect=bool(resource.get("protect")),
        )

    root = next((r["urn"] for _, r in live if r["type"] == ROOT_STACK_TYPE and not r.get("parent")), None)
    if root is None and live:
        stack, project = live[0][1]["urn"].removeprefix("urn:pulumi:").split("::")[:2]
        root = f"urn:pulumi:{stack}::{project}::{ROOT_STACK_TYPE}::{project}-{stack}"
    return Snapshot(
        resources=tuple(analyzed(where, resource, "inputs") for where, resource in live),
        stack_resources=tuple(analyzed(where, resource, "outputs") for where, resource in live),
        root_urn=root or "",
    )


def read_export(path: str | os.PathLike[str]) -> Snapshot:
    """The snapshot in a `pulumi stack export` file; ExportError naming the file when it is missing or malformed."""
    file = Path(path)
    try:
        text = read_text(file, "stack export file")
    except UnreadableFileError as error:
        raise ExportError(str(error)) from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ExportError(f"{file}: is not JSON (line {error.lineno}: {error.msg})") from None
    return snapshot_from_export(document, str(file))
