"""How the audit talks to AWS: boto3's standard credential chain, retries with backoff, and errors as text.

Credentials, region and endpoint come the standard boto3 way (a named profile or the environment, including
`AWS_ENDPOINT_URL`). Throttled calls are retried by botocore's "standard" retry mode, which retries throttling and
transient errors with exponential backoff and jitter.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

# Attempts per call, the first included.
MAX_ATTEMPTS = 10
RETRY_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS})


class AwsAccessError(RuntimeError):
    """An AWS call failed after retries (access denied, no credentials, unreachable endpoint...)."""


def new_session(profile: str | None = None, **credentials: Any) -> boto3.Session:
    try:
        return boto3.Session(profile_name=profile, **credentials)
    except BotoCoreError as error:
        raise AwsAccessError(str(error)) from error


def client(session: boto3.Session, service: str) -> Any:
    try:
        return session.client(service, config=RETRY_CONFIG)
    except BotoCoreError as error:
        raise AwsAccessError(f"{service}: {error}") from error


def describe_failure(action: str, error: Exception) -> str:
    """One line naming the IAM action and AWS's error code and message."""
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        return f"{action}: {details.get('Code', 'error')}: {details.get('Message', str(error))}"
    return f"{action}: {error}"


AWS_ERRORS = (BotoCoreError, ClientError)
