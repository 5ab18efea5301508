"""Pure MFA-trust analysis throughput on one core, as a ratio to the target of 20,000 documents/s.

Run: .venv/bin/python benchmarks/pack_analysis_throughput.py [--seconds N]
Documents are realistic 1-5 statement trust policies as JSON strings (what aws:iam/role:Role carries), with a mix of
MFA, BoolIfExists, External ID, Deny, service and cross-account statements, so both outcomes are exercised.

Besides the MFA check alone, it measures what the pack does for one role: all four trust checks (MFA, External ID,
open trust, the cross-account principals the session and admin checks use) on the same document, which parse it once
between them, side by side with the same four checks each handed its own copy of the text (a trailing space apart, so
none can reuse another's parse). The cycle over the documents is far longer than the parses kept, so no document's
parse survives to its next turn.
"""

import argparse
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "policypack"))

from iam_trust_policies.trust_analysis import (
    cross_account_principals,
    external_id_violations,
    mfa_violations,
    open_trust_violations,
)

TARGET_DOCUMENTS_PER_SECOND = 20_000
OWN_ACCOUNTS = frozenset({"111111111111"})
THIRD_PARTY_ACCOUNTS = frozenset({"333333333333"})


def random_statement(rng: random.Random, index: int) -> dict:
    account = rng.choice(["111111111111", "222222222222", "333333333333", f"{rng.randrange(10**11, 10**12)}"])
    principal = rng.choice(
        [
            {"AWS": f"arn:aws:iam::{account}:root"},
            {"AWS": [f"arn:aws:iam::{account}:user/alice", f"arn:aws:iam::{account}:role/deployer"]},
            {"AWS": account},
            {"Service": "ec2.amazonaws.com"},
        ]
    )
    condition = rng.choice(
        [
            {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
            {
                "Bool": {"aws:MultiFactorAuthPresent": "true"},
                "StringEquals": {"sts:RoleSessionName": "${aws:username}"},
            },
            {"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}},
            {"StringEquals": {"sts:ExternalId": f"ext-{rng.randrange(1000)}"}},
            {"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}},
            None,
        ]
    )
    statement = {
        "Sid": f"Statement{index}",
        "Effect": "Deny" if rng.random() < 0.15 else "Allow",
        "Principal": principal,
        "Action": rng.choice(["sts:AssumeRole", ["sts:AssumeRole", "sts:TagSession"], "sts:*"]),
    }
    if condition is not None:
        statement["Condition"] = condition
    return statement


def make_documents(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return [
        json.dumps({"Version": "2012-10-17", "Statement": [random_statement(rng, i) for i in range(rng.randint(1, 5))]})
        for _ in range(count)
    ]


def measure(documents: list[str], seconds: float) -> tuple[float, int]:
    analysed = 0
    flagged = 0
    started = time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        for document in documents:
            if mfa_violations(document, OWN_ACCOUNTS):
                flagged += 1
        analysed += len(documents)
    return analysed / (time.perf_counter() - started), flagged


def role_checks(copies: tuple[str, str, str, str]) -> None:
    """The pack's four trust checks of one role, each on its given copy of the trust policy."""
    mfa_violations(copies[0], OWN_ACCOUNTS)
    external_id_violations(copies[1], OWN_ACCOUNTS, THIRD_PARTY_ACCOUNTS)
    open_trust_violations(copies[2])
    cross_account_principals(copies[3], OWN_ACCOUNTS)


def measure_roles(roles: list[tuple[str, str, str, str]], seconds: float) -> float:
    """Roles checked per second."""
    checked = 0
    started = time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        for copies in roles:
            role_checks(copies)
        checked += len(roles)
    return checked / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--documents", type=int, default=2000)
    options = parser.parse_args()
    documents = make_documents(options.documents)
    measure(documents[:200], 0.2)  # warm caches and the interpreter
    rate, flagged = measure(documents, options.seconds)
    print(f"documents analysed per second (one core): {rate:,.0f}")
    print(f"share of analyses flagged: {flagged / max(1, rate * options.seconds):.0%}")
    print(f"throughput / target ({TARGET_DOCUMENTS_PER_SECOND:,}/s): {rate / TARGET_DOCUMENTS_PER_SECOND:.2f}x")
    shared = [(document,) * 4 for document in documents]
    separate = [tuple(document + " " * copy for copy in range(4)) for document in documents]
    measure_roles(shared[:200], 0.2)
    shared_rate = measure_roles(shared, options.seconds)
    separate_rate = measure_roles(separate, options.seconds)
    print(f"roles checked per second, all four trust checks, one parse per role: {shared_rate:,.0f}")
    print(f"roles checked per second, all four trust checks, one parse per check: {separate_rate:,.0f}")
    print(f"one parse per role / one parse per check: {shared_rate / separate_rate:.2f}x")


if __name__ == "__main__":
    main()
