"""The MFA policy on trust policies as real code and AWS's documentation write them (real_world_trusts.json: each
document with the repository and path, or the page, it follows; account IDs stand for the role's own account, a
partner and an Organizations management account). The expected verdicts follow the IAM User Guide: a role is flagged
exactly when a principal outside its own accounts (its account and the exempt ones) can assume it without MFA.

Federated (SAML, OIDC) and Service principals are not AWS principals of another account: they are never flagged
(docs/policy-pack.md, "How the trust analysis reads IAM's rules"). No document here is one IAM refuses, so no check
reports a DOC- code on any of them.
"""

import json
from pathlib import Path

import pytest

from iam_trust_policies.findings import code_of
from iam_trust_policies.trust_analysis import external_id_violations, mfa_violations, open_trust_violations

ROLE_ACCOUNT = "111122223333"
CASES = json.loads((Path(__file__).parent / "real_world_trusts.json").read_text())


def _own_accounts(case: dict) -> frozenset[str]:
    return frozenset({ROLE_ACCOUNT, *case["exempt"]})


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_mfa_verdict_matches_iam(case: dict) -> None:
    findings = mfa_violations(case["document"], _own_accounts(case))
    assert [finding.code for finding in findings] == case["mfa"]
    assert all(code_of(finding.message) == finding.code for finding in findings)


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_same_verdict_from_json_text(case: dict) -> None:
    # What aws:iam/role:Role carries is JSON text; the verdict must not depend on the form.
    findings = mfa_violations(json.dumps(case["document"]), _own_accounts(case))
    assert [finding.code for finding in findings] == case["mfa"]


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_no_check_calls_an_accepted_document_malformed(case: dict) -> None:
    own = _own_accounts(case)
    codes = [
        finding.code
        for finding in (
            *mfa_violations(case["document"], own),
            *external_id_violations(case["document"], own, frozenset({"464622532012", "414351767826"})),
            *open_trust_violations(case["document"]),
        )
    ]
    assert not [code for code in codes if code.startswith("DOC-")]


def test_corpus_covers_both_verdicts_and_every_principal_type() -> None:
    verdicts = {bool(case["mfa"]) for case in CASES}
    principal_types = {
        principal_type
        for case in CASES
        for statement in (
            case["document"]["Statement"]
            if isinstance(case["document"]["Statement"], list)
            else [case["document"]["Statement"]]
        )
        if isinstance(statement.get("Principal"), dict)
        for principal_type in statement["Principal"]
    }
    assert verdicts == {True, False}
    assert {"AWS", "Service", "Federated"} <= principal_types
    assert all(case["source"] for case in CASES)
