"""Drives a Pulumi policy pack over gRPC exactly as the Pulumi engine does, without the Pulumi CLI.

The engine (pulumi/pulumi `sdk/go/common/resource/plugin/analyzer_plugin.go`, `pkg/resource/deploy/step_generator.go`,
`pkg/resource/analyzer/config.go`) launches a Python pack through the Python language host's `RunPlugin`
(`sdk/python/cmd/pulumi-language-python/main.go`) as `python -u -m pulumi.policy <engineAddr> <packDir>`, the python
of the pack's virtualenv, with cwd = the pack directory; the host first waits for the engine's `ConfigureStack` and
puts PULUMI_PROJECT, PULUMI_STACK, PULUMI_DRY_RUN, PULUMI_ORGANIZATION and PULUMI_CONFIG (a JSON object of namespaced
key -> string) in the pack's environment.
`<engineAddr>` is the address of the engine's own gRPC server (`pulumirpc.Engine`: Log, GetRootResource, ...), which
plugins may call back into. The pack prints its port as the first stdout line. The engine then calls, in order:

- `Handshake` (a Python pack leaves it unimplemented; the engine tolerates UNIMPLEMENTED), then `ConfigureStack`
  (stack, project, organization, dry_run, config as key -> string, secret keys, tags);
- `GetAnalyzerInfo`; it fills in schema defaults, applies the pack's initial config and `--policy-pack-config`,
  validates every policy's config against its JSON schema itself and refuses to run if any is invalid (the pack never
  sees invalid config), then `Configure` with the reconciled config of every policy;
- for every registered resource (the root stack, default providers, components and custom resources, in
  registration order): `Remediate`, then `Analyze`, with the checked inputs and the resource's provider (its inputs as
  the provider's CheckConfig returned them: every config value a string, lists and objects JSON-encoded);
- once, at the end: `AnalyzeStack` with every resource's outputs (during preview, outputs the provider cannot know
  yet, such as `id` and `arn`, are unknown).

`pulumi policy analyze` (pulumi/pulumi `pkg/cmd/pulumi/policy/policy_analyze.go`,
`pkg/resource/deploy/analyze_snapshot.go`) loads the pack without stack options: no PULUMI_PROJECT, PULUMI_STACK,
PULUMI_DRY_RUN or PULUMI_CONFIG from the engine and no `ConfigureStack`; then `GetAnalyzerInfo` and `Configure` as
above; then for every resource of the snapshot not marked for deletion, in state order: `Remediate` (reported, never
applied) and `Analyze` on the stored inputs, as a dry run; then one `AnalyzeStack` on the stored outputs. Any
mandatory violation makes the command fail.

Property values use the engine's encodings: unknowns are a sentinel string, secrets a signature-keyed object (both
from `pulumi.runtime.rpc`, re-exported by `partner_access.check.program`).
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from concurrent import futures
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import grpc
import yaml
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc, engine_pb2, engine_pb2_grpc

from partner_access import pack_config
from partner_access.check.program import SECRET_SIGNATURE, SECRET_SIGNATURE_KEY, UNKNOWN
from partner_access.pack_config import PolicyConfig, PolicySchema

ROOT_STACK_TYPE = "pulumi:pulumi:Stack"
_ENFORCEMENT_LEVEL_TO_PROTO = {
    "advisory": analyzer_pb2.ADVISORY,
    "mandatory": analyzer_pb2.MANDATORY,
    "remediate": analyzer_pb2.REMEDIATE,
    "disabled": analyzer_pb2.DISABLED,
}
_PROTO_TO_ENFORCEMENT_LEVEL = {number: name for name, number in _ENFORCEMENT_LEVEL_TO_PROTO.items()}
_PROTO_TO_POLICY_TYPE = {
    analyzer_pb2.POLICY_TYPE_RESOURCE: "resource",
    analyzer_pb2.POLICY_TYPE_STACK: "stack",
}
_PROTO_TO_SEVERITY = {
    analyzer_pb2.POLICY_SEVERITY_LOW: "low",
    analyzer_pb2.POLICY_SEVERITY_MEDIUM: "medium",
    analyzer_pb2.POLICY_SEVERITY_HIGH: "high",
    analyzer_pb2.POLICY_SEVERITY_CRITICAL: "critical",
}
_LOG_SEVERITY_NAMES = {
    engine_pb2.DEBUG: "debug",
    engine_pb2.INFO: "info",
    engine_pb2.WARNING: "warning",
    engine_pb2.ERROR: "error",
}
# What the Python SDK writes to stderr when a pack logs an error without an engine connection, and what gRPC writes
# when a policy raises.
_STDERR_ERROR_MARKERS = ("error:", "Traceback (most recent call last)", "Exception calling application")
_GRPC_OPTIONS = [("grpc.max_receive_message_length", 400 * 1024 * 1024)]


def unknown() -> str:
    """A value the engine does not know yet (a preview of a resource whose input depends on another's output)."""
    return UNKNOWN


def secret(value: object) -> dict[str, object]:
    """A secret value, as the engine marshals it to plugins that accept secrets."""
    return {SECRET_SIGNATURE_KEY: SECRET_SIGNATURE, "value": value}


def engine_config_value(value: object) -> str:
    """A config value as the engine holds and passes it: strings as they are, anything else JSON-encoded."""
    return value if isinstance(value, str) else json.dumps(value)


def _strip_internal_keys(properties: Mapping[str, object]) -> dict[str, object]:
    # The engine marshals analyzer properties with SkipInternalKeys (keys starting "__", e.g. "__defaults").
    return {key: value for key, value in properties.items() if not key.startswith("__")}


def to_struct(properties: Mapping[str, object], *, skip_internal_keys: bool = True) -> struct_pb2.Struct:
    """Properties (already in the engine's encodings, see `unknown` and `secret`) as a `google.protobuf.Struct`;
    Analyze and AnalyzeStack skip internal keys, Remediate keeps them (`analyzer_plugin.go`)."""
    struct = struct_pb2.Struct()
    struct.update(_strip_internal_keys(properties) if skip_internal_keys else dict(properties))
    return struct


def from_struct(struct: struct_pb2.Struct) -> dict[str, Any]:
    return json_format.MessageToDict(struct)


def make_urn(stack: str, project: str, qualified_type: str, name: str) -> str:
    return f"urn:pulumi:{stack}::{project}::{qualified_type}::{name}"


def urn_name(urn: str) -> str:
    """The resource name at the end of a URN (`URN.Name()`); names may contain `::`-free text only."""
    return urn.rsplit("::", 1)[-1]


@dataclass(frozen=True)
class ProviderReference:
    """The `AnalyzerProviderResource` sent with a resource: its provider's type, name, URN and (checked) inputs."""

    type: str
    name: str
    urn: str
    properties: Mapping[str, object]

    def to_proto(self) -> analyzer_pb2.AnalyzerProviderResource:
        return analyzer_pb2.AnalyzerProviderResource(
            type=self.type, name=self.name, urn=self.urn, properties=to_struct(self.properties)
        )


@dataclass(frozen=True)
class AnalyzedResource:
    """One resource as the engine describes it to an analyzer."""

    type: str
    name: str
    urn: str
    properties: Mapping[str, object]
    provider: ProviderReference | None = None
    parent: str | None = None
    dependencies: tuple[str, ...] = ()
    property_dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    protect: bool = False

    def options_proto(self) -> analyzer_pb2.AnalyzerResourceOptions:
        return analyzer_pb2.AnalyzerResourceOptions(
            protect=self.protect,
            parent=self.parent or "",
            customTimeouts=analyzer_pb2.AnalyzerResourceOptions.CustomTimeouts(),
        )

    def to_analyze_request(self, *, skip_internal_keys: bool = True) -> analyzer_pb2.AnalyzeRequest:
        request = analyzer_pb2.AnalyzeRequest(
            type=self.type,
            name=self.name,
            urn=self.urn,
            properties=to_struct(self.properties, skip_internal_keys=skip_internal_keys),
            options=self.options_proto(),
        )
        if self.provider is not None:
            request.provider.CopyFrom(self.provider.to_proto())
        return request

    def to_stack_resource(self) -> analyzer_pb2.AnalyzerResource:
        message = analyzer_pb2.AnalyzerResource(
            type=self.type,
            name=self.name,
            urn=self.urn,
            properties=to_struct(self.properties),
            options=self.options_proto(),
            parent=self.parent or "",
            dependencies=list(self.dependencies),
        )
        for key, urns in self.property_dependencies.items():
            if urns:
                message.propertyDependencies[key].urns.extend(urns)
        if self.provider is not None:
            message.provider.CopyFrom(self.provider.to_proto())
        return message


@dataclass(frozen=True)
class PolicyDiagnostic:
    policy_name: str
    policy_pack_name: str
    enforcement_level: str
    message: str
    urn: str
    description: str
    severity: str = ""

    @classmethod
    def from_proto(cls, diagnostic: analyzer_pb2.AnalyzeDiagnostic) -> PolicyDiagnostic:
        return cls(
            policy_name=diagnostic.policyName,
            policy_pack_name=diagnostic.policyPackName,
            enforcement_level=_PROTO_TO_ENFORCEMENT_LEVEL[diagnostic.enforcementLevel],
            message=diagnostic.message,
            urn=diagnostic.urn,
            description=diagnostic.description,
            severity=_PROTO_TO_SEVERITY.get(diagnostic.severity, ""),
        )


@dataclass(frozen=True)
class AnalyzeResult:
    diagnostics: tuple[PolicyDiagnostic, ...]
    not_applicable: tuple[tuple[str, str], ...]

    @classmethod
    def from_proto(cls, response: analyzer_pb2.AnalyzeResponse) -> AnalyzeResult:
        return cls(
            diagnostics=tuple(PolicyDiagnostic.from_proto(d) for d in response.diagnostics),
            not_applicable=tuple((n.policy_name, n.reason) for n in response.not_applicable),
        )

    def by_policy(self, policy_name: str) -> list[PolicyDiagnostic]:
        return [d for d in self.diagnostics if d.policy_name == policy_name]


@dataclass(frozen=True)
class PolicyInfo:
    name: str
    description: str
    enforcement_level: str
    policy_type: str
    config_schema_properties: Mapping[str, Any]
    config_schema_required: tuple[str, ...]


@dataclass(frozen=True)
class AnalyzerInfo:
    name: str
    version: str
    supports_config: bool
    policies: Mapping[str, PolicyInfo]
    initial_config: Mapping[str, PolicyConfig]
    description: str = ""
    display_name: str = ""
    readme: str = ""
    provider: str = ""
    tags: tuple[str, ...] = ()
    repository: str = ""

    @classmethod
    def from_proto(cls, info: analyzer_pb2.AnalyzerInfo) -> AnalyzerInfo:
        policies = {
            p.name: PolicyInfo(
                name=p.name,
                description=p.description,
                enforcement_level=_PROTO_TO_ENFORCEMENT_LEVEL[p.enforcementLevel],
                policy_type=_PROTO_TO_POLICY_TYPE.get(p.policy_type, "unknown"),
                config_schema_properties=from_struct(p.configSchema.properties),
                config_schema_required=tuple(p.configSchema.required),
            )
            for p in info.policies
        }
        initial_config = {
            name: PolicyConfig(_PROTO_TO_ENFORCEMENT_LEVEL[c.enforcementLevel], from_struct(c.properties))
            for name, c in info.initialConfig.items()
        }
        return cls(info.name, info.version, info.supportsConfig, policies, initial_config, info.description,
                   info.displayName, info.readme, info.provider, tuple(info.tags), info.repository)


class PolicyPackError(RuntimeError):
    """The pack failed to start or an RPC to it failed; carries what the engine would show (status and stderr)."""


def reconcile_policy_config(info: AnalyzerInfo, document: Mapping[str, Any] | None) -> dict[str, PolicyConfig]:
    """What the engine passes to `Configure` (see `partner_access.pack_config`): schema defaults, then the pack's
    initial config, then the file's config, for every policy the pack reports; raises `PolicyConfigError` with the
    engine's per-policy messages when any is invalid."""
    schemas = [
        PolicySchema(policy.name, policy.enforcement_level, policy.config_schema_properties,
                     policy.config_schema_required)
        for policy in info.policies.values()
    ]
    return pack_config.reconcile_policy_config(schemas, document, initial_config=info.initial_config)


@dataclass(frozen=True)
class EngineLogEntry:
    severity: str
    message: str
    urn: str


class _EngineServicer(engine_pb2_grpc.EngineServicer):
    """The engine's host server, which plugins may call back into; records what they log."""

    def __init__(self, root_urn: str) -> None:
        self.log_entries: list[EngineLogEntry] = []
        self._root_urn = root_urn
        self._lock = threading.Lock()

    def Log(self, request: engine_pb2.LogRequest, context: grpc.ServicerContext) -> empty_pb2.Empty:
        with self._lock:
            self.log_entries.append(
                EngineLogEntry(_LOG_SEVERITY_NAMES.get(request.severity, str(request.severity)), request.message,
                               request.urn)
            )
        return empty_pb2.Empty()

    def GetRootResource(
        self, request: engine_pb2.GetRootResourceRequest, context: grpc.ServicerContext
    ) -> engine_pb2.GetRootResourceResponse:
        return engine_pb2.GetRootResourceResponse(urn=self._root_urn)

    def SetRootResource(
        self, request: engine_pb2.SetRootResourceRequest, context: grpc.ServicerContext
    ) -> engine_pb2.SetRootResourceResponse:
        self._root_urn = request.urn
        return engine_pb2.SetRootResourceResponse()

    def RequirePulumiVersion(
        self, request: engine_pb2.RequirePulumiVersionRequest, context: grpc.ServicerContext
    ) -> engine_pb2.RequirePulumiVersionResponse:
        return engine_pb2.RequirePulumiVersionResponse()

    def StartDebugging(
        self, request: engine_pb2.StartDebuggingRequest, context: grpc.ServicerContext
    ) -> empty_pb2.Empty:
        return empty_pb2.Empty()


class _StreamReader(threading.Thread):
    """Drains a pipe into lines so the child never blocks on a full pipe; the first line is also queued."""

    def __init__(self, stream: Any) -> None:
        super().__init__(daemon=True)
        self._stream = stream
        self.lines: list[str] = []
        self.first_line: queue.Queue[str | None] = queue.Queue(maxsize=1)

    def run(self) -> None:
        first = True
        for raw in iter(self._stream.readline, b""):
            line = raw.decode(errors="replace").rstrip("\n")
            if first:
                self.first_line.put(line)
                first = False
            else:
                self.lines.append(line)
        if first:
            self.first_line.put(None)

    def text(self) -> str:
        return "\n".join(self.lines)


@dataclass(frozen=True)
class StackPreview:
    """Everything the engine sends a pack for one `pulumi preview`/`up` of a stack."""

    project: str
    stack: str
    dry_run: bool
    config: Mapping[str, str]
    secret_config_keys: tuple[str, ...]
    resources: tuple[AnalyzedResource, ...]
    stack_resources: tuple[AnalyzedResource, ...]

    def with_resource_properties(self, urn: str, properties: Mapping[str, object]) -> StackPreview:
        """The same run with one resource's inputs replaced; its outputs follow (computed outputs are kept)."""
        if not any(resource.urn == urn for resource in self.resources):
            raise KeyError(urn)
        old_inputs = self.resource(urn).properties

        def replaced(resource: AnalyzedResource, new_properties: Mapping[str, object]) -> AnalyzedResource:
            return AnalyzedResource(
                resource.type, resource.name, resource.urn, dict(new_properties), resource.provider,
                resource.parent, resource.dependencies, resource.property_dependencies, resource.protect,
            )

        resources = tuple(replaced(r, properties) if r.urn == urn else r for r in self.resources)
        stack_resources = tuple(
            replaced(r, {**{k: v for k, v in r.properties.items() if k not in old_inputs}, **properties})
            if r.urn == urn else r
            for r in self.stack_resources
        )
        return StackPreview(self.project, self.stack, self.dry_run, self.config, self.secret_config_keys,
                            resources, stack_resources)

    def resource(self, urn: str) -> AnalyzedResource:
        for resource in self.resources:
            if resource.urn == urn:
                return resource
        raise KeyError(urn)


@dataclass(frozen=True)
class PreviewResult:
    resource_diagnostics: Mapping[str, tuple[PolicyDiagnostic, ...]]
    stack_diagnostics: tuple[PolicyDiagnostic, ...]
    resource_phase_seconds: float
    stack_phase_seconds: float

    def all_diagnostics(self) -> list[PolicyDiagnostic]:
        found = [d for diagnostics in self.resource_diagnostics.values() for d in diagnostics]
        return found + list(self.stack_diagnostics)

    def mandatory(self) -> list[PolicyDiagnostic]:
        """The violations that make `pulumi preview` fail (remediate is reported as mandatory)."""
        return [d for d in self.all_diagnostics() if d.enforcement_level in ("mandatory", "remediate")]


def pack_python(pack_dir: str | os.PathLike[str]) -> str:
    """The interpreter the engine runs a Python pack with: `<pack>/<virtualenv>/bin/python` when PulumiPolicy.yaml
    names a virtualenv (the engine does not create it), else the `python3` on PATH (here: this interpreter)."""
    pack = Path(pack_dir)
    manifest = pack / "PulumiPolicy.yaml"
    try:
        document = yaml.safe_load(manifest.read_text())
    except FileNotFoundError:
        raise PolicyPackError(f"{manifest}: no such file; {pack} is not a policy pack") from None
    except yaml.YAMLError as error:
        raise PolicyPackError(f"{manifest}: is not valid YAML: {error}") from None
    runtime = document.get("runtime") if isinstance(document, dict) else None
    options = runtime.get("options") if isinstance(runtime, dict) else None
    virtualenv = options.get("virtualenv") if isinstance(options, dict) else None
    if not isinstance(virtualenv, str):
        return sys.executable
    python = pack / virtualenv / "bin" / "python"
    if not python.is_file():
        raise PolicyPackError(
            f"{manifest} names the virtualenv {virtualenv!r}, but {python} does not exist; create it with "
            f"`bash scripts/test` or `(cd {pack} && pulumi install)` (`--policy-pack` does not create it)"
        )
    return str(python)


def _attributed(diagnostics: Iterable[PolicyDiagnostic], urn: str) -> tuple[PolicyDiagnostic, ...]:
    # The engine reports a resource policy's violation on the analyzed resource (`OnPolicyViolation(r.URN, d)`).
    return tuple(d if d.urn else replace(d, urn=urn) for d in diagnostics)


class PolicyPackProcess:
    """A policy pack running as the engine runs it. Use as a context manager; the process is always killed.

    With a project and stack, as `pulumi preview`/`up` runs it (stack settings in the environment, `ConfigureStack`);
    without, as `pulumi policy analyze` runs it (neither)."""

    def __init__(
        self,
        pack_dir: str | os.PathLike[str],
        *,
        project: str | None,
        stack: str | None,
        dry_run: bool = True,
        config: Mapping[str, str] | None = None,
        secret_config_keys: Iterable[str] = (),
        organization: str = "organization",
        tags: Mapping[str, str] | None = None,
        python: str | None = None,
        startup_timeout: float = 30.0,
        rpc_timeout: float = 60.0,
    ) -> None:
        self.pack_dir = Path(pack_dir).resolve()
        self.project = project
        self.stack = stack
        self.dry_run = dry_run
        self.config = dict(config or {})
        self.secret_config_keys = tuple(secret_config_keys)
        self.organization = organization
        self.tags = dict(tags or {})
        self.python = python if python is not None else pack_python(self.pack_dir)
        self.startup_timeout = startup_timeout
        self.rpc_timeout = rpc_timeout
        self.startup_seconds: float | None = None
        self.handshake_supported: bool | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._engine_server: grpc.Server | None = None
        root_urn = make_urn(stack, project, ROOT_STACK_TYPE, f"{project}-{stack}") if project and stack else ""
        self._engine = _EngineServicer(root_urn)
        self._channel: grpc.Channel | None = None
        self._stub: analyzer_pb2_grpc.AnalyzerStub | None = None
        self._stdout: _StreamReader | None = None
        self._stderr: _StreamReader | None = None
        self._info: AnalyzerInfo | None = None

    # Lifecycle -------------------------------------------------------------------------------------------------

    def __enter__(self) -> PolicyPackProcess:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        # A pack must not inherit the test session's own Pulumi settings (e.g. mocks' stack), only the engine's.
        for key in [k for k in env if k.startswith("PULUMI_")]:
            del env[key]
        if self.project is None or self.stack is None:
            return env
        env.update(
            PULUMI_PROJECT=self.project,
            PULUMI_STACK=self.stack,
            PULUMI_DRY_RUN="true" if self.dry_run else "false",
            PULUMI_ORGANIZATION=self.organization,
        )
        if self.config:
            env["PULUMI_CONFIG"] = json.dumps(self.config)
        return env

    def start(self) -> None:
        self._engine_server = grpc.server(futures.ThreadPoolExecutor(max_workers=2), options=_GRPC_OPTIONS)
        engine_pb2_grpc.add_EngineServicer_to_server(self._engine, self._engine_server)
        engine_port = self._engine_server.add_insecure_port("127.0.0.1:0")
        self._engine_server.start()
        engine_address = f"127.0.0.1:{engine_port}"

        started = time.perf_counter()
        self._process = subprocess.Popen(
            [self.python, "-u", "-m", "pulumi.policy", engine_address, str(self.pack_dir)],
            cwd=self.pack_dir,
            env=self.environment(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self._stdout = _StreamReader(self._process.stdout)
        self._stderr = _StreamReader(self._process.stderr)
        self._stdout.start()
        self._stderr.start()
        port = self._read_port()
        self._channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=_GRPC_OPTIONS)
        try:
            grpc.channel_ready_future(self._channel).result(timeout=self.startup_timeout)
        except grpc.FutureTimeoutError as error:
            raise PolicyPackError(f"policy pack in {self.pack_dir} printed port {port} but never accepted a "
                                  f"connection\n{self._stderr_report()}") from error
        self._stub = analyzer_pb2_grpc.AnalyzerStub(self._channel)
        self.startup_seconds = time.perf_counter() - started

        self._handshake(engine_address)
        if self.project is None or self.stack is None:
            return
        self._call(
            "ConfigureStack",
            analyzer_pb2.AnalyzerStackConfigureRequest(
                stack=self.stack,
                project=self.project,
                organization=self.organization,
                dry_run=self.dry_run,
                config=self.config,
                config_secret_keys=list(self.secret_config_keys),
                tags=self.tags,
            ),
        )

    def _read_port(self) -> int:
        assert self._stdout is not None and self._process is not None
        try:
            first_line = self._stdout.first_line.get(timeout=self.startup_timeout)
        except queue.Empty:
            raise PolicyPackError(
                f"policy pack in {self.pack_dir} printed no port within {self.startup_timeout:.0f}s\n"
                f"{self._stderr_report()}"
            ) from None
        if first_line is None:
            exit_code = self._process.wait(timeout=self.startup_timeout)
            raise PolicyPackError(
                f"policy pack in {self.pack_dir} exited with code {exit_code} before printing its port\n"
                f"{self._stderr_report()}"
            )
        try:
            return int(first_line.strip())
        except ValueError:
            raise PolicyPackError(
                f"policy pack in {self.pack_dir} printed {first_line!r} instead of its port as the first stdout "
                f"line (the engine would fail the same way)\n{self._stderr_report()}"
            ) from None

    def _handshake(self, engine_address: str) -> None:
        assert self._stub is not None
        request = analyzer_pb2.AnalyzerHandshakeRequest(
            engine_address=engine_address,
            root_directory=str(self.pack_dir),
            program_directory=str(self.pack_dir),
        )
        try:
            self._stub.Handshake(request, timeout=self.rpc_timeout)
            self.handshake_supported = True
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.UNIMPLEMENTED:
                raise self._rpc_failure("Handshake", error) from error
            self.handshake_supported = False

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        if self._process is not None:
            if self._process.poll() is None:
                self._process.kill()
            self._process.wait(timeout=30)
            for stream in (self._process.stdout, self._process.stderr):
                if stream is not None:
                    stream.close()
        for reader in (self._stdout, self._stderr):
            if reader is not None:
                reader.join(timeout=5)
        if self._engine_server is not None:
            self._engine_server.stop(grace=None)
            self._engine_server = None

    # What the pack said outside the protocol ---------------------------------------------------------------------

    @property
    def engine_log(self) -> list[EngineLogEntry]:
        return list(self._engine.log_entries)

    @property
    def stderr(self) -> str:
        return self._stderr.text() if self._stderr else ""

    @property
    def extra_stdout(self) -> str:
        """Anything the pack printed to stdout after its port (a pack should print nothing)."""
        return self._stdout.text() if self._stdout else ""

    def logged_errors(self) -> list[str]:
        """Errors the pack logged: engine Log calls at error severity and error lines or tracebacks on stderr."""
        errors = [entry.message for entry in self.engine_log if entry.severity == "error"]
        errors.extend(
            line for line in self.stderr.splitlines() if any(line.lstrip().startswith(m) for m in _STDERR_ERROR_MARKERS)
        )
        return errors

    def _stderr_report(self) -> str:
        # The reader thread may still be draining; give it a moment when the process is gone.
        if self._process is not None and self._process.poll() is not None and self._stderr is not None:
            self._stderr.join(timeout=5)
        text = self.stderr.strip()
        return f"pack stderr:\n{text}" if text else "pack stderr: (empty)"

    # RPCs ------------------------------------------------------------------------------------------------------

    def _rpc_failure(self, method: str, error: grpc.RpcError) -> PolicyPackError:
        return PolicyPackError(
            f"{method} failed with {error.code().name}: {error.details()}\n{self._stderr_report()}"
        )

    def _call(self, method: str, request: Any) -> Any:
        if self._stub is None:
            raise PolicyPackError("the policy pack is not running")
        try:
            return getattr(self._stub, method)(request, timeout=self.rpc_timeout)
        except grpc.RpcError as error:
            raise self._rpc_failure(method, error) from error

    def plugin_version(self) -> str:
        return self._call("GetPluginInfo", empty_pb2.Empty()).version

    def analyzer_info(self) -> AnalyzerInfo:
        if self._info is None:
            self._info = AnalyzerInfo.from_proto(self._call("GetAnalyzerInfo", empty_pb2.Empty()))
        return self._info

    def configure(self, policy_config: Mapping[str, PolicyConfig]) -> None:
        """`Configure` exactly as given, without the engine's validation (to see how the pack copes)."""
        request = analyzer_pb2.ConfigureAnalyzerRequest()
        for name, config in policy_config.items():
            entry = request.policyConfig[name]
            entry.enforcementLevel = _ENFORCEMENT_LEVEL_TO_PROTO[config.enforcement_level]
            entry.properties.update(dict(config.properties))
        self._call("Configure", request)

    def configure_like_engine(self, document: Mapping[str, Any] | None = None) -> dict[str, PolicyConfig]:
        """What `pulumi preview --policy-pack <pack> [--policy-pack-config <file>]` does before analysing: reconcile
        defaults, initial config and the file's config, validate (raising `PolicyConfigError`), `Configure`."""
        reconciled = reconcile_policy_config(self.analyzer_info(), document)
        if reconciled:
            self.configure(reconciled)
        return reconciled

    def configure_from_file(self, path: str | os.PathLike[str]) -> dict[str, PolicyConfig]:
        return self.configure_like_engine(pack_config.load_policy_pack_config(Path(path)))

    def remediate(self, resource: AnalyzedResource) -> analyzer_pb2.RemediateResponse:
        return self._call("Remediate", resource.to_analyze_request(skip_internal_keys=False))

    def analyze(self, resource: AnalyzedResource) -> AnalyzeResult:
        return AnalyzeResult.from_proto(self._call("Analyze", resource.to_analyze_request()))

    def analyze_stack(self, resources: Iterable[AnalyzedResource]) -> AnalyzeResult:
        request = analyzer_pb2.AnalyzeStackRequest(resources=[r.to_stack_resource() for r in resources])
        return AnalyzeResult.from_proto(self._call("AnalyzeStack", request))

    def run_preview(self, preview: StackPreview) -> PreviewResult:
        """Every resource through Remediate then Analyze in registration order, then one AnalyzeStack."""
        per_resource: dict[str, tuple[PolicyDiagnostic, ...]] = {}
        started = time.perf_counter()
        for resource in preview.resources:
            self.remediate(resource)
            per_resource[resource.urn] = _attributed(self.analyze(resource).diagnostics, resource.urn)
        resources_done = time.perf_counter()
        stack = self.analyze_stack(preview.stack_resources)
        return PreviewResult(per_resource, stack.diagnostics, resources_done - started,
                             time.perf_counter() - resources_done)


    def run_snapshot(self, snapshot: Snapshot) -> SnapshotResult:
        """`pulumi policy analyze`: per resource `Remediate` (its diagnostics reported as advisory, its changes never
        applied) then `Analyze` on the stored inputs; then one `AnalyzeStack` on the stored outputs."""
        per_resource: dict[str, tuple[PolicyDiagnostic, ...]] = {}
        remediations: list[tuple[str, str]] = []
        for resource in snapshot.resources:
            remediated = self.remediate(resource)
            found = [
                PolicyDiagnostic(r.policyName, r.policyPackName, "advisory", r.diagnostic, resource.urn,
                                 r.description)
                for r in remediated.remediations if r.diagnostic
            ]
            remediations.extend((resource.urn, r.policyName) for r in remediated.remediations if not r.diagnostic)
            per_resource[resource.urn] = _attributed((*found, *self.analyze(resource).diagnostics), resource.urn)
        stack = self.analyze_stack(snapshot.stack_resources)
        in_snapshot = {resource.urn for resource in snapshot.resources}
        stack_diagnostics = tuple(
            diagnostic if diagnostic.urn in in_snapshot else replace(diagnostic, urn=snapshot.root_urn)
            for diagnostic in stack.diagnostics
        )
        return SnapshotResult(per_resource, stack_diagnostics, tuple(remediations))


@dataclass(frozen=True)
class Snapshot:
    """What `pulumi policy analyze` sends for a stack's state: each resource with its stored inputs (for Analyze)
    and with its stored outputs (for AnalyzeStack), in state order, deleted resources left out."""

    resources: tuple[AnalyzedResource, ...]
    stack_resources: tuple[AnalyzedResource, ...]
    root_urn: str


@dataclass(frozen=True)
class SnapshotResult:
    resource_diagnostics: Mapping[str, tuple[PolicyDiagnostic, ...]]
    stack_diagnostics: tuple[PolicyDiagnostic, ...]
    remediations: tuple[tuple[str, str], ...]

    def all_diagnostics(self) -> list[PolicyDiagnostic]:
        found = [d for diagnostics in self.resource_diagnostics.values() for d in diagnostics]
        return found + list(self.stack_diagnostics)

    def mandatory(self) -> list[PolicyDiagnostic]:
        """The violations that make `pulumi policy analyze` exit non-zero (remediate is reported as mandatory)."""
        return [d for d in self.all_diagnostics() if d.enforcement_level in ("mandatory", "remediate")]


def launch_for_analyze(pack_dir: str | os.PathLike[str], **options: Any) -> PolicyPackProcess:
    """A pack process as `pulumi policy analyze` loads it: no stack options (not yet started)."""
    return PolicyPackProcess(pack_dir, project=None, stack=None, **options)


def launch_for_preview(
    pack_dir: str | os.PathLike[str], preview: StackPreview, **options: Any
) -> PolicyPackProcess:
    """A pack process set up with the preview's project, stack, dry-run flag and config (not yet started)."""
    return PolicyPackProcess(
        pack_dir,
        project=preview.project,
        stack=preview.stack,
        dry_run=preview.dry_run,
        config=preview.config,
        secret_config_keys=preview.secret_config_keys,
        **options,
    )
