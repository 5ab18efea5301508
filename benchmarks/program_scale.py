"""How the program's run time grows with the number of grants: 20 and 200 grants under mocks, side by side.

Run: .venv/bin/python benchmarks/program_scale.py
Prints the median time the program itself took (interpreter start-up excluded) for each size, per stack, and the
ratio of the two; linear growth gives 10x for 10x the grants, so the per-grant ratio should be close to 1.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from support.program_runner import run_program

HOST = "111111111111"
PARTNER = "222222222222"
SIZES = (20, 200)
REPEATS = 5


def grants(count: int) -> list[dict[str, object]]:
    return [
        {
            "roleName": f"partner-role-{index:04d}",
            "hostAccountId": HOST,
            "partnerAccountId": PARTNER,
            "managedPolicyArns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
            "partnerUsers": [f"user-{index:04d}"],
            "partnerGroup": {"name": f"group-{index:04d}", "members": [f"member-{index:04d}"]},
            "maxMfaAgeSeconds": 3600,
        }
        for index in range(count)
    ]


def program_seconds(stack: str, count: int) -> float:
    run = run_program(stack, config_overrides={"grants": grants(count)})
    if run.error is not None:
        raise SystemExit(f"program failed: {run.error}")
    return run.program_seconds


def main() -> None:
    small, large = SIZES
    for stack in ("host", "partner"):
        samples: dict[int, list[float]] = {small: [], large: []}
        for _ in range(REPEATS):
            # Alternate the sizes so machine noise hits both alike.
            for count in SIZES:
                samples[count].append(program_seconds(stack, count))
        small_seconds = statistics.median(samples[small])
        large_seconds = statistics.median(samples[large])
        ratio = large_seconds / small_seconds
        per_grant = ratio / (large / small)
        print(f"{stack:8s} {small} grants: {small_seconds:.3f}s  {large} grants: {large_seconds:.3f}s  "
              f"time ratio {ratio:.2f}x for {large // small}x grants  (per-grant ratio {per_grant:.2f}, linear = 1.00)")


if __name__ == "__main__":
    main()
