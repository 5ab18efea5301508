"""The audit's result: per account, every role with its findings (and any user, group or customer managed policy
that has one), and the errors that kept part of the account from being audited; the exit code it implies."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pulumi_policy import EnforcementLevel, Policy

from .evaluation import StackEvaluation, SubjectFindings
from .pack_config import PolicySettings

MANDATORY = EnforcementLevel.MANDATORY.value
EXIT_OK = 0
EXIT_MANDATORY_FINDING = 1
EXIT_USAGE_OR_ACCESS_ERROR = 2


@dataclass(frozen=True)
class AccountReport:
    account: str | None
    # Every role, then users, groups and managed policies that have findings.
    subjects: tuple[SubjectFindings, ...]
    errors: tuple[str, ...]
    # The authorization-details file the account was read from; None for a live account.
    source_file: str | None


@dataclass(frozen=True)
class PolicyDescription:
    name: str
    description: str
    level: str
    severity: str | None


@dataclass(frozen=True)
class AuditReport:
    accounts: tuple[AccountReport, ...]
    policies: tuple[PolicyDescription, ...]

    def has_errors(self) -> bool:
        return any(account.errors for account in self.accounts)

    def has_mandatory_finding(self) -> bool:
        return any(
            finding.level == MANDATORY
            for account in self.accounts
            for subject in account.subjects
            for finding in subject.findings
        )

    def exit_code(self) -> int:
        """2 when part of the audit could not be done (its verdict is incomplete), else 1 on a mandatory finding."""
        if self.has_errors():
            return EXIT_USAGE_OR_ACCESS_ERROR
        return EXIT_MANDATORY_FINDING if self.has_mandatory_finding() else EXIT_OK


def account_report(evaluation: StackEvaluation, source_file: str | None) -> AccountReport:
    listed = tuple(
        subject
        for subject in evaluation.subjects
        if subject.findings or (subject.subject is not None and subject.subject.kind == "role")
    )
    return AccountReport(evaluation.account_id, listed, evaluation.errors, source_file)


def failed_account(account: str | None, error: str, source_file: str | None) -> AccountReport:
    return AccountReport(account, (), (error,), source_file)


def describe_policies(policies: Sequence[Policy], settings: dict[str, PolicySettings]) -> tuple[PolicyDescription, ...]:
    return tuple(
        PolicyDescription(
            policy.name,
            policy.description,
            settings[policy.name].reported_level if settings[policy.name].enabled else EnforcementLevel.DISABLED.value,
            policy.severity.value if policy.severity is not None else None,
        )
        for policy in policies
    )
