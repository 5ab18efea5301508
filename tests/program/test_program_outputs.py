"""The real __main__.py under the real Pulumi SDK with mocks, with config built here: each grant's outputs (keyed by the
grant's name, `access` among them, as the README lists them), and the account-quota and federation rules refusing a
stack before any resource is registered."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.access_summary import access_sentence
from components.grant_model import parse_grants
from support.program_runner import is_secret, reveal, run_program

HOST = "123456789012"
PARTNER = "210987654321"
EXTERNAL_ID = "Outputs-Test_External-ID"
README = Path(__file__).resolve().parents[2] / "README.md"
# Stack names without a stack file, so only the config built here (and Pulumi.yaml, whose grants it replaces) counts.
STACKS = {"host": ("outputs-host", HOST), "partner": ("outputs-partner", PARTNER)}


def grant_config(**settings: object) -> dict[str, object]:
    return {"roleName": "reader", "hostAccountId": HOST, "partnerAccountId": PARTNER, "partnerUsers": ["alice"],
            "partnerGroup": {"name": "readers", "members": ["bob"]},
            "managedPolicyArns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"], **settings}


def run(side: str, grants: list[dict[str, object]], *, preview: bool = True, **config: object):
    stack, account = STACKS[side]
    overrides = {"side": side, "aws:allowedAccountIds": [account], "grants": grants, **config}
    secrets = {"partnerExternalId": EXTERNAL_ID} if any("externalIdSecret" in grant for grant in grants) else None
    return run_program(stack, config_overrides=overrides, secrets=secrets, preview=preview)


def readme_output_names() -> list[str]:
    text = README.read_text()
    section = text[text.index("\n### Outputs"):]
    names = []
    for line in section.splitlines()[1:]:
        if names and not line.startswith("|"):
            break
        if line.startswith("| `"):
            names.append(line.split("`")[1])
    return names


GRANTS = [grant_config(), grant_config(name="prod-admin", roleName="admin", description="the admin role",
                                       partnerGroup={"name": "admins", "create": False},
                                       externalIdSecret="partnerExternalId", maxMfaAgeSeconds=900)]


@pytest.fixture(scope="module")
def deployed() -> dict[str, object]:
    return {side: run(side, GRANTS, preview=False) for side in STACKS}


@pytest.mark.parametrize("side", list(STACKS))
def test_each_grant_exports_what_the_readme_lists_keyed_by_its_name(deployed, side):
    result = deployed[side]
    assert result.error is None
    assert set(result.outputs["grants"]) == {"reader", "prod-admin"}
    documented = readme_output_names()
    assert len(documented) == len(set(documented))
    for outputs in result.outputs["grants"].values():
        assert set(reveal(outputs)) == set(documented)


@pytest.mark.parametrize("side", list(STACKS))
def test_access_is_the_grants_sentence_in_plain_text_without_the_external_id(deployed, side):
    result = deployed[side]
    for grant in parse_grants(GRANTS):
        access = result.outputs["grants"][grant.grant_name]["access"]
        assert not is_secret(access), "a reviewer reads it in the preview diff"
        assert access == access_sentence(grant)
    admin_access = result.outputs["grants"]["prod-admin"]["access"]
    assert EXTERNAL_ID not in admin_access and "with the External ID" in admin_access
    assert is_secret(result.outputs["grants"]["prod-admin"]["cliProfiles"])


def test_a_preview_diff_shows_the_access_change_in_words():
    before = run("host", [grant_config()]).outputs["grants"]["reader"]["access"]
    after = run("host", [grant_config(maxSessionDurationSeconds=7200, requireSourceIdentity=True)])
    changed = after.outputs["grants"]["reader"]["access"]
    assert "each session lasts at most 1 hour." in before and "each session lasts at most 2 hours." in changed
    assert "source identity" not in before and "with their own IAM user name as source identity" in changed


@pytest.mark.parametrize(("side", "grants", "config", "message"), [
    pytest.param("host", [grant_config(managedPolicyArns=[f"arn:aws:iam::aws:policy/P{i}" for i in range(11)])], {},
                 "partner-access:grants grant 'reader': managedPolicyArns lists 11 policies, over this account's "
                 "quota of 10 per role", id="role-policies-over-quota"),
    pytest.param("partner", [grant_config(roleName=f"role-{i}", partnerGroup=None) for i in range(11)], {},
                 f"11 grants attach their partner policy to user 'alice' in account {PARTNER}, over this account's "
                 "quota of 10 per user", id="user-attachments-over-quota"),
    pytest.param("host", [grant_config()], {"quotas": {"trustPolicyMaxCharacters": 8192}},
                 "partner-access:quotas.trustPolicyMaxCharacters: 8192 must be a whole number from 2048 (AWS's "
                 "default) to 4096", id="quota-out-of-range"),
    pytest.param("partner", [grant_config(partnerPrincipalArns=[
        f"arn:aws:iam::{PARTNER}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_ReadOnly_0123456789abcdef"])], {},
                 "is an IAM Identity Center role: its sessions have no aws:username", id="identity-center-role"),
])
def test_what_the_account_cannot_hold_fails_before_any_resource_is_registered(side, grants, config, message):
    result = run(side, grants, **config)
    assert result.error is not None and message in result.error
    assert result.resources == []


def test_a_raised_quota_set_on_the_stack_lets_the_grant_through():
    grants = [grant_config(managedPolicyArns=[f"arn:aws:iam::aws:policy/P{i}" for i in range(11)])]
    result = run("host", grants, quotas={"managedPoliciesPerRole": 11})
    assert result.error is None
    assert len(result.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")) == 11
