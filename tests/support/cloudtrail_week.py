"""A generated multi-region week of a host account's CloudTrail, with known answers, for tests and benchmarks.

Record shapes follow AWS's documented CloudTrail record contents (userIdentity, sessionContext, the host's copy of
a cross-account AssumeRole, console SwitchRole) as in the samples under tests/activity/fixtures. What the generator
writes is also what it expects the report to say (`Expected`), so a test compares the two.
"""

from __future__ import annotations

import gzip
import json
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

HOST = "111111111111"
PARTNER = "222222222222"
STRANGER = "999999999999"
ROLE = "ex-for-aws-b"
ADMIN_ROLE = "host-admin"  # not a grant's role
REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")
START = datetime(2026, 3, 2)
CALLS = (
    ("ec2.amazonaws.com", "DescribeInstances"),
    ("s3.amazonaws.com", "ListBuckets"),
    ("s3.amazonaws.com", "GetBucketPolicy"),
    ("iam.amazonaws.com", "ListRoles"),
    ("lambda.amazonaws.com", "ListFunctions20150331"),
)
DENIED_CALL = ("iam.amazonaws.com", "CreateUser")
HOST_SESSION_CALLS = 3

GRANTS_YAML = f"""name: partner-access
runtime: python
config:
  grants:
    value:
      - roleName: {ROLE}
        hostAccountId: "{HOST}"
        partnerAccountId: "{PARTNER}"
        managedPolicyArns:
          - arn:aws:iam::aws:policy/ReadOnlyAccess
        partnerUsers:
          - alice
        partnerGroup:
          name: operators
          members:
            - bob
"""


def _time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Expected:
    """What the report must say about the generated week, person by person."""

    actions: dict[tuple[str, str], Counter[tuple[str, str]]] = field(default_factory=dict)
    denied: dict[tuple[str, str], int] = field(default_factory=dict)
    sessions: dict[tuple[str, str], int] = field(default_factory=dict)
    records: int = 0

    def add(self, person: tuple[str, str], source: str, name: str, denied: bool = False) -> None:
        self.actions.setdefault(person, Counter())[(source, name)] += 1
        self.denied[person] = self.denied.get(person, 0) + int(denied)


class _Week:
    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        self.records: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.expected = Expected()
        self.keys = 0

    def key(self) -> str:
        self.keys += 1
        return f"ASIA{self.keys:016d}"

    def emit(self, region: str, moment: datetime, record: dict[str, Any]) -> None:
        record.setdefault("eventVersion", "1.08")
        record.setdefault("awsRegion", region)
        record.setdefault("eventTime", _time(moment))
        record.setdefault("recipientAccountId", HOST)
        record.setdefault("eventType", "AwsApiCall")
        record.setdefault("eventID", f"{self.random.getrandbits(64):016x}")
        self.records.setdefault((region, moment.strftime("%Y/%m/%d")), []).append(record)
        self.expected.records += 1

    def assume(self, region: str, moment: datetime, caller: dict[str, Any], role: str, session_name: str,
               source_identity: str | None, error: str | None = None) -> str:
        key = self.key()
        request: dict[str, Any] = {"roleArn": f"arn:aws:iam::{HOST}:role/{role}", "roleSessionName": session_name}
        response: dict[str, Any] | None = {
            "credentials": {"accessKeyId": key, "expiration": "later", "sessionToken": "token"},
            "assumedRoleUser": {"assumedRoleId": f"AROAEXAMPLE:{session_name}",
                                "arn": f"arn:aws:sts::{HOST}:assumed-role/{role}/{session_name}"},
        }
        if source_identity:
            request["sourceIdentity"] = source_identity
            response["sourceIdentity"] = source_identity  # type: ignore[index]
        record = {"userIdentity": caller, "eventSource": "sts.amazonaws.com", "eventName": "AssumeRole",
                  "sourceIPAddress": "203.0.113.10", "requestParameters": request, "responseElements": response}
        if error:
            record["errorCode"] = error
            record["errorMessage"] = "not authorized to perform sts:AssumeRole"
            record["responseElements"] = None
        self.emit(region, moment, record)
        return key

    def call(self, region: str, moment: datetime, role: str, session_name: str, key: str, created: datetime,
             source: str, name: str, mfa: bool, source_identity: str | None, error: str | None = None) -> None:
        context: dict[str, Any] = {
            "sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLE", "arn": f"arn:aws:iam::{HOST}:role/{role}",
                              "accountId": HOST, "userName": role},
            "attributes": {"creationDate": _time(created), "mfaAuthenticated": "true" if mfa else "false"}}
        if source_identity:
            context["sourceIdentity"] = source_identity
        record: dict[str, Any] = {
            "userIdentity": {"type": "AssumedRole", "principalId": f"AROAEXAMPLE:{session_name}",
                             "arn": f"arn:aws:sts::{HOST}:assumed-role/{role}/{session_name}", "accountId": HOST,
                             "accessKeyId": key, "sessionContext": context},
            "eventSource": source, "eventName": name, "sourceIPAddress": "198.51.100.7",
            "requestParameters": {}, "responseElements": None}
        if error:
            record["errorCode"] = error
        self.emit(region, moment, record)


def partner_caller(user: str) -> dict[str, Any]:
    return {"type": "AWSAccount", "principalId": f"AIDA{user.upper():0>16}"[:21], "accountId": PARTNER}


def generate_week(folder: Path, sessions_per_user: int = 4, calls_per_session: int = 30,
                  noise_per_day: int = 50, seed: int = 7, records_per_file: int = 100_000) -> Expected:
    """Writes the week as a trail delivers it under `folder` (files of at most `records_per_file` records) and
    returns what the report must find."""
    week = _Week(seed)
    users = ("alice", "bob")
    expected = week.expected
    for day in range(7):
        for index, user in enumerate(users * sessions_per_user):
            if index // len(users) != day % sessions_per_user and day >= sessions_per_user:
                continue
            region = REGIONS[(day + index) % len(REGIONS)]
            start = START + timedelta(days=day, hours=8 + index, minutes=index * 7 % 60)
            person = (PARTNER, user)
            key = week.assume(region, start, partner_caller(user), ROLE, user, None)
            expected.add(person, "sts.amazonaws.com", "AssumeRole")
            expected.sessions[person] = expected.sessions.get(person, 0) + 1
            for number in range(calls_per_session):
                source, name = CALLS[number % len(CALLS)]
                # Spread over the session's first 50 minutes, however many calls it makes.
                moment = start + timedelta(seconds=(number + 1) * 3000 // (calls_per_session + 1))
                week.call(REGIONS[number % len(REGIONS)], moment, ROLE, user, key, start, source, name, True, None)
                expected.add(person, source, name)
            moment = start + timedelta(minutes=30)
            week.call(region, moment, ROLE, user, key, start, *DENIED_CALL, True, None, error="AccessDenied")
            expected.add(person, *DENIED_CALL, denied=True)
            week.call(region, moment, ROLE, user, key, start, "s3.amazonaws.com", "GetBucketPolicy", True, None,
                      error="NoSuchBucketPolicy")
            expected.add(person, "s3.amazonaws.com", "GetBucketPolicy")
        for number in range(noise_per_day):  # the host's own people and AWS services
            moment = START + timedelta(days=day, minutes=number * 13)
            region = REGIONS[number % len(REGIONS)]
            if number % 2:
                week.emit(region, moment, {"userIdentity": {"type": "IAMUser", "principalId": "AIDAHOST",
                                                            "arn": f"arn:aws:iam::{HOST}:user/ops",
                                                            "accountId": HOST, "accessKeyId": "AKIAHOST",
                                                            "userName": "ops"},
                                           "eventSource": "ec2.amazonaws.com", "eventName": "DescribeInstances"})
            else:
                week.emit(region, moment, {"userIdentity": {"type": "AWSService", "invokedBy": "config.amazonaws.com"},
                                           "eventSource": "kms.amazonaws.com", "eventName": "Decrypt",
                                           "eventType": "AwsServiceEvent"})
    # Day 3: bob chains from his session into the host's admin role (no grant names it) under another name.
    start = START + timedelta(days=3, hours=20)
    key = week.assume("eu-west-1", start, partner_caller("bob"), ROLE, "bob", None)
    expected.add((PARTNER, "bob"), "sts.amazonaws.com", "AssumeRole")
    chained_start = start + timedelta(minutes=2)
    chained_caller = {"type": "AssumedRole", "principalId": "AROAEXAMPLE:bob",
                      "arn": f"arn:aws:sts::{HOST}:assumed-role/{ROLE}/bob", "accountId": HOST, "accessKeyId": key,
                      "sessionContext": {"attributes": {"creationDate": _time(start), "mfaAuthenticated": "true"}}}
    chained_key = week.assume("eu-west-1", chained_start, chained_caller, ADMIN_ROLE, "maintenance", None)
    expected.add((PARTNER, "bob"), "sts.amazonaws.com", "AssumeRole")  # counted as a call of bob's first session
    week.call("eu-west-1", chained_start + timedelta(minutes=1), ADMIN_ROLE, "maintenance", chained_key,
              chained_start, "iam.amazonaws.com", "ListUsers", True, None)
    expected.add((PARTNER, "bob"), "iam.amazonaws.com", "ListUsers")
    expected.sessions[(PARTNER, "bob")] += 2
    # Day 4: mallory (not a partner user of the grant) switches without MFA; the trust refuses.
    failed_at = START + timedelta(days=4, hours=11)
    week.assume("us-east-1", failed_at, partner_caller("mallory"), ROLE, "mallory", None, error="AccessDenied")
    expected.add((PARTNER, "mallory"), "sts.amazonaws.com", "AssumeRole", denied=True)
    # Day 5: an account no grant names tries the role.
    week.assume("ap-southeast-2", START + timedelta(days=5, hours=2),
                {"type": "AWSAccount", "principalId": "AIDASTRANGER", "accountId": STRANGER}, ROLE, "eve", None,
                error="AccessDenied")
    expected.add((STRANGER, "eve"), "sts.amazonaws.com", "AssumeRole", denied=True)

    # Day 6: the host's own engineer tries the partner's role (nobody's activity, not a partner's).
    host_start = START + timedelta(days=6, hours=15)
    host_user = {"type": "IAMUser", "principalId": "AIDAHOST", "arn": f"arn:aws:iam::{HOST}:user/ops",
                 "accountId": HOST, "accessKeyId": "AKIAHOST", "userName": "ops"}
    host_key = week.assume("us-east-1", host_start, host_user, ROLE, "ops-check", None)
    for number in range(HOST_SESSION_CALLS):
        week.call("us-east-1", host_start + timedelta(minutes=number + 1), ROLE, "ops-check", host_key, host_start,
                  "ec2.amazonaws.com", "DescribeInstances", True, None)

    for (region, day), records in week.records.items():
        week.random.shuffle(records)
        target = folder / "AWSLogs" / HOST / "CloudTrail" / region / day
        target.mkdir(parents=True, exist_ok=True)
        for part, start in enumerate(range(0, len(records), records_per_file)):
            name = f"{HOST}_CloudTrail_{region}_{day.replace('/', '')}T0000Z_generated{part:04d}.json.gz"
            chunk = records[start:start + records_per_file]
            (target / name).write_bytes(gzip.compress(json.dumps({"Records": chunk}).encode(), mtime=0,
                                                      compresslevel=6))
    return expected
