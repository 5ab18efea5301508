"""Several AWS accounts inside one moto IAM emulator, for tests.

moto files every request under the account named by the MOTO_ACCOUNT_ID environment variable when it is set
(docs.getmoto.org, "Multi-Account support"), so switching that variable between calls puts the host side and the
partner side in their own accounts, each with its own users, roles and policies.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import boto3
from moto import mock_aws

ACCOUNT_VARIABLE = "MOTO_ACCOUNT_ID"

# Fake credentials, so nothing in the emulator can ever use (or need) real ones.
_FAKE_AWS_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@contextmanager
def emulated_iam() -> Iterator[Any]:
    """An IAM client talking to a fresh moto emulator; pick the account per call with `in_account`."""
    with mock.patch.dict(os.environ, _FAKE_AWS_ENVIRONMENT), mock_aws():
        yield boto3.client("iam", region_name=_FAKE_AWS_ENVIRONMENT["AWS_DEFAULT_REGION"])


@contextmanager
def in_account(account_id: str) -> Iterator[None]:
    """Every emulated request made inside this block lands in `account_id`."""
    with mock.patch.dict(os.environ, {ACCOUNT_VARIABLE: account_id}):
        yield
