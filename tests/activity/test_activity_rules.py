"""The counting rules and findings on the aggregation's rows directly: the cases the real samples and the generated
week do not show (a session without MFA, a refused console switch, a console session tied by creationDate)."""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import UTC, datetime

from components.grant_model import parse_grants
from partner_access.activity import findings as codes
from partner_access.activity.aggregation import AggregateRow
from partner_access.activity.attribution import attribute
from partner_access.activity.embedded import aggregate_files
from partner_access.activity.findings import findings

HOST, PARTNER = "111111111111", "222222222222"
ROLE_ARN = f"arn:aws:iam::{HOST}:role/ex-for-aws-b"
GRANTS = parse_grants([{"roleName": "ex-for-aws-b", "hostAccountId": HOST, "partnerAccountId": PARTNER,
                        "partnerUsers": ["alice"]}])


def row(**values) -> AggregateRow:
    base = {field.name: None for field in fields(AggregateRow)}
    base.update(records=1, denied=0, mfa_true=0, mfa_false=0, recipient_account=HOST)
    base.update(values)
    return AggregateRow(**base)


def assume(time: str, key: str, error: str | None = None) -> AggregateRow:
    return row(kind="assume", event_time=time, identity_type="AWSAccount", identity_account=PARTNER,
               role_arn=ROLE_ARN, session_name="alice", issued_key=key, error_code=error,
               event_source="sts.amazonaws.com", event_name="AssumeRole", denied=int(error == "AccessDenied"))


def calls(time: str, key: str, created: str, mfa: bool, records: int = 3) -> AggregateRow:
    return row(kind="calls", event_time=time, identity_type="AssumedRole", access_key=key, caller_role="ex-for-aws-b",
               caller_session="alice", credentials_created=created, event_source="ec2.amazonaws.com",
               event_name="DescribeInstances", records=records, mfa_true=records if mfa else 0,
               mfa_false=0 if mfa else records, source_ip="198.51.100.7")


def test_a_session_whose_calls_lack_mfa_is_a_finding():
    attribution = attribute([assume("2026-03-02T08:00:00Z", "ASIA1"),
                             calls("2026-03-02T08:01:00Z", "ASIA1", "2026-03-02T08:00:00Z", mfa=False)], GRANTS)
    (alice,) = attribution.people()
    assert alice.sessions[0].mfa is False
    assert [f.code for f in findings(attribution, GRANTS, [])] == [codes.SESSION_WITHOUT_MFA]


def test_console_calls_with_another_key_belong_to_the_session_their_credentials_date_names():
    attribution = attribute([
        assume("2026-03-02T08:00:00Z", "ASIA1"),
        assume("2026-03-02T12:00:00Z", "ASIA2"),
        calls("2026-03-02T12:05:00Z", "ASIACONSOLE", "2026-03-02T12:00:01Z", mfa=True, records=4),
        calls("2026-03-02T08:05:00Z", "ASIACONSOLE0", "2026-03-02T08:00:00Z", mfa=True, records=2),
    ], GRANTS)
    sessions = attribution.sessions[(PARTNER, "alice")]
    assert [(s.start, s.mfa_true) for s in sessions] == [("2026-03-02T08:00:00Z", 2), ("2026-03-02T12:00:00Z", 4)]
    assert not attribution.sessionless


def test_a_refused_console_switch_names_the_partner_user_from_switch_from():
    refused = row(kind="switch", event_time="2026-03-02T09:00:00Z", identity_type="IAMUser", error_code="Failure",
                  switch_from=f"arn:aws:iam::{PARTNER}:user/team/bob", event_source="signin.amazonaws.com",
                  event_name="SwitchRole")
    attribution = attribute([refused, assume("2026-03-02T09:00:00Z", "ASIA9", error="AccessDenied")], GRANTS)
    people = {(p.account, p.name): p for p in attribution.people()}
    assert set(people) == {(PARTNER, "bob"), (PARTNER, "alice")}
    found = {(f.code, f.name) for f in findings(attribution, GRANTS, [])}
    assert (codes.FAILED_SWITCH, "bob") in found and (codes.FAILED_SWITCH, "alice") in found


def test_the_shipped_sql_counts_only_authorization_errors_as_denials(tmp_path):
    errors = ["AccessDenied", "AccessDeniedException", "Client.UnauthorizedOperation", "UnauthorizedOperation",
              "NoSuchBucketPolicy", "ThrottlingException", None]
    identity = {"type": "AssumedRole", "arn": f"arn:aws:sts::{HOST}:assumed-role/ex-for-aws-b/alice",
                "accountId": HOST, "accessKeyId": "ASIA1",
                "sessionContext": {"attributes": {"mfaAuthenticated": "true", "creationDate": "2026-03-02T08:00:00Z"}}}
    records = [{"eventTime": "2026-03-02T08:01:00Z", "eventSource": "ec2.amazonaws.com", "eventName": "RunInstances",
                "userIdentity": identity, "recipientAccountId": HOST, **({"errorCode": error} if error else {})}
               for error in errors]
    (tmp_path / "log.json").write_text(json.dumps({"Records": records}))
    result = aggregate_files([str(tmp_path / "log.json")], [HOST], datetime(2026, 3, 1, tzinfo=UTC),
                             datetime(2026, 3, 3, tzinfo=UTC))
    (grouped,) = [r for r in result.rows if r.kind == "calls"]
    assert (grouped.records, grouped.denied, grouped.mfa_true) == (len(errors), 4, len(errors))
