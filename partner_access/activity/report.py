"""The report: people, their sessions and actions, findings, and proposed policies. Its JSON form is what scripts
read, so the names here are the JSON's names."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from partner_access.activity.inputs import Skipped


@dataclass(frozen=True)
class Session:
    """One successful AssumeRole into a host role (console switch, CLI or chained)."""

    start: str
    role_arn: str
    session_name: str
    source_identity: str | None
    mfa: bool | None
    source_ip: str | None
    region: str | None = None
    chained_from: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"start": self.start, "roleArn": self.role_arn, "sessionName": self.session_name,
                "sourceIdentity": self.source_identity, "mfa": self.mfa, "sourceIp": self.source_ip}


@dataclass(frozen=True)
class Action:
    event_source: str
    event_name: str
    count: int
    denied: int

    def to_json(self) -> dict[str, Any]:
        return {"eventSource": self.event_source, "eventName": self.event_name, "count": self.count,
                "denied": self.denied}


@dataclass(frozen=True)
class Person:
    """A partner account plus a name: the source identity where the session has one, else the session name."""

    account: str
    name: str
    roles: tuple[str, ...]
    sessions: tuple[Session, ...]
    actions: tuple[Action, ...]

    def to_json(self) -> dict[str, Any]:
        return {"account": self.account, "name": self.name, "roles": list(self.roles),
                "sessions": [session.to_json() for session in self.sessions],
                "actions": [action.to_json() for action in self.actions]}


@dataclass(frozen=True)
class Finding:
    code: str
    account: str | None
    name: str | None
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "account": self.account, "name": self.name, "message": self.message}


@dataclass(frozen=True)
class ProposedPolicy:
    """A least-privilege policy for one role, from the actions its sessions used, and what it cannot see."""

    role_arn: str
    document: dict[str, Any]
    used_actions: tuple[str, ...]
    granted_unused: tuple[str, ...]
    blind_spots: tuple[str, ...]


@dataclass(frozen=True)
class Report:
    people: tuple[Person, ...]
    findings: tuple[Finding, ...]
    proposed_policies: tuple[ProposedPolicy, ...]
    skipped: tuple[Skipped, ...] = ()
    records: int = 0
    other_records: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Exactly the documented shape: people, findings (skipped input included, as ACT-008) and policies."""
        return {
            "people": [person.to_json() for person in self.people],
            "findings": [finding.to_json() for finding in self.findings],
            # A role nobody used gets no proposal: IAM refuses a policy without statements.
            "proposedPolicies": {policy.role_arn: policy.document for policy in self.proposed_policies
                                 if policy.used_actions},
        }
