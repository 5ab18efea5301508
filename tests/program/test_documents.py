"""The pure document builders on their own: exact documents, links, profiles, the trust size IAM counts and the
access sentence, for each grant shape."""

from __future__ import annotations

import configparser
import json
from urllib.parse import parse_qs, urlparse

import pytest

from components.access_summary import access_sentence, duration
from components.documents import (
    cli_profile,
    partner_policy_document,
    policy_json,
    switch_role_url,
    trust_policy_document,
    trust_policy_size,
)
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


# --- The size IAM counts against the trust quota ------------------------------------------------------------------


def test_trust_size_counts_the_document_as_sent_without_whitespace():
    grant = make_grant(max_mfa_age_seconds=900, external_id_secret="k", require_source_identity=True,
                       partner_principal_arns=(f"arn:aws:iam::{PARTNER}:user/alice",))
    document = trust_policy_document(grant, external_id="ext-id-1")
    sent = policy_json(document)
    assert trust_policy_size(document) == len(sent) - sum(character.isspace() for character in sent)
    assert trust_policy_size(document) == len(json.dumps(document, separators=(",", ":")))
    assert trust_policy_size(json.loads(json.dumps(document, indent=4))) == trust_policy_size(document)


# --- The access sentence ------------------------------------------------------------------------------------------


def test_access_sentence_for_the_default_grant():
    grant = make_grant(partner_users=("alice",), managed_policy_arns=("arn:aws:iam::aws:policy/ReadOnlyAccess",))
    assert access_sentence(grant) == (
        f"User alice of partner account {PARTNER} may switch into role {ROLE_ARN} with AWS managed policy "
        "ReadOnlyAccess, only with MFA, with the session name set to their own IAM user name; each session lasts at "
        "most 1 hour."
    )


ACCESS_SHAPES = {
    "users-and-created-group": (
        make_grant(partner_users=("alice", "dave"), partner_group=PartnerGroup(name="ops", members=("bob", "carol"))),
        ["Users alice and dave, and the members of group ops (created here with bob and carol) of partner account"]),
    "existing-group": (make_grant(partner_group=PartnerGroup(name="ops", create=False)),
                       ["The members of existing group ops of partner account"]),
    "empty-created-group": (make_grant(partner_group=PartnerGroup(name="ops")),
                            ["The members of group ops (created here, with no members yet)"]),
    "listed-principals": (
        make_grant(partner_users=("alice",), partner_principal_arns=(f"arn:aws:iam::{PARTNER}:user/alice",
                                                                     f"arn:aws:iam::{PARTNER}:user/ops/bob")),
        [f"as far as the trust admits them (it names only arn:aws:iam::{PARTNER}:user/alice and "
         f"arn:aws:iam::{PARTNER}:user/ops/bob)"]),
    "permissions": (
        make_grant(partner_users=("alice",), managed_policy_arns=(
            "arn:aws:iam::aws:policy/ReadOnlyAccess", f"arn:aws:iam::{HOST}:policy/team/deploy"),
            inline_policy={"Version": "2012-10-17", "Statement": []},
            permissions_boundary_arn=f"arn:aws:iam::{HOST}:policy/boundaries/partner-boundary"),
        ["with AWS managed policy ReadOnlyAccess, customer managed policy deploy and inline policy "
         "partner-permissions, bounded by permissions boundary partner-boundary,"]),
    "no-permissions": (make_grant(partner_users=("alice",)), ["with no permissions attached"]),
    "every-condition": (
        make_grant(partner_users=("alice",), max_mfa_age_seconds=900, external_id_secret="partnerBExternalId",
                   require_source_identity=True, max_session_duration_seconds=43200),
        ["only with MFA, less than 15 minutes after their MFA sign-in, with the External ID (kept in secret config "
         "partnerBExternalId), with the session name set to their own IAM user name, with their own IAM user name as "
         "source identity; each session lasts at most 12 hours."]),
    "no-session-name-rule": (make_grant(partner_users=("alice",), require_session_name_is_username=False,
                                        max_session_duration_seconds=5400),
                             ["only with MFA; each session lasts at most 90 minutes."]),
    "other-partition": (make_grant(partner_users=("alice",), partition="aws-cn"),
                        [f"into role arn:aws-cn:iam::{HOST}:role/ex-for-aws-b"]),
}


@pytest.mark.parametrize(("grant", "facts"), list(ACCESS_SHAPES.values()), ids=list(ACCESS_SHAPES))
def test_access_sentence_states_each_fact_of_the_grant(grant, facts):
    sentence = access_sentence(grant)
    for fact in facts:
        assert fact in sentence
    assert grant.role_arn in sentence
    assert sentence.count(".") >= 1 and sentence.endswith(".")
    assert "\n" not in sentence


def test_access_sentence_never_holds_the_external_id():
    grant = make_grant(partner_users=("alice",), external_id_secret="partnerBExternalId")
    assert "Shared-Secret" not in access_sentence(grant)
    assert "External ID" in access_sentence(grant)


@pytest.mark.parametrize(("seconds", "words"), [(3600, "1 hour"), (43200, "12 hours"), (5400, "90 minutes"),
                                                 (60, "1 minute"), (61, "61 seconds"), (1, "1 second")])
def test_durations_read_as_people_say_them(seconds, words):
    assert duration(seconds) == words
