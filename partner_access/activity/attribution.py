"""From the aggregation's rows to people: who started which session, and which records each session made.

The counting rules (docs/activity.md):
- a person is a partner account plus a name: the session's source identity where it has one, else its role session
  name; a chained session belongs to the person whose session created it; host principals and AWS services are not
  people;
- a session is one successful AssumeRole into a host role; it starts at that AssumeRole's time; its MFA is what its
  calls' mfaAuthenticated says;
- a person's actions are the host's copies of the AssumeRole calls that created or tried to create their sessions,
  their SwitchRole records, and every record made with their sessions' credentials. Console sessions sign their calls
  with other access keys than the one AssumeRole returned, so a call is tied to its session by the access key, or
  else by role, session name and the credentials' creationDate.
"""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from components.grant_model import Grant
from partner_access.activity.aggregation import AggregateRow
from partner_access.activity.grants_config import grant_role_arn
from partner_access.activity.report import Action, Person, Session

# Console credentials are created by the switch itself; allow for the two clocks.
CREDENTIALS_CLOCK_SKEW = timedelta(seconds=5)
# The longest a role session lasts (MaxSessionDuration); a call's credentials are never older than their session.
LONGEST_SESSION = timedelta(hours=12)
UNRESOLVED_SOURCE_IPS = ("AWS Internal",)

PersonKey = tuple[str, str]


def _time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")


def person_key(account: str, name: str) -> PersonKey:
    # Partner user names are unique per account whatever their case, as IAM compares them.
    return (account, name.casefold())


def role_name(role_arn: str) -> str:
    return role_arn.rsplit("/", 1)[-1]


@dataclass
class _OpenSession:
    person: PersonKey | None  # None: a host principal's session, nobody's, kept so its calls are not taken for one
    host_account: str
    role_arn: str
    session_name: str
    source_identity: str | None
    start: str
    region: str | None
    source_ip: str | None
    chained_from: str | None
    mfa_true: int = 0
    mfa_false: int = 0

    def session(self) -> Session:
        mfa = None if self.mfa_true + self.mfa_false == 0 else self.mfa_false == 0
        return Session(start=self.start, role_arn=self.role_arn, session_name=self.session_name,
                       source_identity=self.source_identity, mfa=mfa, source_ip=self.source_ip, region=self.region,
                       chained_from=self.chained_from)


@dataclass(frozen=True)
class FailedAttempt:
    person: PersonKey
    event_name: str
    target: str
    error_code: str
    time: str


@dataclass(frozen=True)
class SessionlessCalls:
    """Calls in a grant's role whose AssumeRole is not in the logs (another region, or before the window)."""

    person: PersonKey
    role_arn: str
    session_name: str
    records: int
    first: str


@dataclass
class Attribution:
    names: dict[PersonKey, str] = field(default_factory=dict)
    sessions: dict[PersonKey, list[_OpenSession]] = field(default_factory=lambda: defaultdict(list))
    actions: dict[PersonKey, Counter[tuple[str, str]]] = field(default_factory=lambda: defaultdict(Counter))
    denied: dict[PersonKey, Counter[tuple[str, str]]] = field(default_factory=lambda: defaultdict(Counter))
    failed_attempts: list[FailedAttempt] = field(default_factory=list)
    chained_into_unknown_roles: list[tuple[PersonKey, str, str]] = field(default_factory=list)
    sessionless: list[SessionlessCalls] = field(default_factory=list)
    foreign_accounts: Counter[str] = field(default_factory=Counter)
    # Per role ARN: (eventSource, eventName) -> calls that were not denied, for least privilege.
    used_by_role: dict[str, Counter[tuple[str, str]]] = field(default_factory=lambda: defaultdict(Counter))
    other_records: Counter[str] = field(default_factory=Counter)

    def people(self) -> tuple[Person, ...]:
        people = []
        for key in sorted(set(self.sessions) | set(self.actions)):
            sessions = tuple(sorted((open_session.session() for open_session in self.sessions.get(key, ())),
                                    key=lambda session: (session.start, session.role_arn)))
            actions = tuple(Action(source, name, count, self.denied[key][(source, name)])
                            for (source, name), count in sorted(self.actions[key].items()))
            roles = tuple(dict.fromkeys(session.role_arn for session in sessions))
            people.append(Person(account=key[0], name=self.names[key], roles=roles, sessions=sessions,
                                 actions=actions))
        return tuple(people)

    def count(self, key: PersonKey, event_source: str, event_name: str, records: int, denied: int) -> None:
        self.actions[key][(event_source, event_name)] += records
        self.denied[key][(event_source, event_name)] += denied


class _SessionIndex:
    """Finds the session a record's credentials belong to."""

    def __init__(self) -> None:
        self.by_key: dict[str, _OpenSession] = {}
        self.by_name: dict[tuple[str, str, str], list[tuple[str, _OpenSession]]] = defaultdict(list)

    def add(self, issued_key: str | None, open_session: _OpenSession) -> None:
        if issued_key:
            self.by_key[issued_key] = open_session
        entries = self.by_name[(open_session.host_account, role_name(open_session.role_arn).casefold(),
                                open_session.session_name)]
        bisect.insort(entries, (open_session.start, open_session), key=lambda entry: entry[0])

    def find(self, row: AggregateRow, moment: str | None) -> _OpenSession | None:
        if row.access_key and row.access_key in self.by_key:
            return self.by_key[row.access_key]
        if not (row.caller_role and row.caller_session and moment and row.recipient_account):
            return None
        entries = self.by_name.get((row.recipient_account, row.caller_role.casefold(), row.caller_session), [])
        latest_start = _time(moment) + CREDENTIALS_CLOCK_SKEW
        for start, open_session in reversed(entries):
            started = _time(start)
            if started <= latest_start:
                return open_session if latest_start - started <= LONGEST_SESSION + CREDENTIALS_CLOCK_SKEW else None
        return None


def _switch_from_person(switch_from: str | None) -> PersonKey | None:
    # arn:aws:iam::<account>:user/<path/><name>: the partner user's full ARN.
    if not switch_from or ":user/" not in switch_from:
        return None
    account = switch_from.split(":")[4]
    return (account, switch_from.rsplit("/", 1)[-1])


def attribute(rows: Iterable[AggregateRow], grants: Sequence[Grant]) -> Attribution:
    grant_roles = {(grant.host_account_id, grant.role_name.casefold()): grant for grant in grants}
    partner_accounts = {grant.partner_account_id for grant in grants}
    result = Attribution()
    index = _SessionIndex()
    by_kind: dict[str, list[AggregateRow]] = defaultdict(list)
    for row in rows:
        by_kind[row.kind].append(row)

    def name_person(account: str, name: str) -> PersonKey:
        key = person_key(account, name)
        result.names.setdefault(key, name)
        return key

    # Sessions first, oldest first, so a chained session's parent is always known before it.
    for row in sorted(by_kind["assume"], key=lambda row: (row.event_time or "", row.identity_type != "AWSAccount")):
        if not row.role_arn or not row.session_name or not row.event_time or not row.recipient_account:
            continue
        if row.identity_type == "AWSAccount" and row.identity_account:
            person = name_person(row.identity_account, row.source_identity or row.session_name)
            result.count(person, row.event_source or "", row.event_name or "", 1, row.denied)
            if row.identity_account not in partner_accounts:
                result.foreign_accounts[row.identity_account] += 1
            chained_from = None
        else:
            parent = index.find(row, row.credentials_created or row.event_time)
            if parent is None or parent.person is None:
                # The host's own principals assuming roles: nobody's, but remembered, so that their sessions'
                # calls in a grant's role are not taken for a partner's.
                if not row.error_code:
                    index.add(row.issued_key, _OpenSession(
                        person=None, host_account=row.recipient_account, role_arn=row.role_arn,
                        session_name=row.session_name, source_identity=row.source_identity, start=row.event_time,
                        region=row.region, source_ip=None, chained_from=None))
                continue
            person = parent.person
            chained_from = parent.role_arn
        if row.error_code:
            result.failed_attempts.append(FailedAttempt(person, "AssumeRole", row.role_arn, row.error_code,
                                                        row.event_time))
            continue
        is_grant_role = (row.recipient_account, role_name(row.role_arn).casefold()) in grant_roles
        if not is_grant_role:
            result.chained_into_unknown_roles.append((person, row.role_arn, row.event_time))
        source_ip = None if row.source_ip in UNRESOLVED_SOURCE_IPS else row.source_ip
        open_session = _OpenSession(person=person, host_account=row.recipient_account, role_arn=row.role_arn,
                                    session_name=row.session_name, source_identity=row.source_identity,
                                    start=row.event_time, region=row.region, source_ip=source_ip,
                                    chained_from=chained_from)
        result.sessions[person].append(open_session)
        index.add(row.issued_key, open_session)

    for row in by_kind["switch"]:
        open_session = index.find(row, row.event_time)
        if open_session is not None and open_session.person is None:
            result.other_records["host role sessions"] += row.records
            continue
        person = open_session.person if open_session else _switch_from_person(row.switch_from)
        if person is None:
            result.other_records["SwitchRole without a partner user"] += row.records
            continue
        if open_session is None:
            person = name_person(*person)
        elif open_session.source_ip is None:
            open_session.source_ip = row.source_ip
        result.count(person, row.event_source or "", row.event_name or "", row.records, row.denied)
        if row.error_code:
            target = f"role {row.caller_role}" if row.caller_role else "a host role"
            result.failed_attempts.append(FailedAttempt(person, "SwitchRole", target, row.error_code,
                                                        row.event_time or ""))

    for row in sorted(by_kind["calls"], key=lambda row: row.event_time or ""):
        _attribute_calls(row, index, grant_roles, partner_accounts, result, name_person)

    for row in by_kind["other"]:
        result.other_records[row.identity_type or "unknown"] += row.records
    return result


def _attribute_calls(row: AggregateRow, index: _SessionIndex, grant_roles: dict[tuple[str, str], Grant],
                     partner_accounts: set[str], result: Attribution,
                     name_person: Callable[[str, str], PersonKey]) -> None:
    source, name = row.event_source or "", row.event_name or ""
    if row.identity_type == "AWSAccount":
        # A cross-account call without a session of ours (a resource policy letting another account in).
        if row.identity_account and row.identity_account not in partner_accounts:
            result.foreign_accounts[row.identity_account] += row.records
        else:
            result.other_records["partner account, without a session"] += row.records
        return
    open_session = index.find(row, row.credentials_created or row.event_time)
    if open_session is not None and open_session.person is None:
        result.other_records["host role sessions"] += row.records
        return
    if open_session is not None and open_session.person is not None:
        person = open_session.person
        open_session.mfa_true += row.mfa_true
        open_session.mfa_false += row.mfa_false
        if open_session.source_ip is None:  # Rows come oldest first: this is the session's first call.
            open_session.source_ip = row.source_ip
        result.used_by_role[open_session.role_arn][(source, name)] += row.records - row.denied
        result.count(person, source, name, row.records, row.denied)
        return
    grant = grant_roles.get((row.recipient_account or "", (row.caller_role or "").casefold()))
    if grant is None or not row.caller_session:
        result.other_records["host role sessions"] += row.records
        return
    # The grant's role, but the AssumeRole is not in these logs: still the partner's, by the grant's account.
    person = name_person(grant.partner_account_id, row.caller_session)
    result.count(person, source, name, row.records, row.denied)
    result.used_by_role[grant_role_arn(grant)][(source, name)] += row.records - row.denied
    result.sessionless.append(SessionlessCalls(person, grant_role_arn(grant), row.caller_session, row.records,
                                               row.event_time or ""))
