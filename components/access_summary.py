"""One plain sentence per grant saying who may switch into which role, with which permissions, under which conditions.

Each grant exports it as `access`, so a preview diff in a pull request says in words what a change does to access.
Pure: built from the validated grant alone; the External ID is mentioned, never its value. Each clause is its own
function so the tests can check each fact the sentence states against what the rendered documents do.
"""

from __future__ import annotations

from collections.abc import Sequence

from components.documents import INLINE_POLICY_NAME
from components.grant_model import POLICY_ARN_PATTERN, Grant, managed_policy_name


def _listing(items: Sequence[str]) -> str:
    if len(items) <= 2:
        return " and ".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def _plural(count: int, one: str, many: str) -> str:
    return one if count == 1 else many


def duration(seconds: int) -> str:
    """Seconds as a person says them: whole hours, else whole minutes, else seconds."""
    for unit_seconds, unit in ((3600, "hour"), (60, "minute"), (1, "second")):
        if seconds % unit_seconds == 0:
            count = seconds // unit_seconds
            return f"{count} {unit}{'' if count == 1 else 's'}"
    raise AssertionError("unreachable: every whole number of seconds is whole seconds")


def who_clause(grant: Grant) -> str:
    """The partner users the partner policy is attached to, directly or through the group."""
    parts = []
    if grant.partner_users:
        parts.append(f"{_plural(len(grant.partner_users), 'user', 'users')} {_listing(grant.partner_users)}")
    group = grant.partner_group
    if group is not None:
        if not group.create:
            parts.append(f"the members of existing group {group.name}")
        elif group.members:
            parts.append(f"the members of group {group.name} (created here with {_listing(group.members)})")
        else:
            parts.append(f"the members of group {group.name} (created here, with no members yet)")
    # "users a and b, and the members of ...": the comma keeps the users' own "and" from running into the group's.
    return (", and " if len(grant.partner_users) > 1 else " and ").join(parts)


def trust_clause(grant: Grant) -> str:
    """Whom the trust admits in the partner account: any of its users with the partner policy, or only those named."""
    if not grant.partner_principal_arns:
        return f"of partner account {grant.partner_account_id}"
    return (f"of partner account {grant.partner_account_id}, as far as the trust admits them (it names only "
            f"{_listing(grant.partner_principal_arns)})")


def permissions_clause(grant: Grant) -> str:
    """What the role lets them do: its managed and inline policies, and the boundary that caps them."""
    granted = []
    for arn in grant.managed_policy_arns:
        match = POLICY_ARN_PATTERN.fullmatch(arn)
        owner = "AWS managed" if match is not None and match["account"] == "aws" else "customer managed"
        granted.append(f"{owner} policy {managed_policy_name(arn)}")
    if grant.inline_policy is not None:
        granted.append(f"inline policy {INLINE_POLICY_NAME}")
    clause = f"with {_listing(granted)}" if granted else "with no permissions attached"
    if grant.permissions_boundary_arn is not None:
        clause += f", bounded by permissions boundary {managed_policy_name(grant.permissions_boundary_arn)}"
    return clause


def condition_clauses(grant: Grant) -> tuple[str, ...]:
    """The trust's conditions, each as it reads in the sentence, MFA first (it is always required)."""
    clauses = ["only with MFA"]
    if grant.max_mfa_age_seconds is not None:
        clauses.append(f"less than {duration(grant.max_mfa_age_seconds)} after their MFA sign-in")
    if grant.external_id_secret is not None:
        clauses.append(f"with the External ID (kept in secret config {grant.external_id_secret})")
    if grant.require_session_name_is_username:
        clauses.append("with the session name set to their own IAM user name")
    if grant.require_source_identity:
        clauses.append("with their own IAM user name as source identity")
    return tuple(clauses)


def session_clause(grant: Grant) -> str:
    return f"each session lasts at most {duration(grant.max_session_duration_seconds)}"


def access_sentence(grant: Grant) -> str:
    """Who, from which account, into which role, with which permissions, under which conditions, in one sentence."""
    who = who_clause(grant)
    return (f"{who[0].upper()}{who[1:]} {trust_clause(grant)} may switch into role {grant.role_arn} "
            f"{permissions_clause(grant)}, {', '.join(condition_clauses(grant))}; {session_clause(grant)}.")
