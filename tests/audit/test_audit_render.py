"""The terminal table and the progress bar."""

from __future__ import annotations

import io

from partner_access.audit.evaluation import Finding, SubjectFindings
from partner_access.audit.pack_resources import Subject
from partner_access.audit.progress import ProgressBar
from partner_access.audit.render_table import render_table
from partner_access.audit.report import AccountReport, AuditReport

MFA_FINDING = Finding("cross-account-trust-requires-mfa", "mandatory", "MFA-001", "MFA-001: lets someone in")


def test_table_has_a_block_per_account_with_a_row_per_finding_and_the_errors():
    role = Subject("role", "arn:aws:iam::111111111111:role/partner", "partner")
    quiet = Subject("role", "arn:aws:iam::111111111111:role/quiet", "quiet")
    report = AuditReport((
        AccountReport("111111111111", (SubjectFindings(role, (MFA_FINDING,)), SubjectFindings(quiet, ())), (), None),
        AccountReport("222222222222", (), ("sts:AssumeRole ...: AccessDenied: no",), None),
    ), ())

    lines = render_table(report).splitlines()

    assert lines[0] == "Account 111111111111 (live): 2 roles, 1 with findings"
    assert lines[1].split() == ["LEVEL", "CODE", "POLICY", "ENTITY"]
    assert lines[2].split() == ["mandatory", "MFA-001", "cross-account-trust-requires-mfa", "role", "partner"]
    assert lines[3].strip() == "MFA-001: lets someone in"
    assert "Account 222222222222 (live): 0 roles, 0 with findings" in lines
    assert "  error: sts:AssumeRole ...: AccessDenied: no" in lines
    assert lines[-1] == "2 accounts audited; 1 finding, 1 mandatory; 1 error"
    assert report.exit_code() == 2


def test_progress_bar_counts_accounts_on_a_terminal_and_is_silent_otherwise():
    shown = io.StringIO()
    bar = ProgressBar(2, "accounts", stream=shown, enabled=True)
    bar.advance()
    bar.advance()
    assert shown.getvalue().endswith("] 2/2 accounts\n")
    assert "1/2 accounts" in shown.getvalue()

    hidden = io.StringIO()
    ProgressBar(2, "accounts", stream=hidden).advance()
    assert hidden.getvalue() == ""


def test_a_policy_that_fails_is_an_error_about_that_resource_not_a_traceback():
    from pulumi_policy import EnforcementLevel, ResourceValidationPolicy

    from partner_access.audit.authorization_details import build_snapshot
    from partner_access.audit.evaluation import evaluate_stack
    from partner_access.audit.pack_config import PolicySettings
    from partner_access.audit.pack_resources import stack_of

    def explode(args, report_violation):
        raise ValueError("boom")

    failing = ResourceValidationPolicy("explodes", "Always fails.", explode, EnforcementLevel.MANDATORY)
    snapshot = build_snapshot({"RoleDetailList": [{"RoleName": "r", "Arn": "arn:aws:iam::111111111111:role/r",
                                                   "AssumeRolePolicyDocument": "{}"}]})

    evaluation = evaluate_stack(stack_of(snapshot), [failing],
                                {"explodes": PolicySettings(EnforcementLevel.MANDATORY)})

    assert evaluation.errors == ("policy explodes failed on aws:iam/role:Role r: ValueError: boom",)


def test_table_fits_a_100_column_terminal():
    role = Subject("role", "arn:aws:iam::111111111111:role/partner", "partner")
    long_message = "MFA-001: " + " ".join(["a request signed with long-term access keys is allowed"] * 12)
    finding = Finding("cross-account-trust-requires-mfa", "mandatory", "MFA-001", long_message)
    report = AuditReport((AccountReport("111111111111", (SubjectFindings(role, (finding,)),), (), None),), ())

    lines = render_table(report).splitlines()

    assert max(len(line) for line in lines) <= 100
    assert " ".join(line.strip() for line in lines[3:-2]) == long_message


def test_help_examples_are_commands_the_parser_accepts(capsys):
    import shlex

    import pytest

    from partner_access.cli import build_parser, main

    with pytest.raises(SystemExit):
        main(["audit", "--help"])
    text = capsys.readouterr().out
    examples = [line.split("partner-access ", 1)[1].split("#")[0] for line in text.splitlines()
                if line.startswith("  partner-access audit ")]
    assert len(examples) >= 3
    for example in examples:
        assert build_parser().parse_args(shlex.split(example)).command == "audit"
    assert max(len(line) for line in text.splitlines()) <= 100
