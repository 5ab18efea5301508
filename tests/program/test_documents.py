"""The pure document builders on their own: exact documents, links and profiles for each grant shape."""

from __future__ import annotations

import configparser
from urllib.parse import parse_qs, urlparse

import pytest

from components.documents import cli_profile, partner_policy_document, switch_role_url, trust_policy_document
from components.grant_model import Grant, PartnerGroup

HOST = "111111111111"
PARTNER = "222222222222"
ROLE_ARN = f"arn:aws:iam::{HOST}:role/ex-for-aws-b"


def make_grant(**fields: object) -> Grant:
    return Grant(role_name="ex-for-aws-b", host_account_id=HOST, partner_account_id=PARTNER, **fields)


def test_default_trust_is_partner_root_with_mfa_and_own_session_name():
    assert trust_policy_document(make_grant()) == {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "PartnerAssumeRoleWithMfa",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{PARTNER}:root"},
            "Action": "sts:AssumeRole",
            "Condition": {
                "Bool": {"aws:MultiFactorAuthPresent": "true"},
                "StringEquals": {"sts:RoleSessionName": "${aws:username}"},
            },
        }],
    }


def test_mfa_is_bool_never_bool_if_exists_whatever_the_options():
    grant = make_grant(max_mfa_age_seconds=900, require_session_name_is_username=False, require_source_identity=True,
                       external_id_secret="k")
    (statement,) = trust_policy_document(grant, external_id="ext-id-1")["Statement"]
    assert statement["Condition"]["Bool"] == {"aws:MultiFactorAuthPresent": "true"}
    assert not any("IfExists" in operator for operator in statement["Condition"])


def test_every_option_lands_in_the_trust_conditions():
    grant = make_grant(
        max_mfa_age_seconds=900,
        external_id_secret="partnerBExternalId",
        require_source_identity=True,
        partner_principal_arns=(f"arn:aws:iam::{PARTNER}:user/alice", f"arn:aws:iam::{PARTNER}:user/bob"),
    )
    (statement,) = trust_policy_document(grant, external_id="ext-id-1")["Statement"]
    assert statement["Principal"] == {"AWS": [f"arn:aws:iam::{PARTNER}:user/alice",
                                              f"arn:aws:iam::{PARTNER}:user/bob"]}
    assert statement["Action"] == ["sts:AssumeRole", "sts:SetSourceIdentity"]
    assert statement["Condition"] == {
        "Bool": {"aws:MultiFactorAuthPresent": "true"},
        "NumericLessThan": {"aws:MultiFactorAuthAge": "900"},
        "StringEquals": {
            "sts:RoleSessionName": "${aws:username}",
            "sts:SourceIdentity": "${aws:username}",
            "sts:ExternalId": "ext-id-1",
        },
    }


def test_session_name_requirement_can_be_switched_off_but_mfa_cannot():
    (statement,) = trust_policy_document(make_grant(require_session_name_is_username=False))["Statement"]
    assert statement["Condition"] == {"Bool": {"aws:MultiFactorAuthPresent": "true"}}


def test_a_grant_that_requires_an_external_id_refuses_to_render_without_one():
    with pytest.raises(ValueError, match="requires an External ID"):
        trust_policy_document(make_grant(external_id_secret="partnerBExternalId"))


def test_partner_policy_allows_assume_role_on_exactly_the_role():
    assert partner_policy_document(make_grant(role_path="/partners/")) == {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "AssumePartnerRole", "Effect": "Allow", "Action": "sts:AssumeRole",
                       "Resource": f"arn:aws:iam::{HOST}:role/partners/ex-for-aws-b"}],
    }


def test_partner_policy_lets_users_stamp_only_their_own_name_as_source_identity():
    statements = partner_policy_document(make_grant(require_source_identity=True))["Statement"]
    assert statements[1] == {
        "Sid": "SetOwnNameAsSourceIdentity",
        "Effect": "Allow",
        "Action": "sts:SetSourceIdentity",
        "Resource": ROLE_ARN,
        "Condition": {"StringEquals": {"sts:SourceIdentity": "${aws:username}"}},
    }


@pytest.mark.parametrize(("grant", "host", "role_name"), [
    (make_grant(), "signin.aws.amazon.com", "ex-for-aws-b"),
    (make_grant(role_path="/partners/b/"), "signin.aws.amazon.com", "partners/b/ex-for-aws-b"),
    (make_grant(partition="aws-cn"), "signin.amazonaws.cn", "ex-for-aws-b"),
    (make_grant(partition="aws-us-gov"), "signin.amazonaws-us-gov.com", "ex-for-aws-b"),
])
def test_switch_role_url(grant, host, role_name):
    url = urlparse(switch_role_url(grant))
    assert (url.scheme, url.netloc, url.path) == ("https", host, "/switchrole")
    assert parse_qs(url.query) == {"account": [HOST], "roleName": [role_name],
                                   "displayName": [f"ex-for-aws-b@{HOST}"]}


def test_switch_role_url_escapes_the_display_name():
    url = switch_role_url(make_grant(display_name="Partner B & co"))
    assert "displayName=Partner+B+%26+co" in url


def read_profile(text: str) -> dict[str, str]:
    parser = configparser.ConfigParser()
    parser.read_string(text)
    return dict(parser["profile ex-for-aws-b"])


def test_cli_profile_is_a_valid_aws_config_section_naming_the_user():
    grant = make_grant(max_session_duration_seconds=7200, cli_source_profile="partner-b",
                       partner_group=PartnerGroup(name="g", members=("bob",)))
    assert read_profile(cli_profile(grant, "bob")) == {
        "role_arn": ROLE_ARN,
        "source_profile": "partner-b",
        "mfa_serial": f"arn:aws:iam::{PARTNER}:mfa/bob",
        "role_session_name": "bob",
        "duration_seconds": "7200",
    }


def test_cli_profile_carries_the_external_id_when_set():
    profile = read_profile(cli_profile(make_grant(external_id_secret="k"), "alice", external_id="ext-id-1"))
    assert profile["external_id"] == "ext-id-1"


def test_cli_profile_for_a_source_identity_role_says_how_to_set_one():
    text = cli_profile(make_grant(require_source_identity=True), "alice")
    assert "--source-identity alice" in text
    assert read_profile(text)["role_session_name"] == "alice"
