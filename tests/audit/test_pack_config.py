"""The pack config file as the engine reads it: defaults, levels, shorthands, `all`, and refusals that name the rule."""

from __future__ import annotations

import json

import pytest
from pulumi_policy import EnforcementLevel

from iam_trust_policies.policies import POLICIES
from partner_access.audit.pack_config import PackConfigError, read_pack_config, with_own_accounts

MFA_POLICY = "cross-account-trust-requires-mfa"
SESSION_POLICY = "cross-account-role-max-session-duration"
OPEN_POLICY = "trust-open-to-any-principal"


def read(tmp_path, content: object):
    path = tmp_path / "config.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return read_pack_config(path, POLICIES)


def test_without_a_file_every_policy_has_its_own_level_and_schema_defaults():
    settings = read_pack_config(None, POLICIES)
    assert settings[MFA_POLICY].level == EnforcementLevel.MANDATORY
    assert settings[OPEN_POLICY].level == EnforcementLevel.ADVISORY
    assert settings[SESSION_POLICY].properties == {"exemptAccountIds": [], "maxSessionDurationSeconds": 3600}


def test_levels_as_strings_objects_and_all(tmp_path):
    settings = read(tmp_path, {"all": "disabled", OPEN_POLICY: "mandatory",
                               SESSION_POLICY: {"enforcementLevel": "remediate", "maxSessionDurationSeconds": 7200}})
    assert not settings[MFA_POLICY].enabled
    assert settings[OPEN_POLICY].reported_level == "mandatory"
    # pulumi_policy reports a remediate policy's violations as mandatory.
    assert settings[SESSION_POLICY].reported_level == "mandatory"
    assert settings[SESSION_POLICY].properties["maxSessionDurationSeconds"] == 7200


@pytest.mark.parametrize(("content", "named"), [
    ("{", "not JSON"),
    ([], "must be a JSON object"),
    ({"no-such-policy": "advisory"}, "no-such-policy: the pack has no policy of this name"),
    ({MFA_POLICY: "sometimes"}, 'enforcementLevel "sometimes" is not one of'),
    ({MFA_POLICY: {"exemptAccountIds": ["123"]}}, f"{MFA_POLICY}: exemptAccountIds.0: '123' does not match"),
    ({SESSION_POLICY: {"maxSessionDurationSeconds": 60}}, "maxSessionDurationSeconds: 60 is less than the minimum"),
    ({MFA_POLICY: 7}, "must be an enforcement level or an object"),
])
def test_invalid_config_is_refused_naming_file_policy_and_rule(tmp_path, content, named):
    with pytest.raises(PackConfigError) as raised:
        read(tmp_path, content)
    assert str(tmp_path / "config.json") in str(raised.value) and named in str(raised.value)


def test_own_accounts_are_added_to_every_policys_exemptions_once(tmp_path):
    settings = read(tmp_path, {MFA_POLICY: {"exemptAccountIds": ["111111111111"]}})
    extended = with_own_accounts(settings, ["111111111111", "222222222222"])
    assert extended[MFA_POLICY].properties["exemptAccountIds"] == ["111111111111", "222222222222"]
    assert extended[SESSION_POLICY].properties["exemptAccountIds"] == ["111111111111", "222222222222"]
    assert extended[OPEN_POLICY].properties == {}
