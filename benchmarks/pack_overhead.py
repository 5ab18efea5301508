"""How much the cross-account trust pack adds to a large preview, over gRPC, next to a pack that checks nothing.

A synthetic 5,000-resource stack (a fifth of them `aws:iam/role:Role` with five-statement trust documents, the rest a
mix of other AWS types, identity policies included) goes through both packs exactly as `pulumi preview --policy-pack`
sends it (Remediate + Analyze per resource, one AnalyzeStack; see partner_access/check/engine.py). Both packs run at
the same time and take turns resource by resource (the order flips every resource and every round), so the noise of a
shared machine hits both alike; each round's time per pack is the sum of its own calls, and the median of the rounds'
ratios is compared. The no-op pack has the same number of resource and stack policies, so the SDK's work per policy
is in the baseline and the ratio is the cost of this pack's analysis.

Goals: overhead at most 1.15x the no-op pack; pack start-up (spawn until its gRPC server accepts a connection) under
0.5 s. This script reports PASS/MISS and always exits 0: it measures, it does not gate.

Run from the repository root: `.venv/bin/python benchmarks/pack_overhead.py [--resources N] [--rounds N]`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from partner_access.check.engine import PolicyDiagnostic, PolicyPackProcess, StackPreview, launch_for_preview
from partner_access.check.stack import StackResourceSpec, build_stack_preview

REPO_ROOT = Path(__file__).resolve().parents[1]

REAL_PACK = REPO_ROOT / "policypack"
NOOP_PACK = REPO_ROOT / "benchmarks" / "noop_pack"
PROJECT = "benchmark"
STACK = "bench"
OWN_ACCOUNT = "111111111111"
PARTNER_ACCOUNTS = ("222222222222", "333333333333", "444444444444")
OVERHEAD_GOAL = 1.15
STARTUP_GOAL_SECONDS = 0.5


def trust_document(index: int) -> str:
    """Five statements in the shapes real trusts have; every tenth role lets a partner in without MFA."""
    partner = PARTNER_ACCOUNTS[index % len(PARTNER_ACCOUNTS)]
    mfa_condition = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    partner_condition = {} if index % 10 == 0 else mfa_condition
    statements = [
        {
            "Sid": "PartnerAssumeRole",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{partner}:root"},
            "Action": "sts:AssumeRole",
            "Condition": {**partner_condition, "StringEquals": {"sts:RoleSessionName": "${aws:username}"}},
        },
        {
            "Sid": "PartnerTagSession",
            "Effect": "Allow",
            "Principal": {"AWS": [f"arn:aws:iam::{partner}:user/alice", f"arn:aws:iam::{partner}:role/ops"]},
            "Action": ["sts:TagSession", "sts:SetSourceIdentity"],
        },
        {
            "Sid": "OwnAccountOperators",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{OWN_ACCOUNT}:role/operators"},
            "Action": "sts:AssumeRole",
        },
        {
            "Sid": "LambdaService",
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        },
        {
            "Sid": "DenyWithoutMfa",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": "sts:AssumeRole",
            "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
        },
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def identity_policy(index: int) -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
             "Resource": f"arn:aws:s3:::bucket-{index}/*"},
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": f"arn:aws:iam::{OWN_ACCOUNT}:role/app-{index}"},
        ],
    })


def other_resource(index: int) -> tuple[str, dict[str, object]]:
    # Every fifth resource is a role, so number the others consecutively to spread them evenly over five kinds.
    ordinal = index - index // 5 - 1
    kind = ordinal % 5
    if kind == 0:
        return "aws:s3/bucket:Bucket", {"bucket": f"bucket-{index}", "tags": {"team": "platform", "index": str(index)}}
    if kind == 1:
        return "aws:ec2/instance:Instance", {"ami": "ami-0123456789abcdef0", "instanceType": "t3.micro",
                                             "tags": {"Name": f"web-{index}"}}
    if kind == 2:
        return "aws:lambda/function:Function", {"runtime": "python3.12", "handler": "index.handler",
                                                "role": f"arn:aws:iam::{OWN_ACCOUNT}:role/app-{index}",
                                                "memorySize": 256, "timeout": 30}
    if kind == 3:
        return "aws:iam/policy:Policy", {"name": f"policy-{index}", "policy": identity_policy(index)}
    # Attached to the role registered last; one attachment in twenty is AdministratorAccess.
    managed_policy = "AdministratorAccess" if (ordinal // 5) % 20 == 0 else "ReadOnlyAccess"
    return "aws:iam/rolePolicyAttachment:RolePolicyAttachment", {
        "role": f"role-{index // 5 * 5}", "policyArn": f"arn:aws:iam::aws:policy/{managed_policy}"}


def synthetic_stack(resource_count: int) -> StackPreview:
    specs = []
    for index in range(resource_count):
        if index % 5 == 0:
            resource_type = "aws:iam/role:Role"
            inputs: dict[str, object] = {"name": f"role-{index}", "path": "/", "maxSessionDuration": 3600,
                                         "assumeRolePolicy": trust_document(index)}
        else:
            resource_type, inputs = other_resource(index)
        name = f"{resource_type.rsplit(':', 1)[1].lower()}-{index}"
        urn = f"urn:pulumi:{STACK}::{PROJECT}::{resource_type}::{name}"
        specs.append(StackResourceSpec(type=resource_type, name=name, urn=urn, inputs=inputs, custom=True))
    return build_stack_preview(
        project=PROJECT,
        stack=STACK,
        config={"aws:region": "us-east-1", "aws:allowedAccountIds": [OWN_ACCOUNT]},
        resources=specs,
    )


@dataclass
class RoundTimes:
    """One pack's time in one round: its Remediate+Analyze calls and its AnalyzeStack call."""

    resources: float = 0.0
    stack: float = 0.0

    @property
    def total(self) -> float:
        return self.resources + self.stack


def interleaved_round(packs: dict[str, PolicyPackProcess], preview: StackPreview,
                      round_index: int) -> tuple[dict[str, RoundTimes], list[PolicyDiagnostic]]:
    """One preview through every pack, resource by resource, alternating which pack goes first."""
    labels = list(packs)
    times = {label: RoundTimes() for label in labels}
    findings: list[PolicyDiagnostic] = []
    for index, resource in enumerate(preview.resources):
        order = labels if (index + round_index) % 2 == 0 else labels[::-1]
        for label in order:
            started = time.perf_counter()
            packs[label].remediate(resource)
            diagnostics = packs[label].analyze(resource).diagnostics
            times[label].resources += time.perf_counter() - started
            if label == "real":
                findings.extend(diagnostics)
    for label in labels if round_index % 2 == 0 else labels[::-1]:
        started = time.perf_counter()
        diagnostics = packs[label].analyze_stack(preview.stack_resources).diagnostics
        times[label].stack += time.perf_counter() - started
        if label == "real":
            findings.extend(diagnostics)
    return times, findings


def phase_medians(rounds: list[RoundTimes]) -> str:
    resources = statistics.median(r.resources for r in rounds)
    stack = statistics.median(r.stack for r in rounds)
    return f"Remediate+Analyze {resources:.3f} s, AnalyzeStack {stack:.3f} s"


def measure_startups(preview: StackPreview, real_pack: Path, launches: int) -> dict[str, list[float]]:
    startups: dict[str, list[float]] = {"real": [], "noop": []}
    for _ in range(launches):
        for label, pack_dir in (("noop", NOOP_PACK), ("real", real_pack)):
            with launch_for_preview(pack_dir, preview) as pack:
                assert pack.startup_seconds is not None
                startups[label].append(pack.startup_seconds)
    return startups


def policy_shape(pack: PolicyPackProcess) -> str:
    """How many resource and stack policies a pack runs: the SDK deserializes properties once per policy."""
    kinds = Counter(policy.policy_type for policy in pack.analyzer_info().policies.values())
    return f"{kinds['resource']} resource + {kinds['stack']} stack"


def verdict(passed: bool) -> str:
    return "PASS" if passed else "MISS"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--resources", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5, help="timed previews per pack, taking turns")
    parser.add_argument("--launches", type=int, default=5, help="start-ups measured per pack")
    parser.add_argument("--pack", type=Path, default=REAL_PACK, help="the pack to measure (default: policypack/)")
    options = parser.parse_args()

    preview = synthetic_stack(options.resources)
    type_counts = Counter(resource.type for resource in preview.resources)
    print(f"stack: {options.resources} resources ({len(preview.resources)} analyzed incl. stack and provider); "
          + ", ".join(f"{count} {resource_type}" for resource_type, count in type_counts.most_common()))

    startups = measure_startups(preview, options.pack, options.launches)

    rounds: dict[str, list[RoundTimes]] = {"real": [], "noop": []}
    with launch_for_preview(options.pack, preview) as real, launch_for_preview(NOOP_PACK, preview) as noop:
        packs = {"real": real, "noop": noop}
        shapes = {label: policy_shape(pack) for label, pack in packs.items()}
        mismatch = "" if shapes["real"] == shapes["noop"] else "  (shapes differ: SDK cost per policy included)"
        print(f"policies: real {shapes['real']}, no-op {shapes['noop']}{mismatch}")
        print(f"interpreters: real {real.python}, no-op {noop.python}")
        for pack in packs.values():
            pack.configure_like_engine(None)
        interleaved_round(packs, preview, 0)  # warm-up: imports, caches, gRPC connections
        for round_index in range(options.rounds):
            times, findings = interleaved_round(packs, preview, round_index)
            for label, measured in times.items():
                rounds[label].append(measured)
        real_errors = real.logged_errors()
    timings = {label: [r.total for r in measured] for label, measured in rounds.items()}

    real_median = statistics.median(timings["real"])
    noop_median = statistics.median(timings["noop"])
    # Within a round the two packs took turns on every resource, so their ratio cancels the machine's drift.
    paired_ratios = [real / noop for real, noop in zip(timings["real"], timings["noop"], strict=True)]
    ratio = statistics.median(paired_ratios)
    real_startup = statistics.median(startups["real"])
    noop_startup = statistics.median(startups["noop"])
    diagnostics = Counter((d.policy_name, d.enforcement_level) for d in findings)

    print(f"rounds: {options.rounds}, the packs taking turns on every resource; medians below")
    print(f"no-op pack preview:  {noop_median:.3f} s  (all: {', '.join(f'{t:.3f}' for t in timings['noop'])})")
    print(f"real pack preview:   {real_median:.3f} s  (all: {', '.join(f'{t:.3f}' for t in timings['real'])})")
    print(f"phases, no-op pack:  {phase_medians(rounds['noop'])}")
    print(f"phases, real pack:   {phase_medians(rounds['real'])}")
    print(f"per resource:        real {real_median / len(preview.resources) * 1e6:.0f} us, "
          f"no-op {noop_median / len(preview.resources) * 1e6:.0f} us")
    print(f"overhead ratio:      {ratio:.2f}x median of per-round ratios "
          f"({', '.join(f'{r:.2f}' for r in paired_ratios)}; ratio of medians {real_median / noop_median:.2f}x; "
          f"goal <= {OVERHEAD_GOAL}x)  {verdict(ratio <= OVERHEAD_GOAL)}")
    print(f"start-up, real pack: {real_startup:.3f} s median of {options.launches} "
          f"(min {min(startups['real']):.3f}, max {max(startups['real']):.3f}; goal < {STARTUP_GOAL_SECONDS} s)  "
          f"{verdict(real_startup < STARTUP_GOAL_SECONDS)}")
    print(f"start-up, no-op pack: {noop_startup:.3f} s median (the SDK and interpreter alone)")
    print("real pack findings: " + (", ".join(f"{count} {name} ({level})"
                                             for (name, level), count in sorted(diagnostics.items())) or "none"))
    if real_errors:
        print(f"real pack logged {len(real_errors)} error line(s), first: {real_errors[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
