"""A moto server on 127.0.0.1 with several accounts (IAM, STS, Organizations), reached the standard boto3 way.

`AWS_ENDPOINT_URL` points every boto3 client (the audit's and the fixtures') at the server. Credentials from STS
AssumeRole belong to the account of the assumed role's ARN in moto (its STS does not require the role to exist), so
a fixture acts in an account through `account_session`, exactly as the audit reaches member accounts.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator

import boto3
import moto.iam.models
import pytest
import requests
from moto.server import ThreadedMotoServer

# moto's default account: the caller's own account (the organization's management account in the org tests).
MANAGEMENT_ACCOUNT = "123456789012"
_FAKE_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    # AWS managed policies (AdministratorAccess) exist in moto's IAM only when loaded.
    "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
}
# moto loads its copy of every AWS managed policy into each account it creates, which costs seconds per account;
# the fixtures attach only these.
AWS_MANAGED_POLICIES_USED = ("AdministratorAccess", "ReadOnlyAccess")
_CLEARED = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "MOTO_ACCOUNT_ID")


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    every_policy = json.loads(moto.iam.models.aws_managed_policies_data)
    used = {name: every_policy[name] for name in AWS_MANAGED_POLICIES_USED}
    original = moto.iam.models.aws_managed_policies_data
    moto.iam.models.aws_managed_policies_data = json.dumps(used)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        moto.iam.models.aws_managed_policies_data = original


@pytest.fixture
def moto_aws(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path) -> str:
    """A fresh emulator for one test; the environment points boto3 at it with fake credentials only."""
    for name in _CLEARED:
        monkeypatch.delenv(name, raising=False)
    for name, value in _FAKE_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    # No real AWS config or credentials file can ever be read.
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    requests.post(f"{moto_endpoint}/moto-api/reset", timeout=30).raise_for_status()
    return moto_endpoint


def account_session(account_id: str, role_name: str = "fixture-admin") -> boto3.Session:
    """A session whose credentials belong to `account_id` in the emulator (through STS AssumeRole)."""
    credentials = boto3.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/{role_name}", RoleSessionName="fixture"
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=os.environ["AWS_DEFAULT_REGION"],
    )
