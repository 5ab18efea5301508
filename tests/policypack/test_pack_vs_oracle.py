"""Differential test: the pack's MFA verdict against an exact SMT oracle (support.trust_oracle) over random trust
policies built from the IAM rules the analysis follows: keys every caller carries (aws:PrincipalAccount,
aws:PrincipalArn), principals of every kind (role ARNs covering their sessions, sessions, federated users, "*"),
policy variables under each Version, set-qualified Null, the caller's kind (aws:PrincipalType, aws:username, the form
of aws:userid), keys tested by several clauses, and source identity and session tags with their companion
permissions.

The generator is seeded, so every run checks the same documents and a failure reproduces with its seed.
"""

from __future__ import annotations

import json
import random

import pytest

from iam_trust_policies.trust_analysis import mfa_violations
from support.trust_oracle import can_assume_without_mfa

OWN = "111111111111"
PARTNER = "222222222222"
OTHER = "333333333333"
OWN_ACCOUNTS = frozenset({OWN})
# 1,200 documents in four seeded batches, so that parallel test workers share them.
BATCHES = 4
DOCUMENTS_PER_BATCH = 300
SEED = 20261201
USER_ID_DOCUMENTS = 60

PRINCIPALS = [
    "*",
    {"AWS": "*"},
    {"AWS": PARTNER},
    {"AWS": f"arn:aws:iam::{PARTNER}:root"},
    {"AWS": f"arn:aws:iam::{PARTNER}:user/alice"},
    {"AWS": f"arn:aws:iam::{PARTNER}:role/ci"},
    {"AWS": f"arn:aws:sts::{PARTNER}:assumed-role/ci/build"},
    {"AWS": f"arn:aws:sts::{PARTNER}:federated-user/bob"},
    {"AWS": OTHER},
    {"AWS": OWN},
    {"AWS": f"arn:aws:iam::{OWN}:role/self"},
    {"AWS": [f"arn:aws:iam::{PARTNER}:role/ci", OTHER]},
    {"AWS": f"arn:aws:iam::{OTHER}:user/alice"},
    {"AWS": ["*", PARTNER]},
]
ACTIONS = [
    "sts:AssumeRole",
    "sts:*",
    ["sts:AssumeRole", "sts:TagSession"],
    ["sts:AssumeRole", "sts:SetSourceIdentity"],
    "sts:TagSession",
    "sts:SetSourceIdentity",
]
MFA_CLAUSES = [
    ("Bool", "aws:MultiFactorAuthPresent", "true"),
    ("Bool", "aws:MultiFactorAuthPresent", "false"),
    ("BoolIfExists", "aws:MultiFactorAuthPresent", "true"),
    ("BoolIfExists", "aws:MultiFactorAuthPresent", "false"),
    ("Null", "aws:MultiFactorAuthPresent", "true"),
    ("Null", "aws:MultiFactorAuthAge", "false"),
    ("NumericLessThan", "aws:MultiFactorAuthAge", "3600"),
    ("NumericLessThanIfExists", "aws:MultiFactorAuthAge", "3600"),
    ("ForAllValues:Null", "aws:MultiFactorAuthAge", "false"),
    ("ForAnyValue:Null", "aws:MultiFactorAuthAge", "false"),
    ("ForAnyValue:Null", "aws:MultiFactorAuthPresent", "true"),
    ("StringEquals", "aws:MultiFactorAuthPresent", "${aws:MultiFactorAuthPresent}"),
]
CALLER_CLAUSES = [
    ("StringEquals", "aws:PrincipalAccount", OWN),
    ("StringEquals", "aws:PrincipalAccount", PARTNER),
    ("StringNotEquals", "aws:PrincipalAccount", OWN),
    ("StringNotEquals", "aws:PrincipalAccount", PARTNER),
    ("StringEquals", "aws:PrincipalAccount", "${aws:PrincipalAccount}"),
    ("StringLike", "aws:PrincipalAccount", "*"),
    ("ArnLike", "aws:PrincipalArn", f"arn:aws:iam::{OWN}:role/self"),
    ("ArnLike", "aws:PrincipalArn", f"arn:aws:iam::{PARTNER}:role/*"),
    ("ArnNotLike", "aws:PrincipalArn", f"arn:aws:iam::{OWN}:*"),
    ("ArnEquals", "aws:PrincipalArn", f"arn:aws:iam::{PARTNER}:user/alice"),
    ("ArnLike", "aws:PrincipalArn", f"arn:aws:iam::{PARTNER}:root"),
    ("ArnLike", "aws:PrincipalArn", "arn:aws:iam::*"),
    ("Null", "aws:PrincipalArn", "false"),
    ("StringEquals", "aws:PrincipalType", "User"),
    ("StringEquals", "aws:PrincipalType", "AssumedRole"),
    ("StringEquals", "aws:PrincipalType", "Account"),
    ("StringNotEquals", "aws:PrincipalType", "FederatedUser"),
    ("Null", "aws:username", "false"),
    ("StringEquals", "aws:username", "alice"),
    ("StringNotLike", "aws:PrincipalAccount", "2*"),
    ("StringEqualsIfExists", "aws:PrincipalAccount", PARTNER),
    ("StringEquals", "aws:PrincipalAccount", [OWN, OTHER]),
    ("ArnNotEquals", "aws:PrincipalArn", f"arn:aws:iam::{PARTNER}:role/ci"),
    ("ArnLike", "aws:PrincipalArn", f"arn:aws:sts::{PARTNER}:federated-user/*"),
    ("ArnLike", "aws:PrincipalArn", "arn:aws:iam::*:role/ci"),
    ("ArnLike", "aws:PrincipalArn", f"arn:aws:iam::{PARTNER}:role/ci*"),
    ("ArnLike", "aws:PrincipalArn", f"arn:aws:iam::{PARTNER}:role/ci?*"),
    ("ForAnyValue:StringEquals", "aws:PrincipalType", "User"),
    ("ForAllValues:StringEquals", "aws:username", "alice"),
    ("StringLike", "aws:username", "a*"),
    ("StringNotEquals", "aws:username", "alice"),
]
# aws:userid values the form of a user's or role session's ID decides (see docs/policy-pack.md); none names a session
# or a federated user, which the oracle does not tie to aws:userid.
USERID_CLAUSES = [
    ("StringLike", "aws:userid", f"{OWN}:*"),
    ("StringLike", "aws:userid", f"{PARTNER}:*"),
    ("StringNotLike", "aws:userid", f"{OWN}:*"),
    ("StringLike", "aws:userid", "AIDA*"),
    ("StringLike", "aws:userid", "AROA*:*"),
    ("StringNotLike", "aws:userid", "AROA*"),
    ("StringLike", "aws:userid", "*"),
    ("StringLike", "aws:userid", [f"{OWN}:*", "AIDA*"]),
    ("Null", "aws:userid", "false"),
]
REQUEST_CLAUSES = [
    ("StringEquals", "sts:ExternalId", "a"),
    ("StringEquals", "sts:ExternalId", "b"),
    ("StringNotEquals", "sts:ExternalId", "a"),
    ("Null", "sts:ExternalId", "true"),
    ("StringLike", "sts:ExternalId", "a*"),
    ("Null", "sts:SourceIdentity", "false"),
    ("StringLike", "aws:SourceIdentity", "*"),
    ("Null", "aws:SourceIdentity", "true"),
    ("StringEquals", "aws:RequestTag/team", "x"),
    ("Null", "aws:TagKeys", "false"),
    ("StringNotLike", "sts:ExternalId", "a*"),
    ("StringEqualsIfExists", "sts:ExternalId", "a"),
    ("ForAnyValue:StringEquals", "sts:ExternalId", ["a", "b"]),
    ("StringLike", "aws:RequestTag/team", "*"),
    ("StringLike", "sts:ExternalId", "a?*"),
    ("StringNotLike", "sts:ExternalId", "?"),
]


def clauses_block(rng: random.Random, count: int, pools: tuple[list, ...]) -> dict:
    block: dict[str, dict[str, object]] = {}
    for _ in range(count):
        pool = rng.choice(pools)
        operator, key, value = rng.choice(pool)
        block.setdefault(operator, {})[key] = value
    return block


def random_statement(rng: random.Random, effect: str, pools: tuple[list, ...]) -> dict:
    statement: dict[str, object] = {
        "Effect": effect,
        "Principal": rng.choice(PRINCIPALS),
        "Action": rng.choice(ACTIONS),
    }
    condition = clauses_block(rng, rng.choice([0, 1, 1, 2, 2, 3]), pools)
    if condition:
        statement["Condition"] = condition
    return statement


DEFAULT_POOLS = (MFA_CLAUSES, CALLER_CLAUSES, REQUEST_CLAUSES)


def random_document(rng: random.Random, pools: tuple[list, ...] = DEFAULT_POOLS) -> dict:
    statements = [random_statement(rng, "Allow", pools) for _ in range(rng.randint(1, 3))]
    statements += [random_statement(rng, "Deny", pools) for _ in range(rng.choice([0, 0, 1, 2]))]
    rng.shuffle(statements)
    document: dict[str, object] = {"Statement": statements}
    version = rng.choice(["2012-10-17", "2012-10-17", "2008-10-17", None])
    if version is not None:
        document["Version"] = version
    return document


def assert_pack_agrees_with_oracle(rng: random.Random, count: int, pools: tuple[list, ...], where: str) -> None:
    disagreements = []
    for _ in range(count):
        document = random_document(rng, pools)
        expected = can_assume_without_mfa(document, OWN_ACCOUNTS)
        flagged = bool(mfa_violations(document, OWN_ACCOUNTS))
        if flagged != expected:
            disagreements.append((expected, flagged, document))
    assert not disagreements, (
        "\n".join(
            f"oracle {'opens' if expected else 'closes'}, pack {'flags' if flagged else 'passes'}: {json.dumps(doc)}"
            for expected, flagged, doc in disagreements[:10]
        )
        + f"\n({len(disagreements)} of {count} {where})"
    )


@pytest.mark.parametrize("batch", range(BATCHES))
def test_pack_verdict_equals_the_oracle_on_random_documents(batch):
    assert_pack_agrees_with_oracle(random.Random(SEED + batch), DOCUMENTS_PER_BATCH, DEFAULT_POOLS, f"in batch {batch}")


def test_pack_verdict_equals_the_oracle_on_user_id_conditions():
    pools = (MFA_CLAUSES, USERID_CLAUSES, USERID_CLAUSES)
    assert_pack_agrees_with_oracle(random.Random(SEED - 1), USER_ID_DOCUMENTS, pools, "with aws:userid conditions")


@pytest.mark.parametrize(
    ("document", "opens"),
    [
        # terraform-aws-iam's allow_self_assume_role: "*" narrowed to the role's own ARN admits no foreign caller.
        (
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": "*"},
                        "Action": "sts:AssumeRole",
                        "Condition": {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{OWN}:role/self"}},
                    }
                ],
            },
            False,
        ),
        (
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}]},
            True,
        ),
        (
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": PARTNER},
                        "Action": "sts:AssumeRole",
                        "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
                    }
                ],
            },
            False,
        ),
    ],
)
def test_the_oracle_gives_the_documented_verdicts(document, opens):
    assert can_assume_without_mfa(document, OWN_ACCOUNTS) is opens
