"""The one reading of a `--policy-pack-config` file: the engine's lenient reconciliation and the audit's strict one."""

from __future__ import annotations

import pytest

from partner_access.pack_config import PolicyConfig, PolicyConfigError, PolicySchema, reconcile_policy_config

SCHEMAS = [
    PolicySchema("requires-mfa", "mandatory", {"exempt": {"type": "array", "default": []}}),
    PolicySchema("open-trust", "advisory"),
]


def test_all_applies_before_each_policys_entry_and_properties_merge_over_defaults():
    reconciled = reconcile_policy_config(
        SCHEMAS, {"all": "disabled", "requires-mfa": {"exempt": ["111111111111"]}, "open-trust": "mandatory"}
    )
    assert reconciled == {
        "requires-mfa": PolicyConfig("disabled", {"exempt": ["111111111111"]}),
        "open-trust": PolicyConfig("mandatory", {}),
    }


def test_the_packs_initial_config_applies_before_the_file():
    reconciled = reconcile_policy_config(
        SCHEMAS, {"open-trust": {"enforcementLevel": "remediate"}},
        initial_config={"open-trust": PolicyConfig("disabled", {}), "requires-mfa": PolicyConfig("advisory", {})},
    )
    assert reconciled["open-trust"].enforcement_level == "remediate"
    assert reconciled["requires-mfa"].enforcement_level == "advisory"


def test_lenient_like_the_engine_strict_for_commands_that_run_the_policies_themselves():
    typo = {"requires-mfaa": "disabled", "all": {"enforcementLevel": "advisory", "exempt": []}}
    lenient = reconcile_policy_config(SCHEMAS, typo)
    assert set(lenient) == {"requires-mfa", "open-trust"}
    assert lenient["requires-mfa"].enforcement_level == "advisory"
    with pytest.raises(PolicyConfigError) as refused:
        reconcile_policy_config(SCHEMAS, typo, strict=True, source="config.json")
    assert refused.value.errors == (
        "requires-mfaa: the pack has no policy of this name (its policies: requires-mfa, open-trust)",
        "all: only enforcementLevel can be set for every policy",
    )
    assert str(refused.value).startswith("config.json: validating policy config: ")


@pytest.mark.parametrize(("document", "error"), [
    ({"open-trust": "block"}, 'open-trust: enforcementLevel "block" is not one of advisory, mandatory, remediate, '
                              "disabled"),
    ({"open-trust": 3}, "open-trust: must be an enforcement level or an object, not 3"),
    ({"requires-mfa": {"exempt": "111111111111"}}, "requires-mfa: exempt: '111111111111' is not of type 'array'"),
])
def test_every_problem_names_the_policy_and_the_rule(document, error):
    with pytest.raises(PolicyConfigError) as refused:
        reconcile_policy_config(SCHEMAS, document)
    assert refused.value.errors == (error,)
