"""The GitHub Actions pipeline (.github/workflows), checked offline: GitHub Actions cannot run here.

Every workflow is validated against the GitHub workflow JSON schema check-jsonschema vendors (no network), then read
the way the runner would resolve it (matrix rows, `${{ matrix.* }}` and `${{ env.* }}`) to check what it does: which
stacks it previews and deploys, with which policy pack and pack config, after which test command, with which AWS
credentials. Each check is a function returning the problems it finds; every check runs once on the real files
(expecting none) and once on a copy mutated to break it (expecting the problem), so each is shown to bite.
"""

from __future__ import annotations

import importlib.util
import io
import itertools
import json
import re
import stat
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from check_jsonschema.builtin_schemas import get_builtin_schema
from check_jsonschema.parsers.yaml import construct_yaml_implementation, impl2loader

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKFLOW_DIR = REPO_ROOT / ".github" / "workflows"
PREVIEW_WORKFLOW = WORKFLOW_DIR / "preview.yml"
DEPLOY_WORKFLOW = WORKFLOW_DIR / "deploy.yml"
REUSABLE_WORKFLOW = WORKFLOW_DIR / "policy-pack.yml"
PIPELINE_DOC = REPO_ROOT / "docs" / "pipeline.md"
README = REPO_ROOT / "README.md"
CI_ENTRY_POINT = REPO_ROOT / ".ci" / "run"

# The local reproduction of the PR preview: both stacks through the real pack over the engine protocol. The workflows
# must run the pack directory and config file it runs, so the reproduction and CI cannot drift apart.
LOCAL_PREVIEW_REPRODUCTION = REPO_ROOT / "tests" / "policypack" / "test_pack_on_program_stacks.py"

PULUMI_ACTION = "pulumi/actions"
AWS_CREDENTIALS_ACTION = "aws-actions/configure-aws-credentials"
# The inputs each action declares in its action.yml (pulumi/actions v6, configure-aws-credentials v4/v5). GitHub only
# warns about an unknown input and runs on without it, so a misspelt `policyPacks` would silently drop the pack.
PULUMI_ACTION_INPUTS = frozenset({
    "command", "stack-name", "pulumi-version", "pulumi-version-file", "work-dir", "comment-on-pr",
    "comment-on-pr-number", "comment-on-summary", "github-token", "cloud-url", "secrets-provider", "parallel",
    "message", "config-map", "expect-no-changes", "diff", "replace", "target", "target-dependents", "policyPacks",
    "policyPackConfigs", "refresh", "upsert", "remove", "edit-pr-comment", "color", "exclude-protected", "plan",
    "suppress-outputs", "suppress-progress", "always-include-summary",
})
AWS_CREDENTIALS_INPUTS = frozenset({
    "audience", "aws-access-key-id", "aws-secret-access-key", "aws-session-token", "aws-region",
    "mask-aws-account-id", "role-to-assume", "web-identity-token-file", "role-duration-seconds", "role-session-name",
    "role-external-id", "role-skip-session-tagging", "http-proxy", "inline-session-policy", "managed-session-policies",
    "output-credentials", "output-env-credentials", "unset-current-credentials", "disable-retry",
    "retry-max-attempts", "special-characters-workaround", "use-existing-credentials", "role-chaining",
    "allowed-account-ids", "force-skip-oidc", "action-timeout-s",
})
LONG_LIVED_KEY_PATTERNS = (
    re.compile(r"AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY", re.IGNORECASE),
    re.compile(r"aws-access-key-id|aws-secret-access-key", re.IGNORECASE),
    re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
)
EXPRESSION = re.compile(r"\$\{\{\s*(matrix|env)\.([A-Za-z0-9_-]+)\s*\}\}")
# Contexts a caller or a pull request controls; spliced into a `run:` script they become shell code.
UNTRUSTED_IN_SCRIPT = re.compile(r"\$\{\{[^}]*\b(inputs|github\.event|github\.head_ref)\b")
PINNED_ACTION_REF = re.compile(r"^v\d+(\.\d+){0,2}$|^[0-9a-f]{40}$")

_load_yaml_stream = impl2loader(construct_yaml_implementation())


def load_yaml(text: str) -> Any:
    """YAML as check-jsonschema reads it (YAML 1.2, so `on:` stays a key and does not become `True`)."""
    return _load_yaml_stream(io.BytesIO(text.encode()))


def load_workflow(path: Path) -> dict[str, Any]:
    return load_yaml(path.read_text())


# Reading a workflow as the runner resolves it ------------------------------------------------------------------


def action_name(step: dict[str, Any]) -> str | None:
    uses = step.get("uses")
    return uses.split("@", 1)[0] if uses else None


def matrix_rows(job: dict[str, Any]) -> list[dict[str, Any]]:
    """The job's matrix combinations: the product of its list-valued keys, then `include` rows (added or merged)."""
    matrix = job.get("strategy", {}).get("matrix")
    if not matrix:
        return [{}]
    axes = {key: values for key, values in matrix.items() if key not in ("include", "exclude")}
    products = [dict(zip(axes, combination, strict=True)) for combination in itertools.product(*axes.values())]
    excluded = matrix.get("exclude", [])
    rows = [row for row in products if not any(exclude.items() <= row.items() for exclude in excluded)] if axes else []
    for include in matrix.get("include", []):
        matching = [row for row in rows if all(row.get(key, value) == value for key, value in include.items()
                                               if key in axes)]
        if axes and matching:
            for row in matching:
                row.update(include)
        else:
            rows.append(dict(include))
    return rows or [{}]


def resolve(value: Any, workflow: dict[str, Any], job: dict[str, Any], row: dict[str, Any]) -> str:
    """`${{ matrix.X }}` and `${{ env.X }}` replaced as the runner would; other expressions are left as written."""
    environment = {**workflow.get("env", {}), **job.get("env", {})}

    def substitute(match: re.Match[str]) -> str:
        context, key = match.groups()
        if context == "matrix":
            return str(row[key]) if key in row else match.group(0)
        return str(environment[key]) if key in environment else match.group(0)

    text = str(value)
    for _ in range(5):  # an env value may itself refer to the matrix
        resolved = EXPRESSION.sub(substitute, text)
        if resolved == text:
            break
        text = resolved
    return text


@dataclass(frozen=True)
class PulumiRun:
    """One `pulumi/actions` run with a command, in one job and matrix row, with the AWS role its job assumes."""

    job_id: str
    command: str
    stack: str
    inputs: dict[str, str]
    aws_role: str | None


def pulumi_runs(workflow: dict[str, Any]) -> list[PulumiRun]:
    runs = []
    for job_id, job in workflow.get("jobs", {}).items():
        for row in matrix_rows(job):
            steps = job.get("steps", [])
            roles = [resolve(step.get("with", {}).get("role-to-assume"), workflow, job, row)
                     for step in steps if action_name(step) == AWS_CREDENTIALS_ACTION]
            for step in steps:
                inputs = {key: resolve(value, workflow, job, row) for key, value in step.get("with", {}).items()}
                if action_name(step) == PULUMI_ACTION and "command" in inputs:
                    runs.append(PulumiRun(job_id, inputs["command"], inputs.get("stack-name", ""), inputs,
                                          roles[0] if roles else None))
    return runs


def lines_of(value: str) -> list[str]:
    """A multi-value action input: one value per line (pulumi/actions' parseArray also splits on commas)."""
    return [item.strip() for item in re.split(r"[\n,]", value) if item.strip()]


def needed_jobs(workflow: dict[str, Any], job_id: str) -> set[str]:
    """Every job `job_id` waits for, directly or through other jobs."""
    needs = workflow["jobs"][job_id].get("needs", [])
    direct = {needs} if isinstance(needs, str) else set(needs)
    return direct.union(*(needed_jobs(workflow, needed) for needed in direct)) if direct else set()


def stack_files() -> set[str]:
    return {path.name.removeprefix("Pulumi.").removesuffix(".yaml") for path in REPO_ROOT.glob("Pulumi.*.yaml")}


def pack_policy_names() -> set[str]:
    """The policies the pack defines: the list policypack/__main__.py hands to `PolicyPack`."""
    from iam_trust_policies.policies import POLICIES

    return {policy.name for policy in POLICIES}


@dataclass(frozen=True)
class PackRun:
    """A pack directory and its config file, relative to the repository root."""

    directory: str
    config: str


def reproduced_pack_run() -> PackRun:
    """The pack and config the local reproduction runs, read from that test module itself."""
    spec = importlib.util.spec_from_file_location("ci_view_of_the_local_preview", LOCAL_PREVIEW_REPRODUCTION)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return PackRun(Path(module.PACK_DIR).relative_to(REPO_ROOT).as_posix(),
                   Path(module.POLICY_CONFIG_FILE).relative_to(REPO_ROOT).as_posix())


def ci_test_command() -> str:
    """The command `.ci/run` hands over to (`exec <command>`)."""
    commands = [line.removeprefix("exec ").strip() for line in CI_ENTRY_POINT.read_text().splitlines()
                if line.startswith("exec ")]
    assert len(commands) == 1, f"{CI_ENTRY_POINT} should exec exactly one command, found {commands}"
    return commands[0]


def doc_yaml_blocks(markdown: str) -> list[Any]:
    return [load_yaml(block) for block in re.findall(r"```ya?ml\n(.*?)```", markdown, re.DOTALL)]


def reusable_callers(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [job for job in document.get("jobs", {}).values()
            if str(job.get("uses", "")).split("@", 1)[0].endswith(f"/.github/workflows/{REUSABLE_WORKFLOW.name}")]


# The checks ------------------------------------------------------------------------------------------------------

_WORKFLOW_VALIDATOR = jsonschema.Draft7Validator(
    get_builtin_schema("vendor.github-workflows"), format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
)


def schema_problems(workflow: Any) -> list[str]:
    return [f"{'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}"
            for error in _WORKFLOW_VALIDATOR.iter_errors(workflow)]


def stack_problems(workflow: dict[str, Any], expected_stacks: set[str]) -> list[str]:
    """Every stack a run names has a stack file, and the workflow runs every expected stack."""
    runs = pulumi_runs(workflow)
    problems = [f"{run.job_id}: stack {run.stack!r} has no Pulumi.{run.stack}.yaml"
                for run in runs if not (REPO_ROOT / f"Pulumi.{run.stack}.yaml").is_file()]
    missing = expected_stacks - {run.stack for run in runs}
    if missing:
        problems.append(f"no pulumi run for stack(s) {sorted(missing)}")
    return problems


def pack_problems(workflow: dict[str, Any], expected: PackRun, policy_names: set[str]) -> list[str]:
    """Every preview and up enforces the pack the local reproduction runs, with config naming only its policies."""
    problems = []
    for run in pulumi_runs(workflow):
        where = f"{run.job_id} ({run.stack}, {run.command})"
        packs = lines_of(run.inputs.get("policyPacks", ""))
        configs = lines_of(run.inputs.get("policyPackConfigs", ""))
        if packs != [expected.directory] or configs != [expected.config]:
            problems.append(f"{where}: runs packs {packs} with configs {configs}, "
                            f"not [{expected.directory!r}] with [{expected.config!r}]")
        for pack in packs:
            if not (REPO_ROOT / pack / "PulumiPolicy.yaml").is_file():
                problems.append(f"{where}: pack directory {pack!r} has no PulumiPolicy.yaml")
        for config in configs:
            path = REPO_ROOT / config
            if not path.is_file():
                problems.append(f"{where}: pack config {config!r} does not exist")
                continue
            unknown = set(json.loads(path.read_text())) - policy_names
            if unknown:
                problems.append(f"{where}: {config} configures policies the pack does not define: {sorted(unknown)}")
    return problems


def ci_command_problems(workflow: dict[str, Any], command: str) -> list[str]:
    """A job runs exactly the project's test command, and every pulumi run waits for it."""
    test_jobs = {job_id for job_id, job in workflow["jobs"].items()
                 if any(str(step.get("run", "")).strip() == command for step in job.get("steps", []))}
    if not test_jobs:
        return [f"no job runs {command!r}"]
    return [f"{run.job_id} runs pulumi {run.command} without waiting for {sorted(test_jobs)}"
            for run in pulumi_runs(workflow) if not test_jobs & needed_jobs(workflow, run.job_id)]


def long_lived_key_problems(workflow_text: str) -> list[str]:
    return [f"long-lived AWS key material: {match.group(0)!r}"
            for pattern in LONG_LIVED_KEY_PATTERNS for match in pattern.finditer(workflow_text)]


def effective_permissions(workflow: dict[str, Any], job: dict[str, Any]) -> Any:
    return job["permissions"] if "permissions" in job else workflow.get("permissions")


def permission_problems(workflow: dict[str, Any]) -> list[str]:
    """Least privilege: explicit scopes for every job; an OIDC token exactly where a job assumes an AWS role, and
    that role comes from a setting (variable or input), never written into the workflow."""
    problems = []
    for job_id, job in workflow["jobs"].items():
        if "uses" in job:  # a call to a reusable workflow; checked against that workflow's needs elsewhere
            continue
        permissions = effective_permissions(workflow, job)
        if not isinstance(permissions, dict):
            problems.append(f"{job_id}: permissions are {permissions!r}, not an explicit least-privilege mapping")
            continue
        credential_steps = [step for step in job.get("steps", []) if action_name(step) == AWS_CREDENTIALS_ACTION]
        has_token = permissions.get("id-token") == "write"
        if credential_steps and not has_token:
            problems.append(f"{job_id}: assumes an AWS role without `id-token: write`")
        if has_token and not credential_steps:
            problems.append(f"{job_id}: has `id-token: write` but assumes no AWS role")
        for step in credential_steps:
            role = str(step.get("with", {}).get("role-to-assume", ""))
            if not role.startswith("${{"):
                problems.append(f"{job_id}: role-to-assume {role!r} is not read from a variable or input")
    return problems


def per_stack_role_problems(workflow: dict[str, Any]) -> list[str]:
    """Each stack's account gets its own role: two stacks never share one role setting."""
    roles_by_stack: dict[str, set[str]] = {}
    for run in pulumi_runs(workflow):
        roles_by_stack.setdefault(run.stack, set()).add(run.aws_role or "")
    problems = [f"stack {stack!r} runs without an AWS role" for stack, roles in roles_by_stack.items() if "" in roles]
    for (stack, roles), (other, other_roles) in itertools.combinations(roles_by_stack.items(), 2):
        if roles & other_roles:
            problems.append(f"stacks {stack!r} and {other!r} share the role {sorted(roles & other_roles)}")
    return problems


def deploy_problems(workflow: dict[str, Any], first: str, then: str) -> list[str]:
    """`up` of `first` precedes `up` of `then`; each runs behind its own environment, one update at a time."""
    up_jobs = {run.stack: run.job_id for run in pulumi_runs(workflow) if run.command in ("up", "update")}
    if first not in up_jobs or then not in up_jobs:
        return [f"no `up` job for {sorted({first, then} - set(up_jobs))}"]
    problems = []
    if up_jobs[first] not in needed_jobs(workflow, up_jobs[then]):
        problems.append(f"{up_jobs[then]} ({then}) does not wait for {up_jobs[first]} ({first})")
    groups = {}
    for stack, job_id in up_jobs.items():
        job = workflow["jobs"][job_id]
        environment = job.get("environment")
        environment_name = environment.get("name") if isinstance(environment, dict) else environment
        if environment_name != stack:
            problems.append(f"{job_id}: runs in environment {environment_name!r}, not {stack!r}")
        concurrency = job.get("concurrency") or {}
        groups[stack] = concurrency.get("group") if isinstance(concurrency, dict) else concurrency
        if not groups[stack] or (isinstance(concurrency, dict) and concurrency.get("cancel-in-progress")):
            problems.append(f"{job_id}: no concurrency group that queues rather than cancels updates")
    if len(set(groups.values())) != len(groups):
        problems.append(f"stacks share a concurrency group: {groups}")
    return problems


def preview_problems(workflow: dict[str, Any]) -> list[str]:
    """Every run is a preview with a rich diff, posted on the pull request."""
    return [f"{run.job_id} ({run.stack}): {key}={run.inputs.get(key)!r}, expected {expected!r}"
            for run in pulumi_runs(workflow)
            for key, expected in (("command", "preview"), ("diff", "True"), ("comment-on-pr", "True"))
            if str(run.inputs.get(key)) != expected]


def pinned_pulumi_sdk_version() -> str:
    (version,) = re.findall(r"^pulumi==(\S+)$", (REPO_ROOT / "requirements.txt").read_text(), re.MULTILINE)
    return version


def pinning_problems(workflow: dict[str, Any]) -> list[str]:
    """Actions pinned to a major version or commit, and the Pulumi CLI to the release of the pinned SDK."""
    problems = []
    cli_version = pinned_pulumi_sdk_version()
    for job_id, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            uses = step.get("uses", "")
            if uses and not uses.startswith(("./", "docker://")):
                _, _, ref = uses.partition("@")
                if not PINNED_ACTION_REF.match(ref):
                    problems.append(f"{job_id}: {uses!r} is not pinned to a major version or commit")
            if action_name(step) == PULUMI_ACTION and uses != f"{PULUMI_ACTION}@v6":
                problems.append(f"{job_id}: {uses!r}, expected {PULUMI_ACTION}@v6")
            if action_name(step) == PULUMI_ACTION and str(step.get("with", {}).get("pulumi-version")) != cli_version:
                problems.append(f"{job_id}: {PULUMI_ACTION} installs CLI {step.get('with', {}).get('pulumi-version')!r}"
                                f", expected {cli_version!r}, the release of the pulumi SDK in requirements.txt")
    return problems


def action_input_problems(workflow: dict[str, Any]) -> list[str]:
    known = {PULUMI_ACTION: PULUMI_ACTION_INPUTS, AWS_CREDENTIALS_ACTION: AWS_CREDENTIALS_INPUTS}
    return [f"{job_id}: {action_name(step)} has no input {key!r}"
            for job_id, job in workflow["jobs"].items() for step in job.get("steps", [])
            if action_name(step) in known for key in step.get("with", {}) if key not in known[action_name(step)]]


def script_injection_problems(workflow: dict[str, Any]) -> list[str]:
    return [f"{job_id}: a run script splices {match.group(0)!r}; pass it through env instead"
            for job_id, job in workflow["jobs"].items() for step in job.get("steps", [])
            for match in UNTRUSTED_IN_SCRIPT.finditer(str(step.get("run", "")))]


def undocumented_setting_problems(workflow_text: str, documentation: str) -> list[str]:
    """Every repository variable and secret a workflow reads is named in the setup documentation."""
    names = sorted({name for name in re.findall(r"\b(?:vars|secrets)\.([A-Za-z0-9_]+)", workflow_text)
                    if name != "GITHUB_TOKEN"})
    return [f"{name} is read but not documented" for name in names if f"`{name}`" not in documentation]


def declared_interface(workflow: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    call = workflow["on"]["workflow_call"]
    return call.get("inputs", {}), call.get("secrets", {})


def reusable_usage_problems(workflow: dict[str, Any], pack_directory_name: str) -> list[str]:
    """Every declared input and secret is used; the pack is checked out at the pinned version and is what
    `pulumi preview --policy-pack` runs, with the caller's `--policy-pack-config`."""
    inputs, secrets = declared_interface(workflow)
    body = json.dumps(workflow["jobs"])
    problems = [f"input {name!r} is declared but never used" for name in inputs
                if not re.search(rf"inputs\.{re.escape(name)}\b", body)]
    problems += [f"secret {name!r} is declared but never used" for name in secrets
                 if not re.search(rf"secrets\.{re.escape(name)}\b", body)]
    for job_id, job in workflow["jobs"].items():
        steps = job.get("steps", [])
        pack_checkouts = [step["with"] for step in steps if action_name(step) == "actions/checkout"
                          and "inputs.pack-version" in str(step.get("with", {}).get("ref", ""))]
        if len(pack_checkouts) != 1:
            problems.append(f"{job_id}: expected one checkout of the pack at inputs.pack-version")
            continue
        pack_path = f"{pack_checkouts[0].get('path')}/{pack_directory_name}"
        pack_directory = resolve("${{ env.PACK_DIRECTORY }}", workflow, job, {})
        if not pack_directory.endswith(pack_path):
            problems.append(f"{job_id}: PACK_DIRECTORY {pack_directory!r} is not the checked-out {pack_path!r}")
        if "inputs.pack-config" not in resolve("${{ env.PACK_CONFIG }}", workflow, job, {}):
            problems.append(f"{job_id}: PACK_CONFIG is not the caller's pack-config")
        previews = [str(step["run"]) for step in steps if "pulumi preview" in str(step.get("run", ""))]
        if not any('--policy-pack "$PACK_DIRECTORY"' in script and '--policy-pack-config "$PACK_CONFIG"' in script
                   for script in previews):
            problems.append(f"{job_id}: no `pulumi preview --policy-pack ... --policy-pack-config ...`")
    return problems


def caller_problems(caller: dict[str, Any], reusable: dict[str, Any]) -> list[str]:
    """An example caller passes every required input, only declared inputs and secrets, pins one version for both
    the workflow and the pack, and grants the permissions the reusable workflow needs."""
    inputs, secrets = declared_interface(reusable)
    needed_permissions = reusable["permissions"]
    jobs = reusable_callers(caller)
    if not jobs:
        return [f"no job calls {REUSABLE_WORKFLOW.name}"]
    problems = []
    for job in jobs:
        given = job.get("with", {})
        problems += [f"required input {name!r} is not passed" for name, spec in inputs.items()
                     if spec.get("required") and name not in given]
        problems += [f"input {name!r} is not declared" for name in given if name not in inputs]
        passed_secrets = job.get("secrets", {})
        if passed_secrets != "inherit":
            problems += [f"secret {name!r} is not declared" for name in passed_secrets if name not in secrets]
        workflow_ref = str(job["uses"]).split("@", 1)[1]
        if not PINNED_ACTION_REF.match(workflow_ref) or given.get("pack-version") != workflow_ref:
            problems.append(f"workflow ref {workflow_ref!r} and pack-version {given.get('pack-version')!r} "
                            "should be the same pinned tag or commit")
        permissions = effective_permissions(caller, job) or {}
        problems += [f"the calling job does not grant {scope}: {level}" for scope, level in needed_permissions.items()
                     if permissions.get(scope) != level]
    return problems


def step_shell(workflow: dict[str, Any], job: dict[str, Any], step: dict[str, Any]) -> list[str]:
    """How the runner invokes a `run:` script on Linux: `shell: bash` adds pipefail; no shell at all is `bash -e`."""
    shell = (step.get("shell") or job.get("defaults", {}).get("run", {}).get("shell")
             or workflow.get("defaults", {}).get("run", {}).get("shell"))
    if shell == "bash":
        return ["bash", "--noprofile", "--norc", "-eo", "pipefail"]
    assert shell is None, f"no model of shell {shell!r}"
    return ["bash", "-e"]


def run_step(workflow: dict[str, Any], job: dict[str, Any], step: dict[str, Any], cwd: Path,
             env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    script = cwd / "step.sh"
    script.write_text(step["run"])
    return subprocess.run([*step_shell(workflow, job, step), str(script)], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=60, check=False)


# Fixtures --------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def preview() -> dict[str, Any]:
    return load_workflow(PREVIEW_WORKFLOW)


@pytest.fixture(scope="module")
def deploy() -> dict[str, Any]:
    return load_workflow(DEPLOY_WORKFLOW)


@pytest.fixture(scope="module")
def reusable() -> dict[str, Any]:
    return load_workflow(REUSABLE_WORKFLOW)


@pytest.fixture(scope="module")
def example_caller() -> dict[str, Any]:
    callers = [block for block in doc_yaml_blocks(PIPELINE_DOC.read_text())
               if isinstance(block, dict) and reusable_callers(block)]
    assert len(callers) == 1, f"{PIPELINE_DOC} should hold exactly one example caller of {REUSABLE_WORKFLOW.name}"
    return callers[0]


@pytest.fixture(scope="module")
def reproduced() -> PackRun:
    return reproduced_pack_run()


def only_step(job: dict[str, Any], matches: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The job's one step that `matches`, to mutate it in place."""
    [step] = [step for step in job["steps"] if matches(step)]
    return step


def pulumi_command_step(job: dict[str, Any]) -> dict[str, Any]:
    return only_step(job, lambda step: action_name(step) == PULUMI_ACTION and "command" in step.get("with", {}))


def credentials_step(job: dict[str, Any]) -> dict[str, Any]:
    return only_step(job, lambda step: action_name(step) == AWS_CREDENTIALS_ACTION)


def script_step(job: dict[str, Any], containing: str) -> dict[str, Any]:
    return only_step(job, lambda step: containing in str(step.get("run", "")))


def pack_checkout_step(job: dict[str, Any]) -> dict[str, Any]:
    return only_step(job, lambda step: action_name(step) == "actions/checkout" and "ref" in step.get("with", {}))


def mutated(workflow: dict[str, Any]) -> dict[str, Any]:
    """An independent copy, even of parts YAML anchors share."""
    return json.loads(json.dumps(workflow))


ALL_WORKFLOWS = sorted([*WORKFLOW_DIR.glob("*.yml"), *WORKFLOW_DIR.glob("*.yaml")])
STACK_WORKFLOWS = [PREVIEW_WORKFLOW, DEPLOY_WORKFLOW]


def test_the_three_workflows_exist():
    assert {PREVIEW_WORKFLOW, DEPLOY_WORKFLOW, REUSABLE_WORKFLOW} <= set(ALL_WORKFLOWS)


# Schema ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ALL_WORKFLOWS, ids=lambda path: path.name)
def test_workflow_matches_the_github_workflow_schema(path):
    assert schema_problems(load_workflow(path)) == []


def test_schema_refuses_broken_workflows(preview, reusable):
    no_runner = mutated(preview)
    del no_runner["jobs"]["test"]["runs-on"]
    unknown_permission_level = mutated(preview)
    unknown_permission_level["jobs"]["preview"]["permissions"]["id-token"] = "read"
    undeclared_input_type = mutated(reusable)
    undeclared_input_type["on"]["workflow_call"]["inputs"]["stack-name"]["type"] = "list"

    assert schema_problems(no_runner)
    assert schema_problems(unknown_permission_level)
    assert schema_problems(undeclared_input_type)
    assert schema_problems({"name": "no trigger, no jobs"})


def test_example_caller_matches_the_github_workflow_schema(example_caller):
    assert schema_problems(example_caller) == []


# Stacks ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", STACK_WORKFLOWS, ids=lambda path: path.name)
def test_every_stack_with_a_stack_file_is_run_and_only_those(path):
    assert stack_files() == {"host", "partner"}
    assert stack_problems(load_workflow(path), stack_files()) == []


def test_a_stack_without_a_stack_file_or_a_stack_left_out_is_caught(preview, deploy):
    unknown_stack = mutated(preview)
    unknown_stack["jobs"]["preview"]["strategy"]["matrix"]["include"][1]["stack"] = "staging"
    partner_not_deployed = mutated(deploy)
    del partner_not_deployed["jobs"]["up-partner"]

    assert stack_problems(unknown_stack, stack_files()) == [
        "preview: stack 'staging' has no Pulumi.staging.yaml",
        "no pulumi run for stack(s) ['partner']",
    ]
    assert stack_problems(partner_not_deployed, stack_files()) == ["no pulumi run for stack(s) ['partner']"]


def test_runs_resolve_matrix_and_env_to_concrete_stacks(preview, deploy):
    assert [(run.command, run.stack) for run in pulumi_runs(preview)] == [("preview", "host"), ("preview", "partner")]
    assert [(run.job_id, run.stack) for run in pulumi_runs(deploy)] == [("up-host", "host"), ("up-partner", "partner")]


# Policy pack -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", STACK_WORKFLOWS, ids=lambda path: path.name)
def test_every_run_enforces_the_pack_the_local_reproduction_runs(path, reproduced):
    assert reproduced == PackRun("policypack", "policy-pack-config.json")
    assert pack_problems(load_workflow(path), reproduced, pack_policy_names()) == []


def test_pack_config_names_only_policies_the_pack_defines(reproduced):
    configured = set(json.loads((REPO_ROOT / reproduced.config).read_text()))
    assert configured
    assert configured <= pack_policy_names()


def test_a_missing_or_different_pack_or_config_or_an_unknown_policy_is_caught(deploy, reproduced):
    policies = pack_policy_names()
    no_pack = mutated(deploy)
    del pulumi_command_step(no_pack["jobs"]["up-host"])["with"]["policyPacks"]
    other_config = mutated(deploy)
    pulumi_command_step(other_config["jobs"]["up-partner"])["with"]["policyPackConfigs"] = "Pulumi.yaml.json"

    assert pack_problems(no_pack, reproduced, policies) == [
        "up-host (host, up): runs packs [] with configs ['policy-pack-config.json'], "
        "not ['policypack'] with ['policy-pack-config.json']"
    ]
    assert pack_problems(other_config, reproduced, policies) == [
        "up-partner (partner, up): runs packs ['policypack'] with configs ['Pulumi.yaml.json'], "
        "not ['policypack'] with ['policy-pack-config.json']",
        "up-partner (partner, up): pack config 'Pulumi.yaml.json' does not exist",
    ]
    assert pack_problems(deploy, PackRun("policypack", "Pulumi.yaml.json"), policies) != []
    configured = json.loads((REPO_ROOT / reproduced.config).read_text())
    one_policy = next(iter(configured))
    assert pack_problems(deploy, reproduced, policies - {one_policy}) == [
        f"{job} ({stack}, up): {reproduced.config} configures policies the pack does not define: {[one_policy]}"
        for job, stack in (("up-host", "host"), ("up-partner", "partner"))
    ]


def test_the_pr_preview_previews_with_a_diff_posted_on_the_pull_request(preview):
    assert preview_problems(preview) == []
    silent = mutated(preview)
    del pulumi_command_step(silent["jobs"]["preview"])["with"]["comment-on-pr"]
    assert preview_problems(silent) == [
        "preview (host): comment-on-pr=None, expected 'True'",
        "preview (partner): comment-on-pr=None, expected 'True'",
    ]


# Test command ----------------------------------------------------------------------------------------------------


def test_the_ci_test_command_is_the_readme_one():
    command = ci_test_command()
    assert command == "bash scripts/test"
    assert (REPO_ROOT / "scripts" / "test").is_file()
    assert README.is_file(), "README.md should name the test command"
    assert command in README.read_text()


@pytest.mark.parametrize("path", STACK_WORKFLOWS, ids=lambda path: path.name)
def test_the_project_tests_run_first_with_the_ci_command(path):
    assert ci_command_problems(load_workflow(path), ci_test_command()) == []


def test_another_test_command_or_skipping_the_tests_is_caught(preview, deploy):
    other_command = mutated(preview)
    script_step(other_command["jobs"]["test"], "scripts/test")["run"] = ".venv/bin/python -m pytest"
    deploy_without_tests = mutated(deploy)
    deploy_without_tests["jobs"]["up-host"]["needs"] = []

    assert ci_command_problems(other_command, ci_test_command()) == ["no job runs 'bash scripts/test'"]
    assert ci_command_problems(deploy_without_tests, ci_test_command()) == [
        "up-host runs pulumi up without waiting for ['test']",
        "up-partner runs pulumi up without waiting for ['test']",
    ]


# Credentials and permissions -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ALL_WORKFLOWS, ids=lambda path: path.name)
def test_no_long_lived_aws_keys(path):
    assert long_lived_key_problems(path.read_text()) == []


def test_long_lived_keys_are_caught():
    text = DEPLOY_WORKFLOW.read_text()
    with_env_key = text.replace("DEPLOY_ROLE_ARN: ${{ vars.HOST_DEPLOY_ROLE_ARN }}",
                                "AWS_ACCESS_KEY_ID: ${{ secrets.AWS_ACCESS_KEY_ID }}")
    with_action_key = text.replace("role-to-assume:", "aws-secret-access-key: ${{ secrets.KEY }}\n          x:")
    with_literal_key = text.replace("STACK: host", "STACK: host\n      KEY: AKIAIOSFODNN7EXAMPLE")

    assert len(long_lived_key_problems(with_env_key)) == 2
    assert long_lived_key_problems(with_action_key) == ["long-lived AWS key material: 'aws-secret-access-key'"]
    assert long_lived_key_problems(with_literal_key) == ["long-lived AWS key material: 'AKIAIOSFODNN7EXAMPLE'"]


@pytest.mark.parametrize("path", ALL_WORKFLOWS, ids=lambda path: path.name)
def test_oidc_token_exactly_where_an_aws_role_is_assumed(path):
    assert permission_problems(load_workflow(path)) == []


def test_missing_or_needless_oidc_token_and_broad_or_literal_credentials_are_caught(preview, deploy):
    no_token = mutated(deploy)
    del no_token["jobs"]["up-partner"]["permissions"]["id-token"]
    needless_token = mutated(preview)
    needless_token["jobs"]["test"]["permissions"] = {"contents": "read", "id-token": "write"}
    broad = mutated(preview)
    broad["permissions"] = "write-all"
    literal_role = mutated(deploy)
    literal_arn = "arn:aws:iam::111111111111:role/deploy"
    credentials_step(literal_role["jobs"]["up-host"])["with"]["role-to-assume"] = literal_arn

    assert permission_problems(no_token) == ["up-partner: assumes an AWS role without `id-token: write`"]
    assert permission_problems(needless_token) == ["test: has `id-token: write` but assumes no AWS role"]
    assert permission_problems(broad) == ["test: permissions are 'write-all', not an explicit least-privilege mapping"]
    assert permission_problems(literal_role) == [
        "up-host: role-to-assume 'arn:aws:iam::111111111111:role/deploy' is not read from a variable or input"
    ]


@pytest.mark.parametrize("path", STACK_WORKFLOWS, ids=lambda path: path.name)
def test_each_stack_assumes_its_own_role(path):
    assert per_stack_role_problems(load_workflow(path)) == []


def test_stacks_sharing_a_role_are_caught(preview, deploy):
    shared = mutated(preview)
    shared["jobs"]["preview"]["strategy"]["matrix"]["include"][1]["aws-role"] = "${{ vars.HOST_PREVIEW_ROLE_ARN }}"
    shared_deploy = mutated(deploy)
    shared_deploy["jobs"]["up-partner"]["env"]["DEPLOY_ROLE_ARN"] = "${{ vars.HOST_DEPLOY_ROLE_ARN }}"

    assert per_stack_role_problems(shared) == [
        "stacks 'host' and 'partner' share the role ['${{ vars.HOST_PREVIEW_ROLE_ARN }}']"
    ]
    assert per_stack_role_problems(shared_deploy) == [
        "stacks 'host' and 'partner' share the role ['${{ vars.HOST_DEPLOY_ROLE_ARN }}']"
    ]


@pytest.mark.parametrize("path", ALL_WORKFLOWS, ids=lambda path: path.name)
def test_every_variable_and_secret_read_is_documented(path):
    assert undocumented_setting_problems(path.read_text(), PIPELINE_DOC.read_text()) == []


def test_an_undocumented_variable_is_caught():
    text = PREVIEW_WORKFLOW.read_text().replace("vars.PULUMI_BACKEND_URL", "vars.STATE_URL")
    assert undocumented_setting_problems(text, PIPELINE_DOC.read_text()) == ["STATE_URL is read but not documented"]


# Deploy ----------------------------------------------------------------------------------------------------------


def test_host_deploys_before_partner_each_behind_its_environment(deploy):
    assert deploy["on"] == {"push": {"branches": ["main"]}}
    assert deploy_problems(deploy, "host", "partner") == []


def test_partner_before_or_beside_host_or_an_unguarded_deploy_is_caught(deploy):
    parallel = mutated(deploy)
    parallel["jobs"]["up-partner"]["needs"] = "test"
    unguarded = mutated(deploy)
    del unguarded["jobs"]["up-host"]["environment"]
    shared_lock = mutated(deploy)
    shared_lock["jobs"]["up-partner"]["concurrency"]["group"] = "pulumi-up-host"
    cancelling = mutated(deploy)
    cancelling["jobs"]["up-host"]["concurrency"]["cancel-in-progress"] = True

    assert deploy_problems(parallel, "host", "partner") == ["up-partner (partner) does not wait for up-host (host)"]
    assert deploy_problems(deploy, "partner", "host") == ["up-host (host) does not wait for up-partner (partner)"]
    assert deploy_problems(unguarded, "host", "partner") == ["up-host: runs in environment None, not 'host'"]
    assert deploy_problems(shared_lock, "host", "partner") == [
        "stacks share a concurrency group: {'host': 'pulumi-up-host', 'partner': 'pulumi-up-host'}"
    ]
    assert deploy_problems(cancelling, "host", "partner") == [
        "up-host: no concurrency group that queues rather than cancels updates"
    ]


# Actions and scripts ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ALL_WORKFLOWS, ids=lambda path: path.name)
def test_actions_are_pinned_and_given_only_inputs_they_declare(path):
    workflow = load_workflow(path)
    assert pinning_problems(workflow) == []
    assert action_input_problems(workflow) == []


def test_unpinned_actions_and_misspelt_inputs_are_caught(preview):
    unpinned = mutated(preview)
    unpinned["jobs"]["test"]["steps"][0]["uses"] = "actions/checkout@main"
    old_pulumi = mutated(preview)
    pulumi_command_step(old_pulumi["jobs"]["preview"])["uses"] = "pulumi/actions@v5"
    misspelt = mutated(preview)
    step = pulumi_command_step(misspelt["jobs"]["preview"])["with"]
    step["policy-packs"] = step.pop("policyPacks")
    other_cli = mutated(preview)
    pulumi_command_step(other_cli["jobs"]["preview"])["with"]["pulumi-version"] = "^3"

    assert pinning_problems(unpinned) == ["test: 'actions/checkout@main' is not pinned to a major version or commit"]
    assert pinning_problems(old_pulumi) == ["preview: 'pulumi/actions@v5', expected pulumi/actions@v6"]
    assert action_input_problems(misspelt) == ["preview: pulumi/actions has no input 'policy-packs'"]
    assert pinning_problems(other_cli) == [
        f"preview: pulumi/actions installs CLI '^3', expected {pinned_pulumi_sdk_version()!r}, the release of the "
        "pulumi SDK in requirements.txt"]


@pytest.mark.parametrize("path", ALL_WORKFLOWS, ids=lambda path: path.name)
def test_no_caller_or_pull_request_value_is_spliced_into_a_script(path):
    assert script_injection_problems(load_workflow(path)) == []


def test_a_spliced_input_is_caught(reusable):
    spliced = mutated(reusable)
    splicing_script = "pulumi preview --stack ${{ inputs.stack-name }}"
    script_step(spliced["jobs"]["preview"], "pulumi preview --diff")["run"] = splicing_script
    assert script_injection_problems(spliced) == [
        "preview: a run script splices '${{ inputs'; pass it through env instead"
    ]


# Reusable workflow -----------------------------------------------------------------------------------------------


def test_reusable_workflow_uses_every_input_and_runs_the_pinned_pack(reusable, reproduced):
    inputs, secrets = declared_interface(reusable)
    assert {"pack-version", "stack-name", "working-directory", "pack-config", "aws-role-to-assume", "aws-region",
            "backend-url"} <= set(inputs)
    assert {"PULUMI_ACCESS_TOKEN", "PULUMI_CONFIG_PASSPHRASE"} <= set(secrets)
    assert reusable_usage_problems(reusable, reproduced.directory) == []


def test_an_unused_input_or_an_unpinned_or_unused_pack_checkout_is_caught(reusable, reproduced):
    unused = mutated(reusable)
    unused["on"]["workflow_call"]["inputs"]["pulumi-version"] = {"type": "string", "required": False}
    unused["on"]["workflow_call"]["secrets"]["AWS_TOKEN"] = {"required": False}
    default_branch_pack = mutated(reusable)
    del pack_checkout_step(default_branch_pack["jobs"]["preview"])["with"]["ref"]
    pack_elsewhere = mutated(reusable)
    pack_elsewhere["jobs"]["preview"]["env"]["PACK_DIRECTORY"] = "${{ github.workspace }}/policypack"
    no_pack_on_preview = mutated(reusable)
    preview_without_pack = 'pulumi preview --diff --stack "$STACK_NAME"'
    script_step(no_pack_on_preview["jobs"]["preview"], "pulumi preview --diff")["run"] = preview_without_pack

    assert reusable_usage_problems(unused, reproduced.directory) == [
        "input 'pulumi-version' is declared but never used",
        "secret 'AWS_TOKEN' is declared but never used",
    ]
    assert reusable_usage_problems(default_branch_pack, reproduced.directory) == [
        "input 'pack-version' is declared but never used",
        "preview: expected one checkout of the pack at inputs.pack-version",
    ]
    assert reusable_usage_problems(pack_elsewhere, reproduced.directory) == [
        "preview: PACK_DIRECTORY '${{ github.workspace }}/policypack' is not the checked-out "
        "'.partner-access-pack/policypack'"
    ]
    assert reusable_usage_problems(no_pack_on_preview, reproduced.directory) == [
        "preview: no `pulumi preview --policy-pack ... --policy-pack-config ...`"
    ]


def test_the_documented_example_caller_passes_what_the_reusable_workflow_requires(example_caller, reusable):
    assert caller_problems(example_caller, reusable) == []


def test_a_caller_missing_inputs_or_permissions_or_pinning_is_caught(example_caller, reusable):
    job_id = next(iter(example_caller["jobs"]))
    missing_input = mutated(example_caller)
    del missing_input["jobs"][job_id]["with"]["pack-config"]
    unknown_input = mutated(example_caller)
    unknown_input["jobs"][job_id]["with"]["policy-pack"] = "policies"
    no_token = mutated(example_caller)
    no_token["jobs"][job_id]["permissions"] = {"contents": "read"}
    branch = mutated(example_caller)
    branch["jobs"][job_id]["uses"] = branch["jobs"][job_id]["uses"].split("@")[0] + "@main"

    assert caller_problems(missing_input, reusable) == ["required input 'pack-config' is not passed"]
    assert caller_problems(unknown_input, reusable) == ["input 'policy-pack' is not declared"]
    assert caller_problems(no_token, reusable) == ["the calling job does not grant id-token: write"]
    assert len(caller_problems(branch, reusable)) == 1
    assert caller_problems({"on": "push", "jobs": {}}, reusable) == ["no job calls policy-pack.yml"]


# Reading workflows (the resolver the checks rely on) -------------------------------------------------------------


def test_matrix_rows_cover_products_includes_and_excludes():
    job = {"strategy": {"matrix": {"stack": ["host", "partner"], "python": ["3.11", "3.12"],
                                   "exclude": [{"stack": "partner", "python": "3.12"}],
                                   "include": [{"stack": "host", "role": "r"}, {"stack": "extra"}]}}}
    assert matrix_rows(job) == [
        {"stack": "host", "python": "3.11", "role": "r"},
        {"stack": "host", "python": "3.12", "role": "r"},
        {"stack": "partner", "python": "3.11"},
        {"stack": "extra"},
    ]
    assert matrix_rows({}) == [{}]


def test_resolve_substitutes_matrix_and_env_and_keeps_other_expressions():
    workflow = {"env": {"REGION": "us-east-1"}}
    job = {"env": {"STACK": "${{ matrix.stack }}"}}
    assert resolve("${{ env.STACK }}-${{ env.REGION }}-${{ vars.X }}", workflow, job, {"stack": "host"}) == (
        "host-us-east-1-${{ vars.X }}"
    )
    assert resolve("${{ env.MISSING }}", workflow, job, {}) == "${{ env.MISSING }}"


# Workflow scripts, executed ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "job_id"), [(PREVIEW_WORKFLOW, "preview"), (DEPLOY_WORKFLOW, "up-host"),
                                              (DEPLOY_WORKFLOW, "up-partner")])
def test_the_region_step_reads_each_stack_files_region(path, job_id, tmp_path):
    workflow = load_workflow(path)
    job = workflow["jobs"][job_id]
    step = script_step(job, "aws:region")
    (tmp_path / ".venv").symlink_to(REPO_ROOT / ".venv")
    (tmp_path / "Pulumi.host.yaml").write_text((REPO_ROOT / "Pulumi.host.yaml").read_text())
    (tmp_path / "Pulumi.partner.yaml").write_text("config:\n  partner-access:side: partner\n")
    output = tmp_path / "github_output"

    host = run_step(workflow, job, step, tmp_path, {"STACK": "host", "GITHUB_OUTPUT": str(output)})
    partner = run_step(workflow, job, step, tmp_path, {"STACK": "partner", "GITHUB_OUTPUT": str(output)})

    assert host.returncode == 0, host.stderr
    host_region = load_yaml((REPO_ROOT / "Pulumi.host.yaml").read_text())["config"]["aws:region"]
    assert output.read_text() == f"region={host_region}\n"
    assert partner.returncode != 0  # a stack file without aws:region stops the job before AWS is touched
    assert "KeyError: 'aws:region'" in partner.stderr


@pytest.fixture
def fake_pulumi(tmp_path) -> dict[str, str]:
    """A `pulumi` on PATH that records its arguments and exits as a preview with the given outcome would."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    executable = bin_dir / "pulumi"
    executable.write_text('#!/bin/bash\nprintf "%s\\n" "$@" > "$PULUMI_ARGS_FILE"\n'
                          'echo "Policies: mandatory violation of cross-account-trust-requires-mfa"\n'
                          'exit "$FAKE_PULUMI_EXIT"\n')
    executable.chmod(executable.stat().st_mode | stat.S_IXUSR)
    return {"PATH": f"{bin_dir}:/usr/bin:/bin", "PULUMI_ARGS_FILE": str(tmp_path / "pulumi-args"),
            "RUNNER_TEMP": str(tmp_path), "STACK_NAME": "prod", "PACK_DIRECTORY": "/w/.partner-access-pack/policypack",
            "PACK_CONFIG": "/w/infra/pack.json"}


def reusable_preview(workflow: dict[str, Any], environment: dict[str, str], pulumi_exit: int,
                     cwd: Path) -> subprocess.CompletedProcess[str]:
    job = workflow["jobs"]["preview"]
    return run_step(workflow, job, script_step(job, "pulumi preview --diff"), cwd,
                    {**environment, "FAKE_PULUMI_EXIT": str(pulumi_exit)})


def test_the_reusable_preview_fails_exactly_when_pulumi_fails_and_passes_the_pack(reusable, fake_pulumi, tmp_path):
    violation = reusable_preview(reusable, fake_pulumi, 255, tmp_path)
    recorded = Path(fake_pulumi["PULUMI_ARGS_FILE"]).read_text().splitlines()
    clean = reusable_preview(reusable, fake_pulumi, 0, tmp_path)

    assert violation.returncode == 255
    assert recorded == ["preview", "--diff", "--non-interactive", "--stack", "prod",
                        "--policy-pack", "/w/.partner-access-pack/policypack",
                        "--policy-pack-config", "/w/infra/pack.json"]
    assert clean.returncode == 0
    assert "mandatory violation" in (tmp_path / "preview.txt").read_text()  # kept for the job summary


def test_a_preview_whose_pipe_swallows_the_failure_is_caught(reusable, fake_pulumi, tmp_path):
    without_pipefail = mutated(reusable)
    del without_pipefail["jobs"]["preview"]["defaults"]["run"]["shell"]

    assert reusable_preview(without_pipefail, fake_pulumi, 255, tmp_path).returncode == 0
