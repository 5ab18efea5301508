"""Collection details: pagination (botocore Stubber) and throttling retried with backoff (botocore's retry handler
against the moto server, with throttling responses injected before they are sent)."""

from __future__ import annotations

import json
from typing import Any

import boto3
import botocore.retries.standard
import pytest
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber

from partner_access.audit import account_collection
from partner_access.audit.account_collection import ENTITY_FILTER, collect_account
from partner_access.audit.aws_access import MAX_ATTEMPTS, RETRY_CONFIG, AwsAccessError

from .conftest import MANAGEMENT_ACCOUNT
from .iam_fixture import root, trust

THROTTLED = (b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message>"
             b"</Error><RequestId>throttled</RequestId></ErrorResponse>")


class _Body:
    def __init__(self, content: bytes) -> None:
        self._content = content

    def stream(self, **_: Any):
        yield self._content


def role_detail(name: str) -> dict[str, Any]:
    return {"Path": "/", "RoleName": name, "RoleId": "AROAEXAMPLE0000000000",
            "Arn": f"arn:aws:iam::{MANAGEMENT_ACCOUNT}:role/{name}",
            "CreateDate": "2026-01-01T00:00:00Z", "AssumeRolePolicyDocument": trust(root("222222222222"))}


def test_every_page_of_the_authorization_details_and_of_list_roles_is_read(monkeypatch):
    iam = boto3.client("iam", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(iam)
    stubber.add_response("get_account_authorization_details",
                         {"RoleDetailList": [role_detail("first")], "IsTruncated": True, "Marker": "page-2"},
                         {"Filter": ENTITY_FILTER})
    stubber.add_response("get_account_authorization_details",
                         {"RoleDetailList": [role_detail("second")], "IsTruncated": False},
                         {"Filter": ENTITY_FILTER, "Marker": "page-2"})
    stubber.add_response("list_roles", {"Roles": [{**role_detail("first"), "MaxSessionDuration": 7200}],
                                        "IsTruncated": True, "Marker": "roles-2"}, {})
    stubber.add_response("list_roles", {"Roles": [{**role_detail("second"), "MaxSessionDuration": 3600}],
                                        "IsTruncated": False}, {"Marker": "roles-2"})
    monkeypatch.setattr(account_collection, "client", lambda session, service: iam)

    with stubber:
        snapshot = collect_account(boto3.Session(), MANAGEMENT_ACCOUNT)
        stubber.assert_no_pending_responses()

    assert [(role.name, role.max_session_duration) for role in snapshot.roles] == [("first", 7200), ("second", 3600)]
    assert json.loads(snapshot.roles[0].trust_document) == json.loads(trust(root("222222222222")))


def test_the_retry_mode_is_botocores_standard_mode():
    assert RETRY_CONFIG.retries == {"mode": "standard", "total_max_attempts": MAX_ATTEMPTS}


@pytest.fixture
def backoff_delays(monkeypatch) -> list[int]:
    """The backoff botocore asks for between attempts, recorded and not slept, so the test takes no time."""
    delays: list[int] = []

    def record(self, context: Any) -> float:
        delays.append(context.attempt_number)
        return 0.0

    monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", record)
    return delays


def throttle(session: boto3.Session, operation: str, times: int) -> list[str]:
    """The first `times` calls of the IAM operation are answered with IAM's Throttling error before being sent."""
    calls: list[str] = []

    def respond(request: Any, **_: Any) -> AWSResponse | None:
        calls.append(operation)
        if len(calls) <= times:
            return AWSResponse(request.url, 400, {}, _Body(THROTTLED))
        return None

    session.events.register(f"before-send.iam.{operation}", respond)
    return calls


def test_throttled_calls_are_retried_with_backoff_until_they_succeed(moto_aws, backoff_delays):
    boto3.client("iam").create_role(RoleName="partner", AssumeRolePolicyDocument=trust(root("222222222222")))
    session = boto3.Session()
    calls = throttle(session, "GetAccountAuthorizationDetails", times=3)

    snapshot = collect_account(session, MANAGEMENT_ACCOUNT)

    assert [role.name for role in snapshot.roles] == ["partner"]
    assert len(calls) == 4
    assert backoff_delays == [1, 2, 3]


def test_throttling_past_the_retries_is_an_access_error_naming_the_action(moto_aws, backoff_delays):
    session = boto3.Session()
    calls = throttle(session, "ListRoles", times=MAX_ATTEMPTS)

    with pytest.raises(AwsAccessError) as raised:
        collect_account(session, MANAGEMENT_ACCOUNT)

    assert len(calls) == MAX_ATTEMPTS
    assert str(raised.value).startswith("iam:ListRoles: Throttling: Rate exceeded")
