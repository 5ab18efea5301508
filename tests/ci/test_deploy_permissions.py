"""The CI roles' policies (partner_access/deploy_permissions.py) against what the program really registers.

The program runs under mocks for a host and a partner stack with grants that use every kind of resource (managed and
inline policies, a path, a boundary, tags, users, a created group with members, an existing group); every resource
it registers must be a type the permission table knows, and every call the provider makes for that resource (its
create, read, update and delete) must be allowed by the deploy role's policy on that resource's ARN, with the request
context IAM would see (`iam:PolicyARN` on attachments, `iam:PermissionsBoundary` on a bounded role), as an
independent evaluator (principalmapper) decides. Calls outside the grants (another policy, AdministratorAccess on a
user, another group, another role) must be denied. moto's IAM accepts the generated documents as policies.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import pytest
import yaml
from ci.workflow_model import REPO_ROOT

from components.grant_model import parse_grants
from partner_access.deploy_permissions import (
    CALLS_BY_TYPE,
    LIFECYCLES,
    MANAGED_POLICY_MAX_CHARACTERS,
    actions_table,
    deploy_role_policy,
    policy_size,
    preview_role_policy,
    side_actions,
)

# principalmapper through the module that makes it importable on current Pythons (and keeps it test-only).
from support.iam_evaluator import Node, Policy, local_check_authorization_full
from support.moto_accounts import emulated_iam, in_account

# The program under mocks. Its harness is imported only here, so moving it means changing this one line.
from support.program_runner import RecordedResource, reveal, run_program

HOST, PARTNER = "111111111111", "222222222222"
BOUNDARY = f"arn:aws:iam::{HOST}:policy/partner-boundary"
EXTRA_POLICY = f"arn:aws:iam::{HOST}:policy/team/partner-extra"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
GRANTS: list[dict[str, Any]] = [
    {
        "roleName": "ops-read",
        "hostAccountId": HOST,
        "partnerAccountId": PARTNER,
        "managedPolicyArns": ["arn:aws:iam::aws:policy/ReadOnlyAccess", EXTRA_POLICY],
        "partnerPolicyName": "get-ops-read",
        "partnerUsers": ["alice", "carol"],
        "partnerGroup": {"name": "ops", "members": ["bob"]},
    },
    {
        "name": "bounded",
        "roleName": "bounded-admin",
        "rolePath": "/partners/",
        "hostAccountId": HOST,
        "partnerAccountId": PARTNER,
        "description": "bounded",
        "permissionsBoundaryArn": BOUNDARY,
        "inlinePolicy": {"Version": "2012-10-17",
                         "Statement": [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}]},
        "tags": {"team": "partners"},
        "partnerGroup": {"name": "existing-operators", "create": False},
    },
]
# The docs' sample grant (docs/pipeline.md shows the deploy policies for it).
DOCS_SAMPLE_GRANT = [{
    "roleName": "ex-for-aws-b", "hostAccountId": HOST, "partnerAccountId": PARTNER,
    "managedPolicyArns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"], "partnerPolicyName": "get-access-aws-a",
    "partnerUsers": ["alice"], "partnerGroup": {"name": "aws-a-operators", "members": ["bob"]},
}]
SIDE_ACCOUNTS = {"host": HOST, "partner": PARTNER}
PROVIDER_TYPE = "pulumi:providers:aws"


@dataclass(frozen=True)
class Call:
    """One IAM call the provider makes for a registered resource, with the request context IAM evaluates."""

    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()


def registered(side: str) -> list[RecordedResource]:
    run = run_program(side, preview=False, config_overrides={
        "grants": GRANTS, "partner-access:side": side, "aws:allowedAccountIds": [SIDE_ACCOUNTS[side]]})
    assert run.error is None, run.error
    return [resource for resource in run.resources if resource.custom and resource.type != PROVIDER_TYPE]


@pytest.fixture(scope="module")
def host_resources() -> list[RecordedResource]:
    return registered("host")


@pytest.fixture(scope="module")
def partner_resources() -> list[RecordedResource]:
    return registered("partner")


def _arn(account: str, resource: str) -> str:
    return f"arn:aws:iam::{account}:{resource}"


def _user_or_group(kind: str, name: str) -> str:
    return _arn(PARTNER, f"{kind}/{name}")


def provider_calls(resource: RecordedResource, by_name: dict[str, RecordedResource]) -> list[Call]:
    """Every call of every lifecycle step for one registered resource, on the ARN its inputs name."""
    inputs = reveal(resource.inputs)
    actions = CALLS_BY_TYPE[resource.type].actions(LIFECYCLES)
    context: dict[str, str] = {}
    if resource.type == "aws:iam/role:Role":
        target = _arn(HOST, f"role{inputs.get('path', '/')}{inputs['name']}")
        if inputs.get("permissionsBoundary"):
            context["iam:PermissionsBoundary"] = inputs["permissionsBoundary"]
            # A bounded grant's role keeps its boundary: the provider would only remove it if the setting went away.
            actions = tuple(action for action in actions if action != "iam:DeleteRolePermissionsBoundary")
        else:
            actions = tuple(action for action in actions if action != "iam:PutRolePermissionsBoundary")
    elif resource.type in ("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "aws:iam/rolePolicy:RolePolicy"):
        role = reveal(by_name[inputs["role"]].inputs)
        target = _arn(HOST, f"role{role.get('path', '/')}{role['name']}")
        if "policyArn" in inputs:
            context["iam:PolicyARN"] = inputs["policyArn"]
    elif resource.type == "aws:iam/policy:Policy":
        target = _arn(PARTNER, f"policy/{inputs['name']}")
    elif resource.type == "aws:iam/userPolicyAttachment:UserPolicyAttachment":
        target, context["iam:PolicyARN"] = _user_or_group("user", inputs["user"]), inputs["policyArn"]
    elif resource.type in ("aws:iam/group:Group", "aws:iam/groupMembership:GroupMembership"):
        target = _user_or_group("group", inputs.get("name") or inputs["group"])
    elif resource.type == "aws:iam/groupPolicyAttachment:GroupPolicyAttachment":
        target, context["iam:PolicyARN"] = _user_or_group("group", inputs["group"]), inputs["policyArn"]
    else:
        raise AssertionError(f"no model of the provider's calls for {resource.type}")
    return [Call(action, target, tuple(sorted(context.items()))) for action in actions]


def allowed(policy: dict[str, Any], account: str, call: Call) -> bool:
    """Whether a role holding only `policy` may make `call` in its own account (identity policy, no resource policy)."""
    role_arn = _arn(account, "role/ci-deploy")
    node = Node(arn=role_arn, id_value="AROACIDEPLOY", attached_policies=[Policy(f"{role_arn}-policy", "ci", policy)],
                group_memberships=[], trust_policy={"Version": "2012-10-17", "Statement": []}, instance_profile=None,
                num_access_keys=0, active_password=False, is_admin=False, permissions_boundary=None, has_mfa=False,
                tags={})
    context = {"aws:PrincipalArn": role_arn, "aws:PrincipalAccount": account, **dict(call.context)}
    return local_check_authorization_full(node, call.action, call.resource, context, resource_owner=account)


def grants() -> tuple:
    return parse_grants(GRANTS)


def side_grants(side: str) -> tuple:
    key = "host_account_id" if side == "host" else "partner_account_id"
    return tuple(grant for grant in grants() if getattr(grant, key) == SIDE_ACCOUNTS[side])


@pytest.mark.parametrize("side", ["host", "partner"])
def test_every_registered_type_is_in_the_table(side, request):
    resources = request.getfixturevalue(f"{side}_resources")
    assert {resource.type for resource in resources} <= set(CALLS_BY_TYPE)
    assert resources, "the program registered nothing to check"


@pytest.mark.parametrize("side", ["host", "partner"])
def test_the_deploy_role_may_make_every_call_for_every_registered_resource(side, request):
    resources = request.getfixturevalue(f"{side}_resources")
    by_name = {reveal(resource.inputs).get("name", resource.name): resource for resource in resources}
    policy = deploy_role_policy(side, side_grants(side))
    calls = [call for resource in resources for call in provider_calls(resource, by_name)]
    assert len(calls) > 20
    assert [call for call in calls if not allowed(policy, SIDE_ACCOUNTS[side], call)] == []


@pytest.mark.parametrize("side", ["host", "partner"])
def test_the_preview_role_may_read_every_registered_resource_and_nothing_more(side, request):
    resources = request.getfixturevalue(f"{side}_resources")
    by_name = {reveal(resource.inputs).get("name", resource.name): resource for resource in resources}
    policy = preview_role_policy(side, side_grants(side))
    reads = {action for resource in resources for action in CALLS_BY_TYPE[resource.type].read}
    calls = [call for resource in resources for call in provider_calls(resource, by_name)]
    assert [call for call in calls if call.action in reads and not allowed(policy, SIDE_ACCOUNTS[side], call)] == []
    assert [call.action for call in calls if call.action not in reads and allowed(policy, SIDE_ACCOUNTS[side], call)] \
        == []


PARTNER_ESCALATIONS = [
    Call("iam:CreatePolicy", _arn(PARTNER, "policy/anything-else")),
    Call("iam:CreatePolicyVersion", _arn(PARTNER, "policy/other-teams-policy")),
    Call("iam:AttachUserPolicy", _user_or_group("user", "alice"), (("iam:PolicyARN", ADMIN),)),
    Call("iam:AttachUserPolicy", _user_or_group("user", "mallory"), (("iam:PolicyARN", ADMIN),)),
    Call("iam:AttachGroupPolicy", _user_or_group("group", "ops"), (("iam:PolicyARN", ADMIN),)),
    Call("iam:AddUserToGroup", _user_or_group("group", "admins")),
    Call("iam:AddUserToGroup", _user_or_group("group", "existing-operators")),  # not created by the program
    Call("iam:CreateGroup", _user_or_group("group", "admins")),
    Call("iam:CreateUser", _user_or_group("user", "mallory")),
    Call("iam:CreateAccessKey", _user_or_group("user", "alice")),
    Call("iam:CreateRole", _arn(PARTNER, "role/backdoor")),
]
HOST_ESCALATIONS = [
    Call("iam:CreateRole", _arn(HOST, "role/backdoor")),
    Call("iam:UpdateAssumeRolePolicy", _arn(HOST, "role/OrganizationAccountAccessRole")),
    Call("iam:AttachRolePolicy", _arn(HOST, "role/ops-read"), (("iam:PolicyARN", ADMIN),)),
    Call("iam:PutRolePolicy", _arn(HOST, "role/ops-read")),  # this grant has no inline policy
    Call("iam:CreateRole", _arn(HOST, "role/partners/bounded-admin")),  # without its boundary
    Call("iam:CreateRole", _arn(HOST, "role/partners/bounded-admin"), (("iam:PermissionsBoundary", ADMIN),)),
    Call("iam:DeleteRolePermissionsBoundary", _arn(HOST, "role/partners/bounded-admin")),
    Call("iam:CreatePolicy", _arn(HOST, "policy/anything")),
    Call("iam:CreateUser", _arn(HOST, "user/mallory")),
]


@pytest.mark.parametrize(("side", "call"), [*(("partner", call) for call in PARTNER_ESCALATIONS),
                                            *(("host", call) for call in HOST_ESCALATIONS)],
                         ids=lambda value: value if isinstance(value, str) else f"{value.action}-{value.resource}")
def test_the_deploy_role_cannot_reach_beyond_the_grants(side, call):
    assert not allowed(deploy_role_policy(side, side_grants(side)), SIDE_ACCOUNTS[side], call)


def test_the_evaluator_would_allow_these_calls_under_a_broad_policy():
    """The denials above come from the scoping, not from an evaluator that denies everything."""
    broad = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:*", "Resource": "*"}]}
    assert all(allowed(broad, PARTNER, call) for call in PARTNER_ESCALATIONS)


@pytest.mark.parametrize("side", ["host", "partner"])
def test_iam_accepts_the_generated_policies(side):
    with emulated_iam() as iam, in_account(SIDE_ACCOUNTS[side]):
        for role, build in (("deploy", deploy_role_policy), ("preview", preview_role_policy)):
            document = json.dumps(build(side, side_grants(side)))
            created = iam.create_policy(PolicyName=f"partner-access-{side}-{role}", PolicyDocument=document)
            assert created["Policy"]["Arn"] == _arn(SIDE_ACCOUNTS[side], f"policy/partner-access-{side}-{role}")
        with pytest.raises(iam.exceptions.MalformedPolicyDocumentException):
            iam.create_policy(PolicyName="broken", PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:GetRole"}]}))


# The docs use the same table ------------------------------------------------------------------------------------

PIPELINE_DOC = REPO_ROOT / "docs" / "pipeline.md"
README = REPO_ROOT / "README.md"


def test_the_pipeline_docs_table_is_the_permission_table():
    text = PIPELINE_DOC.read_text()
    table = text.split("<!-- provider-calls:begin -->\n", 1)[1].split("<!-- provider-calls:end -->", 1)[0]
    rows = table.strip().splitlines()[2:]
    assert rows == [f"| `{resource}` | {step} | {actions} |"
                    for side in ("host", "partner") for resource, step, actions in actions_table(side)]


@pytest.mark.parametrize("side", ["host", "partner"])
def test_the_pipeline_docs_policies_are_the_generated_ones(side):
    text = PIPELINE_DOC.read_text()
    block = text.split(f"<!-- deploy-role-policy:{side} -->\n```json\n", 1)[1].split("```", 1)[0]
    assert json.loads(block) == deploy_role_policy(side, tuple(
        grant for grant in parse_grants(DOCS_SAMPLE_GRANT)))


@pytest.mark.parametrize(("side", "step"), [("host", "3. **Host"), ("partner", "4. **Partner")])
def test_the_readme_deploying_steps_list_every_action_of_their_side(side, step):
    text = README.read_text()
    paragraph = text.split(step, 1)[1].split("```", 1)[0]
    assert set(re.findall(r"`(iam:[A-Za-z]+)`", paragraph)) == side_actions(side)


def test_the_script_prints_a_stacks_policy_from_its_files_and_names_a_missing_one(tmp_path):
    """scripts/ci_role_policy.py reads Pulumi.yaml and the stack file as the program does (here a copy with the
    test's grants, so the operator's config is never read)."""
    (tmp_path / "Pulumi.yaml").write_text(yaml.safe_dump({"name": "partner-access", "config": {
        "grants": {"value": GRANTS}}}))
    (tmp_path / "Pulumi.b.yaml").write_text(yaml.safe_dump({"config": {
        "partner-access:side": "partner", "aws:region": "eu-west-1", "aws:allowedAccountIds": [PARTNER]}}))

    def script(*arguments: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, str(REPO_ROOT / "scripts" / "ci_role_policy.py"), "--project-dir",
                               str(tmp_path), *arguments], capture_output=True, text=True, timeout=60, check=False)

    deploy, preview, missing = script("--stack", "b"), script("--stack", "b", "--role", "preview"), script(
        "--stack", "c")

    assert json.loads(deploy.stdout) == deploy_role_policy("partner", side_grants("partner"))
    assert json.loads(preview.stdout) == preview_role_policy("partner", side_grants("partner"))
    assert missing.returncode == 1
    assert missing.stderr == (f"ci_role_policy: {tmp_path / 'Pulumi.c.yaml'}: not found "
                              "(is --stack 'c' a stack of this project?)\n")


def test_the_policy_grows_with_the_grants_names_and_an_oversized_one_is_refused(tmp_path):
    many = [{**GRANTS[0], "roleName": f"role-{index}", "partnerPolicyName": f"assume-role-{index}",
             "partnerGroup": {"name": f"group-{index}", "members": ["bob"]}} for index in range(10)]
    one, ten = (deploy_role_policy("partner", parse_grants(grants)) for grants in (many[:1], many))
    # Statements that differ only in their resources are merged: ten grants need far fewer than ten times one's.
    assert len(one["Statement"]) < len(ten["Statement"]) < 10 * len(one["Statement"])
    assert policy_size(one) < MANAGED_POLICY_MAX_CHARACTERS < policy_size(ten)

    (tmp_path / "Pulumi.yaml").write_text(yaml.safe_dump({"name": "partner-access", "config": {
        "grants": {"value": many}}}))
    (tmp_path / "Pulumi.b.yaml").write_text(yaml.safe_dump({"config": {
        "partner-access:side": "partner", "aws:region": "eu-west-1", "aws:allowedAccountIds": [PARTNER]}}))
    completed = subprocess.run([sys.executable, str(REPO_ROOT / "scripts" / "ci_role_policy.py"), "--project-dir",
                                str(tmp_path), "--stack", "b"], capture_output=True, text=True, timeout=60,
                               check=False)
    assert completed.returncode == 1
    assert f"over IAM's {MANAGED_POLICY_MAX_CHARACTERS} for a managed policy" in completed.stderr
