"""Findings with stable codes, from the attribution and the grants. Scripts match on the codes; the messages are for
people."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

from components.grant_model import Grant
from partner_access.activity.attribution import Attribution, PersonKey, role_name
from partner_access.activity.grants_config import known_partner_users
from partner_access.activity.inputs import Skipped
from partner_access.activity.report import Finding

FAILED_SWITCH = "ACT-001"
UNKNOWN_SESSION_NAME = "ACT-002"
SESSION_WITHOUT_MFA = "ACT-003"
CHAINED_INTO_UNKNOWN_ROLE = "ACT-004"
DENIED_CALLS = "ACT-005"
UNKNOWN_ACCOUNT = "ACT-006"
SESSION_NOT_IN_LOGS = "ACT-007"
INPUT_SKIPPED = "ACT-008"

FINDING_CODES: dict[str, str] = {
    FAILED_SWITCH: "an AssumeRole or SwitchRole into a host role failed (e.g. without MFA)",
    UNKNOWN_SESSION_NAME: "a session name that is not a known partner user of that grant",
    SESSION_WITHOUT_MFA: "a session whose calls say mfaAuthenticated false",
    CHAINED_INTO_UNKNOWN_ROLE: "a session (chained or direct) into a host role that no grant names",
    DENIED_CALLS: "calls refused with AccessDenied, AccessDeniedException or (Client.)UnauthorizedOperation",
    UNKNOWN_ACCOUNT: "activity from an account that no grant names",
    SESSION_NOT_IN_LOGS: "calls in a grant's role whose AssumeRole is not in the logs read",
    INPUT_SKIPPED: "a log file or record that could not be read and is left out of the report",
}


def _known_users(grant: Grant) -> set[str]:
    return {name.casefold() for name in known_partner_users(grant)}


def findings(attribution: Attribution, grants: Sequence[Grant], skipped: Sequence[Skipped]) -> tuple[Finding, ...]:
    names = attribution.names
    grant_by_role = {(grant.host_account_id, grant.role_name.casefold()): grant for grant in grants}
    found: list[Finding] = []

    def finding(code: str, person: PersonKey | None, message: str) -> None:
        found.append(Finding(code, person[0] if person else None, names.get(person) if person else None, message))

    attempts: dict[tuple[PersonKey, str, str, str], list[str]] = defaultdict(list)
    for attempt in attribution.failed_attempts:
        attempts[(attempt.person, attempt.event_name, attempt.target, attempt.error_code)].append(attempt.time)
    partner_accounts = {grant.partner_account_id for grant in grants}
    for (person, event_name, target, error_code), times in sorted(attempts.items()):
        why = ("a trust that requires MFA refuses a switch without it" if person[0] in partner_accounts
               else f"no grant names account {person[0]}, so no trust lets it in")
        finding(FAILED_SWITCH, person, f"{len(times)} {event_name} into {target} failed with {error_code} "
                f"(first {min(times)}, last {max(times)}); {why}")

    for person, open_sessions in sorted(attribution.sessions.items()):
        for open_session in open_sessions:
            session = open_session.session()
            grant = grant_by_role.get((open_session.host_account, role_name(session.role_arn).casefold()))
            if (grant is not None and session.chained_from is None
                    and session.session_name.casefold() not in _known_users(grant)):
                finding(UNKNOWN_SESSION_NAME, person, f"session {session.session_name!r} into {session.role_arn} at "
                        f"{session.start} is not a partner user of grant {grant.grant_name!r} "
                        f"({', '.join(known_partner_users(grant)) or 'none listed'})")
            if session.mfa is False:
                finding(SESSION_WITHOUT_MFA, person, f"session {session.session_name!r} into {session.role_arn} at "
                        f"{session.start} made calls without MFA (mfaAuthenticated false)")

    for person, role_arn, time in attribution.chained_into_unknown_roles:
        finding(CHAINED_INTO_UNKNOWN_ROLE, person, f"a session into {role_arn} at {time}, a host role that no grant "
                "names; the partner reached beyond the roles granted to it")

    for person in sorted(attribution.denied):
        denied = Counter({action: count for action, count in attribution.denied[person].items() if count})
        if denied:
            top = ", ".join(f"{source.split('.')[0]}:{name} x{count}" for (source, name), count in
                            denied.most_common(5))
            finding(DENIED_CALLS, person, f"{sum(denied.values())} calls were denied ({top})")

    for account, records in sorted(attribution.foreign_accounts.items()):
        finding(UNKNOWN_ACCOUNT, (account, ""), f"{records} records came from account {account}, which no grant's "
                "partnerAccountId names")

    sessionless: dict[tuple[PersonKey, str], int] = Counter()
    for calls in attribution.sessionless:
        sessionless[(calls.person, calls.role_arn)] += calls.records
    for (person, role_arn), records in sorted(sessionless.items()):
        finding(SESSION_NOT_IN_LOGS, person, f"{records} calls in {role_arn} come from a session whose AssumeRole "
                "is not in the logs read (another region, or before --since); read every region's logs")

    for item in skipped:
        found.append(Finding(INPUT_SKIPPED, None, None, str(item)))
    return tuple(found)
