"""The project's own invariants over its GitHub workflows, checked offline (GitHub Actions cannot run here).

What third-party actions accept is their business (zizmor and GitHub's schema check them, test_zizmor.py); these
tests check what only this project knows: every stack file is previewed, deployed (hosts first) and checked for
drift, through the pack and config the local reproduction runs, after the project's test command; credentials reach
only the jobs and environments meant for them; the reusable workflow's interface is what its documented caller uses.
Each check returns the problems it finds and runs once on the real files (expecting none) and once on a copy broken
on purpose (expecting the problem), so each is shown to bite.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from check_jsonschema.builtin_schemas import get_builtin_schema
from ci.workflow_model import (
    AWS_CREDENTIALS_ACTION,
    REPO_ROOT,
    REPORT_SCRIPT,
    STACK_LISTING_SCRIPT,
    WORKFLOW_DIR,
    action_name,
    doc_yaml_blocks,
    effective_permissions,
    environment_name,
    load_workflow,
    load_yaml,
    matrix_source,
    needed_jobs,
    pulumi_calls,
    runs_script,
)

PREVIEW_WORKFLOW = WORKFLOW_DIR / "preview.yml"
DEPLOY_WORKFLOW = WORKFLOW_DIR / "deploy.yml"
DRIFT_WORKFLOW = WORKFLOW_DIR / "drift.yml"
REUSABLE_WORKFLOW = WORKFLOW_DIR / "policy-pack.yml"
DEPENDABOT_CONFIG = REPO_ROOT / ".github" / "dependabot.yml"
PIPELINE_DOC = REPO_ROOT / "docs" / "pipeline.md"
README = REPO_ROOT / "README.md"
CI_ENTRY_POINT = REPO_ROOT / ".ci" / "run"
ALL_WORKFLOWS = sorted([*WORKFLOW_DIR.glob("*.yml"), *WORKFLOW_DIR.glob("*.yaml")])
STACK_WORKFLOWS = [PREVIEW_WORKFLOW, DEPLOY_WORKFLOW, DRIFT_WORKFLOW]
# The local reproduction of the CI preview: every stack through the real pack over the engine protocol. The
# workflows must run the pack directory and config file it runs, so the reproduction and CI cannot drift apart.
LOCAL_PREVIEW_REPRODUCTION = REPO_ROOT / "tests" / "policypack" / "test_pack_on_program_stacks.py"
SHA_PINNED_USES = re.compile(r"^\s*(?:-\s+)?uses:\s*[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(?:\.\d+){0,2}\s*$")
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>\S+)")
LONG_LIVED_KEY_PATTERNS = (
    re.compile(r"AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY", re.IGNORECASE),
    re.compile(r"aws-access-key-id|aws-secret-access-key", re.IGNORECASE),
    re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
)
# Contexts a caller or a pull request controls; spliced into a `run:` script they become shell code.
UNTRUSTED_IN_SCRIPT = re.compile(r"\$\{\{[^}]*\b(inputs|github\.event|github\.head_ref)\b")
SECRET_REFERENCE = re.compile(r"\bsecrets\.([A-Za-z0-9_]+)")


def mutated(document: dict[str, Any]) -> dict[str, Any]:
    """An independent copy, even of parts YAML anchors share."""
    return json.loads(json.dumps(document))


@pytest.fixture(scope="module")
def workflows() -> dict[str, dict[str, Any]]:
    return {path.name: load_workflow(path) for path in ALL_WORKFLOWS}


@pytest.fixture(scope="module")
def preview(workflows) -> dict[str, Any]:
    return workflows[PREVIEW_WORKFLOW.name]


@pytest.fixture(scope="module")
def deploy(workflows) -> dict[str, Any]:
    return workflows[DEPLOY_WORKFLOW.name]


@pytest.fixture(scope="module")
def drift(workflows) -> dict[str, Any]:
    return workflows[DRIFT_WORKFLOW.name]


@pytest.fixture(scope="module")
def reusable(workflows) -> dict[str, Any]:
    return workflows[REUSABLE_WORKFLOW.name]


def reusable_callers(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [job for job in document.get("jobs", {}).values()
            if str(job.get("uses", "")).split("@", 1)[0].endswith(f"/.github/workflows/{REUSABLE_WORKFLOW.name}")]


@pytest.fixture(scope="module")
def example_caller() -> dict[str, Any]:
    callers = [block for block in doc_yaml_blocks(PIPELINE_DOC.read_text())
               if isinstance(block, dict) and reusable_callers(block)]
    assert len(callers) == 1, f"{PIPELINE_DOC} should hold exactly one example caller of {REUSABLE_WORKFLOW.name}"
    return callers[0]


def load_script(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, REPO_ROOT / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses resolve their annotations through sys.modules
    spec.loader.exec_module(module)
    return module


ci_stacks = load_script("ci_stacks")


def test_the_workflows_exist():
    assert {PREVIEW_WORKFLOW, DEPLOY_WORKFLOW, DRIFT_WORKFLOW, REUSABLE_WORKFLOW} <= set(ALL_WORKFLOWS)


# Schema ----------------------------------------------------------------------------------------------------------

_WORKFLOW_VALIDATOR = jsonschema.Draft7Validator(
    get_builtin_schema("vendor.github-workflows"), format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
)


def schema_problems(document: Any, validator: jsonschema.Validator = _WORKFLOW_VALIDATOR) -> list[str]:
    return [f"{'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}"
            for error in validator.iter_errors(document)]


@pytest.mark.parametrize("path", ALL_WORKFLOWS, ids=lambda path: path.name)
def test_workflow_matches_the_github_workflow_schema(path):
    assert schema_problems(load_workflow(path)) == []


def test_the_example_caller_and_the_dependabot_config_match_their_schemas(example_caller):
    dependabot = jsonschema.Draft7Validator(get_builtin_schema("vendor.dependabot"))
    assert schema_problems(example_caller) == []
    assert schema_problems(load_yaml(DEPENDABOT_CONFIG.read_text()), dependabot) == []
    assert schema_problems({"name": "no trigger, no jobs"})


def test_dependabot_watches_the_actions_and_every_requirements_directory():
    updates = load_yaml(DEPENDABOT_CONFIG.read_text())["updates"]
    watched = {(update["package-ecosystem"], update["directory"]) for update in updates}
    requirement_dirs = {"/" + path.parent.relative_to(REPO_ROOT).as_posix().removeprefix(".")
                        for path in REPO_ROOT.glob("**/requirements*.txt")
                        if not any(part in {".venv", "venv"} for part in path.parts)}
    assert ("github-actions", "/") in watched
    assert {("pip", directory.replace("//", "/")) for directory in requirement_dirs} <= watched


# Every stack, hosts first ---------------------------------------------------------------------------------------


def stack_matrix_problems(workflow: dict[str, Any], required_outputs: set[str]) -> list[str]:
    """Every pulumi job runs one matrix row per stack, from the listing job's outputs; together those outputs are
    `required_outputs` (every stack, or hosts and partners), and each job passes its row's stack to pulumi."""
    problems = []
    used = set()
    for call in pulumi_calls(workflow):
        job = workflow["jobs"][call.job_id]
        source = matrix_source(job)
        if source is None or not runs_script(workflow["jobs"].get(source[0], {}), STACK_LISTING_SCRIPT):
            problems.append(f"{call.job_id}: its matrix is not the stack listing of {STACK_LISTING_SCRIPT}")
            continue
        if source[0] not in needed_jobs(workflow, call.job_id):
            problems.append(f"{call.job_id}: reads {source[0]}'s outputs without needing it")
        used.add(source[1])
        if call.flags.get("stack") != "$STACK" or job.get("env", {}).get("STACK") != "${{ matrix.stack }}":
            problems.append(f"{call.job_id}: pulumi {call.command} does not run the matrix row's stack")
    if required_outputs - used:
        problems.append(f"no pulumi job runs the stacks of {sorted(required_outputs - used)}")
    return problems


@pytest.mark.parametrize(("path", "outputs"), [(PREVIEW_WORKFLOW, {"stacks"}),
                                               (DEPLOY_WORKFLOW, {"hosts", "partners"}),
                                               (DRIFT_WORKFLOW, {"stacks"})], ids=["preview", "deploy", "drift"])
def test_every_stack_workflow_runs_every_listed_stack(path, outputs):
    assert stack_matrix_problems(load_workflow(path), outputs) == []


def test_a_hard_coded_matrix_or_a_side_left_out_is_caught(preview, deploy):
    hard_coded = mutated(preview)
    hard_coded["jobs"]["preview"]["strategy"]["matrix"]["include"] = [{"stack": "host", "region": "us-east-1"}]
    partners_left_out = mutated(deploy)
    del partners_left_out["jobs"]["up-partners"]

    assert stack_matrix_problems(hard_coded, {"stacks"}) == [
        "preview: its matrix is not the stack listing of scripts/ci_stacks.py",
        "no pulumi job runs the stacks of ['stacks']",
    ]
    assert stack_matrix_problems(partners_left_out, {"hosts", "partners"}) == [
        "no pulumi job runs the stacks of ['partners']"
    ]


def test_every_stack_file_has_a_preview_and_a_deploy_path():
    """A stack file is previewed (the `stacks` listing) and deployed (as a host or as a partner), whatever its name."""
    outputs = ci_stacks.matrix_outputs(ci_stacks.stack_entries(REPO_ROOT))
    previewed = {row["stack"] for row in json.loads(outputs["stacks"])}
    deployed = {row["stack"] for output in ("hosts", "partners") for row in json.loads(outputs[output])}
    stack_files = {path.name.removeprefix("Pulumi.").removesuffix(".yaml") for path in REPO_ROOT.glob("Pulumi.*.yaml")}
    assert stack_files == previewed == deployed


def test_a_new_accounts_stack_file_is_listed_and_a_broken_one_is_refused(tmp_path):
    for name in ("host", "partner"):
        (tmp_path / f"Pulumi.{name}.yaml").write_text((REPO_ROOT / f"Pulumi.{name}.yaml").read_text())
    (tmp_path / "Pulumi.partner-c.yaml").write_text(
        "config:\n  partner-access:side: partner\n  aws:region: eu-west-1\n")
    outputs = ci_stacks.matrix_outputs(ci_stacks.stack_entries(tmp_path))
    assert [row["stack"] for row in json.loads(outputs["partners"])] == ["partner", "partner-c"]
    assert json.loads(outputs["partners"])[1] == {"stack": "partner-c", "side": "partner", "region": "eu-west-1"}

    (tmp_path / "Pulumi.typo.yaml").write_text("config:\n  partner-access:sde: host\n  aws:region: eu-west-1\n")
    output = tmp_path / "github_output"
    completed = subprocess.run([sys.executable, str(REPO_ROOT / STACK_LISTING_SCRIPT), "--project-dir", str(tmp_path),
                                "--github-output", str(output)], capture_output=True, text=True, check=False)
    assert completed.returncode == 1
    assert completed.stderr == ("ci_stacks: Pulumi.typo.yaml: partner-access:side is None; "
                                "set it to one of: host, partner\n")
    assert not output.exists()


def host_before_partner_problems(workflow: dict[str, Any]) -> list[str]:
    """The partner stacks' job waits for the host stacks' job; each deploys in its stack's environment, one update
    per stack at a time, never cancelling a running one."""
    jobs = {matrix_source(workflow["jobs"][call.job_id])[1]: call.job_id  # type: ignore[index]
            for call in pulumi_calls(workflow) if matrix_source(workflow["jobs"][call.job_id])}
    if not {"hosts", "partners"} <= set(jobs):
        return [f"no deploy job for {sorted({'hosts', 'partners'} - set(jobs))}"]
    problems = []
    if jobs["hosts"] not in needed_jobs(workflow, jobs["partners"]):
        problems.append(f"{jobs['partners']} does not wait for {jobs['hosts']}")
    for job_id in jobs.values():
        job = workflow["jobs"][job_id]
        if environment_name(job) != "${{ matrix.stack }}":
            problems.append(f"{job_id}: runs in environment {environment_name(job)!r}, not the stack's own")
        concurrency = job.get("concurrency") or {}
        if "matrix.stack" not in str(concurrency.get("group")) or concurrency.get("cancel-in-progress") is not False:
            problems.append(f"{job_id}: no per-stack concurrency group that leaves a running update alone")
    return problems


def test_hosts_deploy_before_partners_each_in_its_environment(deploy):
    assert host_before_partner_problems(deploy) == []


def test_partners_beside_hosts_or_a_shared_environment_or_cancelled_updates_are_caught(deploy):
    beside = mutated(deploy)
    beside["jobs"]["up-partners"]["needs"] = ["test"]
    shared = mutated(deploy)
    shared["jobs"]["up-hosts"]["environment"] = "production"
    cancelling = mutated(deploy)
    cancelling["jobs"]["up-partners"]["concurrency"]["cancel-in-progress"] = True

    assert host_before_partner_problems(beside) == ["up-partners does not wait for up-hosts"]
    assert host_before_partner_problems(shared) == ["up-hosts: runs in environment 'production', not the stack's own"]
    assert host_before_partner_problems(cancelling) == [
        "up-partners: no per-stack concurrency group that leaves a running update alone"
    ]


# Pack and config parity ------------------------------------------------------------------------------------------


def reproduced_pack_run() -> tuple[str, str]:
    """The pack directory and config file the local reproduction runs, read from that test module itself."""
    spec = importlib.util.spec_from_file_location("ci_view_of_the_local_preview", LOCAL_PREVIEW_REPRODUCTION)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return (Path(module.PACK_DIR).relative_to(REPO_ROOT).as_posix(),
            Path(module.POLICY_CONFIG_FILE).relative_to(REPO_ROOT).as_posix())


def pack_policy_names() -> set[str]:
    from iam_trust_policies.policies import POLICIES

    return {policy.name for policy in POLICIES}


def pack_problems(workflow: dict[str, Any], pack: str, config: str) -> list[str]:
    """Every preview and up runs the reproduction's pack and config, and keeps an event log its report reads."""
    problems = []
    for call in pulumi_calls(workflow):
        where = f"{call.job_id} (pulumi {call.command})"
        if (call.flags.get("policy-pack"), call.flags.get("policy-pack-config")) != (pack, config):
            problems.append(f"{where}: runs pack {call.flags.get('policy-pack')!r} with config "
                            f"{call.flags.get('policy-pack-config')!r}, not {pack!r} with {config!r}")
        if "expect-no-changes" in call.flags and "refresh" not in call.flags:
            problems.append(f"{where}: --expect-no-changes without --refresh cannot see drift")
        problems += report_problems(workflow, call)
    return problems


def report_problems(workflow: dict[str, Any], call: Any) -> list[str]:
    """A later step of the same job, run whatever the outcome, reports the call's event log."""
    steps = workflow["jobs"][call.job_id]["steps"]
    event_log = call.flags.get("event-log")
    reports = [step for step in steps[call.step_index + 1:]
               if REPORT_SCRIPT.rsplit("/", 1)[-1] in str(step.get("run", ""))
               and f'--events "{event_log}"' in str(step.get("run", "")) and step.get("if") == "always()"]
    if event_log and reports:
        return []
    return [f"{call.job_id}: no `if: always()` report of pulumi {call.command}'s events"]


@pytest.mark.parametrize("path", STACK_WORKFLOWS, ids=lambda path: path.name)
def test_every_run_enforces_the_pack_the_local_reproduction_runs_and_is_reported(path):
    pack, config = reproduced_pack_run()
    assert (pack, config) == ("policypack", "policy-pack-config.json")
    assert pack_problems(load_workflow(path), pack, config) == []


def test_the_pack_config_names_only_policies_the_pack_defines():
    configured = set(json.loads((REPO_ROOT / "policy-pack-config.json").read_text()))
    assert configured
    assert configured <= pack_policy_names()


def test_another_pack_or_config_or_an_unreported_run_is_caught(deploy, drift):
    other_config = mutated(deploy)
    step = other_config["jobs"]["up-hosts"]["steps"][5]
    step["run"] = step["run"].replace("policy-pack-config.json", "other.json")
    unreported = mutated(drift)
    unreported["jobs"]["drift"]["steps"][6]["if"] = "success()"
    blind = mutated(drift)
    step = blind["jobs"]["drift"]["steps"][5]
    step["run"] = step["run"].replace("--refresh ", "")

    assert pack_problems(other_config, "policypack", "policy-pack-config.json") == [
        "up-hosts (pulumi up): runs pack 'policypack' with config 'other.json', not 'policypack' with "
        "'policy-pack-config.json'"
    ]
    assert pack_problems(unreported, "policypack", "policy-pack-config.json") == [
        "drift: no `if: always()` report of pulumi preview's events"
    ]
    assert pack_problems(blind, "policypack", "policy-pack-config.json") == [
        "drift (pulumi preview): --expect-no-changes without --refresh cannot see drift"
    ]


def test_the_pull_request_report_is_written_whatever_the_previews_did(preview):
    report = preview["jobs"]["report"]
    assert report["if"] == "${{ !cancelled() }}"  # on success and failure; a superseded run's report would be stale
    assert {"test", "preview"} <= needed_jobs(preview, "report")
    scripts = " ".join(str(step.get("run", "")) for step in report["steps"])
    assert "preview_report.py comment" in scripts
    [comment] = [step for step in report["steps"] if action_name(step) == "actions/github-script"]
    # The comment is found again by the report's first line, the marker preview_report.py writes.
    assert "body.split('\\n', 1)[0]" in comment["with"]["script"]
    assert "updateComment" in comment["with"]["script"]
    # The report check stands for every stack: it fails unless the previews all passed (forks excepted).
    [gate] = [step for step in report["steps"] if "needs.preview.result != 'success'" in str(step.get("if"))]
    assert gate["if"] == "env.UNPRIVILEGED != 'true' && needs.preview.result != 'success'"
    assert gate["run"].rstrip().endswith("exit 1")


def test_drift_is_checked_on_a_schedule_and_reported_in_one_issue(drift):
    assert drift["on"]["schedule"] and "workflow_dispatch" in drift["on"]
    [call] = pulumi_calls(drift)
    assert (call.command, call.flags.get("refresh"), call.flags.get("expect-no-changes")) == ("preview", True, True)
    issue = drift["jobs"]["issue"]
    assert issue["if"] == "failure()" and issue["needs"] == "drift"
    assert issue["permissions"] == {"issues": "write"}
    script = issue["steps"][0]["with"]["script"]
    # One issue: an open one with the same title gets a comment instead of a second issue.
    assert "issue.title === title" in script and "createComment" in script


# Test command ----------------------------------------------------------------------------------------------------


def ci_test_command() -> str:
    """The command `.ci/run` hands over to (`exec <command>`)."""
    commands = [line.removeprefix("exec ").strip() for line in CI_ENTRY_POINT.read_text().splitlines()
                if line.startswith("exec ")]
    assert len(commands) == 1, f"{CI_ENTRY_POINT} should exec exactly one command, found {commands}"
    return commands[0]


def ci_command_problems(workflow: dict[str, Any], command: str) -> list[str]:
    """A job runs exactly the project's test command, and every pulumi job waits for it."""
    test_jobs = {job_id for job_id, job in workflow["jobs"].items()
                 if any(str(step.get("run", "")).strip() == command for step in job.get("steps", []))}
    if not test_jobs:
        return [f"no job runs {command!r}"]
    return sorted({f"{call.job_id} runs pulumi {call.command} without waiting for {sorted(test_jobs)}"
                   for call in pulumi_calls(workflow) if not test_jobs & needed_jobs(workflow, call.job_id)})


def test_the_ci_test_command_is_the_readme_one():
    command = ci_test_command()
    assert command == "bash scripts/test"
    assert (REPO_ROOT / "scripts" / "test").is_file()
    assert command in README.read_text()


@pytest.mark.parametrize("path", [PREVIEW_WORKFLOW, DEPLOY_WORKFLOW], ids=lambda path: path.name)
def test_the_project_tests_run_first_with_the_ci_command(path):
    assert ci_command_problems(load_workflow(path), ci_test_command()) == []


def test_another_test_command_or_skipping_the_tests_is_caught(preview, deploy):
    other_command = mutated(preview)
    other_command["jobs"]["test"]["steps"][2]["run"] = ".venv/bin/python -m pytest"
    deploy_without_tests = mutated(deploy)
    deploy_without_tests["jobs"]["up-hosts"]["needs"] = []
    deploy_without_tests["jobs"]["up-partners"]["needs"] = ["up-hosts"]

    assert ci_command_problems(other_command, ci_test_command()) == ["no job runs 'bash scripts/test'"]
    assert ci_command_problems(deploy_without_tests, ci_test_command()) == [
        "up-hosts runs pulumi up without waiting for ['test']",
        "up-partners runs pulumi up without waiting for ['test']",
    ]


# Credentials and permissions -------------------------------------------------------------------------------------


def permission_problems(workflow: dict[str, Any]) -> list[str]:
    """No workflow-wide grant; every job states its scopes; an OIDC token exactly where a job assumes an AWS role,
    from a variable or input; write access to pull requests or issues never beside AWS credentials."""
    problems = []
    if workflow.get("permissions") not in ({}, None) or "id-token" in str(workflow.get("permissions")):
        problems.append(f"workflow-level permissions {workflow.get('permissions')!r}; grant them per job")
    for job_id, job in workflow["jobs"].items():
        if "uses" in job:  # a call to a reusable workflow: checked against that workflow's needs
            continue
        permissions = job.get("permissions")
        if not isinstance(permissions, dict):
            problems.append(f"{job_id}: permissions {permissions!r} are not an explicit per-job mapping")
            continue
        credential_steps = [step for step in job.get("steps", []) if action_name(step) == AWS_CREDENTIALS_ACTION]
        has_token = permissions.get("id-token") == "write"
        if credential_steps and not has_token:
            problems.append(f"{job_id}: assumes an AWS role without `id-token: write`")
        if has_token and not credential_steps:
            problems.append(f"{job_id}: has `id-token: write` but assumes no AWS role")
        if credential_steps and any(permissions.get(scope) == "write" for scope in ("pull-requests", "issues")):
            problems.append(f"{job_id}: can write to GitHub while holding AWS credentials")
        for step in credential_steps:
            role = str(step.get("with", {}).get("role-to-assume", ""))
            if not role.startswith("${{"):
                problems.append(f"{job_id}: role-to-assume {role!r} is not read from a variable or input")
    return problems


@pytest.mark.parametrize("path", ALL_WORKFLOWS, ids=lambda path: path.name)
def test_permissions_are_per_job_and_minimal(path):
    assert permission_problems(load_workflow(path)) == []


def test_broad_or_needless_permissions_are_caught(preview, deploy):
    workflow_wide = mutated(deploy)
    workflow_wide["permissions"] = {"contents": "read", "id-token": "write"}
    needless = mutated(preview)
    needless["jobs"]["test"]["permissions"]["id-token"] = "write"
    commenting_with_credentials = mutated(preview)
    commenting_with_credentials["jobs"]["preview"]["permissions"]["pull-requests"] = "write"
    implicit = mutated(deploy)
    del implicit["jobs"]["test"]["permissions"]

    assert permission_problems(workflow_wide) == [
        "workflow-level permissions {'contents': 'read', 'id-token': 'write'}; grant them per job"
    ]
    assert permission_problems(needless) == ["test: has `id-token: write` but assumes no AWS role"]
    assert permission_problems(commenting_with_credentials) == [
        "preview: can write to GitHub while holding AWS credentials"
    ]
    assert permission_problems(implicit) == ["test: permissions None are not an explicit per-job mapping"]


def environment_problems(workflow: dict[str, Any], preview_only: bool) -> list[str]:
    """Secrets and AWS roles only in jobs that run in an environment: the stack's `-preview` one for previews and
    drift checks, the stack's own protected one for deploys."""
    problems = []
    for job_id, job in workflow["jobs"].items():
        body = json.dumps(job)
        holds_credentials = bool(SECRET_REFERENCE.search(body.replace("secrets.GITHUB_TOKEN", ""))) or any(
            action_name(step) == AWS_CREDENTIALS_ACTION for step in job.get("steps", []))
        if not holds_credentials:
            continue
        expected = "${{ matrix.stack }}-preview" if preview_only else "${{ matrix.stack }}"
        if environment_name(job) != expected:
            problems.append(f"{job_id}: uses credentials in environment {environment_name(job)!r}, not {expected!r}")
    return problems


@pytest.mark.parametrize(("path", "preview_only"), [(PREVIEW_WORKFLOW, True), (DRIFT_WORKFLOW, True),
                                                    (DEPLOY_WORKFLOW, False)], ids=["preview", "drift", "deploy"])
def test_credentials_only_in_the_stacks_environments(path, preview_only):
    assert environment_problems(load_workflow(path), preview_only) == []


def test_credentials_outside_the_environment_or_in_the_deploy_one_are_caught(preview):
    outside = mutated(preview)
    del outside["jobs"]["preview"]["environment"]
    deploy_environment = mutated(preview)
    deploy_environment["jobs"]["preview"]["environment"] = "${{ matrix.stack }}"

    assert environment_problems(outside, True) == [
        "preview: uses credentials in environment None, not '${{ matrix.stack }}-preview'"
    ]
    assert environment_problems(deploy_environment, True) == [
        "preview: uses credentials in environment '${{ matrix.stack }}', not '${{ matrix.stack }}-preview'"
    ]


def test_pull_requests_without_credentials_skip_the_preview_instead_of_failing(preview):
    """Forks get no secrets or OIDC token, Dependabot only its own secrets; the report job's condition mirrors it."""
    assert preview["jobs"]["preview"]["if"] == (
        "github.event.pull_request.head.repo.full_name == github.repository && github.actor != 'dependabot[bot]'")
    assert preview["jobs"]["report"]["env"]["UNPRIVILEGED"] == (
        "${{ github.event.pull_request.head.repo.full_name != github.repository "
        "|| github.actor == 'dependabot[bot]' }}")


def long_lived_key_problems(text: str) -> list[str]:
    return [f"long-lived AWS key material: {match.group(0)!r}"
            for pattern in LONG_LIVED_KEY_PATTERNS for match in pattern.finditer(text)]


@pytest.mark.parametrize("path", ALL_WORKFLOWS, ids=lambda path: path.name)
def test_no_long_lived_aws_keys(path):
    assert long_lived_key_problems(path.read_text()) == []


def test_long_lived_keys_are_caught():
    assert long_lived_key_problems("AWS_ACCESS_KEY_ID: ${{ secrets.KEY }}\nid: AKIAIOSFODNN7EXAMPLE") == [
        "long-lived AWS key material: 'AWS_ACCESS_KEY_ID'",
        "long-lived AWS key material: 'AKIAIOSFODNN7EXAMPLE'",
    ]


def script_injection_problems(workflow: dict[str, Any]) -> list[str]:
    return [f"{job_id}: a run script splices {match.group(0)!r}; pass it through env instead"
            for job_id, job in workflow["jobs"].items() for step in job.get("steps", [])
            for match in UNTRUSTED_IN_SCRIPT.finditer(str(step.get("run", "")))]


@pytest.mark.parametrize("path", ALL_WORKFLOWS, ids=lambda path: path.name)
def test_no_caller_or_pull_request_value_is_spliced_into_a_script(path):
    assert script_injection_problems(load_workflow(path)) == []


def test_a_spliced_input_is_caught(reusable):
    spliced = mutated(reusable)
    spliced["jobs"]["preview"]["steps"][-1]["run"] = 'echo "${{ inputs.stack-name }}"'
    assert script_injection_problems(spliced) == [
        "preview: a run script splices '${{ inputs'; pass it through env instead"
    ]


def undocumented_setting_problems(workflow_text: str, documentation: str) -> list[str]:
    """Every variable and secret a workflow reads is named in the setup documentation."""
    names = sorted({name for name in re.findall(r"\b(?:vars|secrets)\.([A-Za-z0-9_]+)", workflow_text)
                    if name != "GITHUB_TOKEN"})
    return [f"{name} is read but not documented" for name in names if f"`{name}`" not in documentation]


@pytest.mark.parametrize("path", ALL_WORKFLOWS, ids=lambda path: path.name)
def test_every_variable_and_secret_read_is_documented(path):
    assert undocumented_setting_problems(path.read_text(), PIPELINE_DOC.read_text()) == []


def test_an_undocumented_variable_is_caught():
    assert undocumented_setting_problems("${{ vars.SOMETHING_NEW }}", PIPELINE_DOC.read_text()) == [
        "SOMETHING_NEW is read but not documented"
    ]


# Pins ------------------------------------------------------------------------------------------------------------


def pin_problems(workflow_text: str) -> list[str]:
    """Every action is pinned to a full commit SHA with its version in a comment (the form Dependabot updates)."""
    problems = []
    for line in workflow_text.splitlines():
        match = USES_LINE.match(line)
        if match and not match["ref"].startswith("./") and not SHA_PINNED_USES.match(line):
            problems.append(f"{match['ref']} is not pinned as <owner>/<repo>@<commit SHA> # v<version>")
    return problems


def pinned_pulumi_sdk_version() -> str:
    (version,) = re.findall(r"^pulumi==(\S+)$", (REPO_ROOT / "requirements.txt").read_text(), re.MULTILINE)
    return version


@pytest.mark.parametrize("path", ALL_WORKFLOWS, ids=lambda path: path.name)
def test_actions_are_sha_pinned_and_the_cli_matches_the_sdk(path):
    text = path.read_text()
    assert pin_problems(text) == []
    versions = set(re.findall(r'pulumi-version: "([^"]+)"', text))
    assert versions <= {pinned_pulumi_sdk_version()}


def test_a_tag_pin_or_a_sha_without_its_version_is_caught():
    assert pin_problems("      - uses: actions/checkout@v7\n"
                        "      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1\n"
                        "        uses: ./local-action\n") == [
        "actions/checkout@v7 is not pinned as <owner>/<repo>@<commit SHA> # v<version>",
        "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 is not pinned as <owner>/<repo>@<commit SHA> "
        "# v<version>",
    ]


# The reusable workflow's interface -------------------------------------------------------------------------------


def declared_interface(workflow: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    call = workflow["on"]["workflow_call"]
    return call.get("inputs", {}), call.get("secrets", {})


def reusable_problems(workflow: dict[str, Any]) -> list[str]:
    """Every input and secret is used; the pack is checked out at the pinned version and is what the preview runs,
    with the caller's config; everything the preview needs is set up in the job itself, from inputs."""
    inputs, secrets = declared_interface(workflow)
    body = json.dumps(workflow["jobs"])
    problems = [f"input {name!r} is declared but never used" for name in inputs
                if not re.search(rf"inputs\.{re.escape(name)}\b", body)]
    problems += [f"secret {name!r} is declared but never used" for name in secrets
                 if not re.search(rf"secrets\.{re.escape(name)}\b", body)]
    for job_id, job in workflow["jobs"].items():
        if job.get("needs"):
            problems.append(f"{job_id}: relies on another job ({job['needs']}); each job is a fresh runner")
        checkouts = [step["with"] for step in job["steps"] if action_name(step) == "actions/checkout"
                     and "inputs.pack-version" in str(step.get("with", {}).get("ref", ""))]
        if len(checkouts) != 1 or not str(job["env"]["PACK_DIRECTORY"]).endswith(f"{checkouts[0]['path']}/policypack"):
            problems.append(f"{job_id}: PACK_DIRECTORY is not the policypack/ of one checkout at inputs.pack-version")
        calls = [call for call in pulumi_calls(workflow) if call.job_id == job_id]
        if [(call.flags.get("policy-pack"), call.flags.get("policy-pack-config")) for call in calls] != [
                ("$PACK_DIRECTORY", "$PACK_CONFIG")] or "inputs.pack-config" not in str(job["env"]["PACK_CONFIG"]):
            problems.append(f"{job_id}: the preview does not run the checked-out pack with the caller's pack-config")
    return problems


def test_the_reusable_workflow_uses_its_interface_and_runs_the_pinned_pack(reusable):
    assert reusable_problems(reusable) == []
    inputs, _ = declared_interface(reusable)
    assert {"node-version", "go-version", "dotnet-version", "install-command"} <= set(inputs)


def test_an_unused_input_or_a_set_up_job_or_another_pack_is_caught(reusable):
    unused = mutated(reusable)
    unused["on"]["workflow_call"]["inputs"]["extra"] = {"type": "string"}
    set_up_elsewhere = mutated(reusable)
    set_up_elsewhere["jobs"]["preview"]["needs"] = ["setup"]
    other_pack = mutated(reusable)
    other_pack["jobs"]["preview"]["env"]["PACK_DIRECTORY"] = "${{ github.workspace }}/policypack"

    assert reusable_problems(unused) == ["input 'extra' is declared but never used"]
    assert reusable_problems(set_up_elsewhere) == [
        "preview: relies on another job (['setup']); each job is a fresh runner"
    ]
    assert reusable_problems(other_pack) == [
        "preview: PACK_DIRECTORY is not the policypack/ of one checkout at inputs.pack-version"
    ]


def caller_problems(caller: dict[str, Any], reusable: dict[str, Any]) -> list[str]:
    """An example caller passes every required input and only declared ones, pins one version for the workflow and
    the pack, and grants every permission the reusable workflow's jobs ask for."""
    inputs, secrets = declared_interface(reusable)
    needed = {scope: level for job in reusable["jobs"].values() for scope, level in job["permissions"].items()}
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
        if not re.fullmatch(r"v\d+\.\d+\.\d+|[0-9a-f]{40}", workflow_ref) or given.get("pack-version") != workflow_ref:
            problems.append(f"workflow ref {workflow_ref!r} and pack-version {given.get('pack-version')!r} "
                            "should be the same pinned tag or commit")
        permissions = effective_permissions(caller, job) or {}
        problems += [f"the calling job does not grant {scope}: {level}" for scope, level in needed.items()
                     if permissions.get(scope) != level]
    return problems


def test_the_documented_example_caller_passes_what_the_reusable_workflow_requires(example_caller, reusable):
    assert caller_problems(example_caller, reusable) == []


def test_a_caller_missing_inputs_or_permissions_or_pinning_is_caught(example_caller, reusable):
    broken = mutated(example_caller)
    [job] = reusable_callers(broken)
    del job["with"]["stack-name"]
    job["with"]["stack"] = "prod"
    del job["permissions"]["id-token"]
    job["uses"] = job["uses"].split("@")[0] + "@main"

    assert caller_problems(broken, reusable) == [
        "required input 'stack-name' is not passed",
        "input 'stack' is not declared",
        f"workflow ref 'main' and pack-version {job['with']['pack-version']!r} should be the same pinned tag or commit",
        "the calling job does not grant id-token: write",
    ]


# The preview job's scripts, executed -----------------------------------------------------------------------------


def run_script(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A `run:` script as the runner runs one on Linux without a `shell:`: `bash -e {file}`."""
    path = cwd / "step.sh"
    path.write_text(script)
    return subprocess.run(["bash", "-e", str(path)], cwd=cwd, env=env, capture_output=True, text=True, timeout=60,
                          check=False)


def test_a_mandatory_violation_fails_the_preview_step_and_the_always_step_reports_it(preview, tmp_path):
    """A fake `pulumi` writes the event log the CLI would and exits as a failed preview: the preview step fails
    with it, and the report step that follows names the violation in the job summary."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "pulumi"
    fixture = Path(__file__).with_name("fixtures") / "host-mfa-removed.events.jsonl"
    fake.write_text('#!/bin/bash\nprintf "%s\\n" "$@" > "$RUNNER_TEMP/args"\n'
                    'while [ $# -gt 0 ]; do [ "$1" = --event-log ] && cp "$FIXTURE" "$2"; shift; done\nexit 255\n')
    fake.chmod(0o755)
    env = {"PATH": f"{bin_dir}:{Path(sys.executable).parent}:/usr/bin:/bin", "RUNNER_TEMP": str(tmp_path),
           "STACK": "host", "FIXTURE": str(fixture), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
           "PULUMI_DEBUG_COMMANDS": "true"}
    steps = preview["jobs"]["preview"]["steps"]
    [preview_step] = [step for step in steps if step.get("id") == "preview"]
    [report_step] = [step for step in steps if REPORT_SCRIPT.rsplit("/", 1)[-1] in str(step.get("run", ""))]
    (tmp_path / "scripts").symlink_to(REPO_ROOT / "scripts")

    failed = run_script(preview_step["run"], tmp_path, env)
    reported = run_script(report_step["run"].replace("python ", f"{sys.executable} "), tmp_path,
                          {**env, "OUTCOME": "failure"})

    assert failed.returncode == 255
    assert (tmp_path / "args").read_text().split() == [
        "preview", "--diff", "--non-interactive", "--color", "never", "--stack", "host", "--policy-pack", "policypack",
        "--policy-pack-config", "policy-pack-config.json", "--event-log", str(tmp_path / "events.jsonl")]
    assert reported.returncode == 0, reported.stderr
    assert reported.stdout.startswith("::error title=host%3A cross-account-trust-requires-mfa (mandatory)::")
    assert "#### `host`: preview failed: 1 mandatory violation" in (tmp_path / "summary.md").read_text()
    assert json.loads((tmp_path / "report" / "host.json").read_text())["violations"][0]["level"] == "mandatory"
