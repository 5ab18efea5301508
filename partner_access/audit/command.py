"""partner-access audit: check every existing IAM role of an account or an AWS Organization with
the policy pack's own policies and config, live or from the output of
`aws iam get-account-authorization-details`.

Exit status: 0 no mandatory finding; 1 a mandatory finding; 2 a usage error, a bad file, or an
account (or part of one) that could not be read.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .authorization_details import AccountSnapshot
    from .pack_config import PolicySettings
    from .report import AccountReport, AuditReport

    Settings = dict[str, PolicySettings]

FORMATS = ("table", "json", "sarif")
DEFAULT_MAX_WORKERS = 8
# The role each member account of an organization holds for the audit (docs/audit.md gives its trust and policy).
DEFAULT_AUDIT_ROLE_NAME = "partner-access-audit"


EXAMPLES = """examples:
  partner-access audit --policy-pack-config policy-pack-config.json   # the credentials' account
  partner-access audit --profile security --organization --format sarif --output audit.sarif
  aws iam get-account-authorization-details --filter User Role Group LocalManagedPolicy > a.json
  partner-access audit --authorization-details a.json --format json
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EXAMPLES
    source = parser.add_argument_group("what to audit (default: the account of the current AWS credentials)")
    source.add_argument(
        "--authorization-details", metavar="FILE", type=Path, action="append", default=[],
        help="audit offline the JSON `aws iam get-account-authorization-details` wrote (repeat for more accounts)",
    )
    source.add_argument(
        "--organization", action="store_true",
        help="audit every active account of the caller's AWS Organization, through --audit-role-name in each member",
    )
    source.add_argument(
        "--audit-role-name", metavar="NAME",
        help=f"the role assumed in each member account with --organization (default: {DEFAULT_AUDIT_ROLE_NAME})",
    )
    source.add_argument(
        "--organization-accounts-are-own", action="store_true",
        help="with --organization, treat every account of the organization as own (added to each policy's "
             "exemptAccountIds), so only trusts outside the organization are cross-account",
    )
    source.add_argument(
        "--max-workers", type=int, metavar="N",
        help=f"accounts read in parallel with --organization (default: {DEFAULT_MAX_WORKERS})",
    )
    source.add_argument("--profile", help="the AWS CLI profile to use (default: the standard boto3 credential chain)")
    parser.add_argument(
        "--policy-pack-config", type=Path, metavar="FILE",
        help="the pack's config file, as given to `pulumi up --policy-pack-config` (levels, exemptions, limits)",
    )
    parser.add_argument("--format", choices=FORMATS, default="table",
                        help="table (default), json, or sarif (SARIF 2.1.0 for GitHub code scanning)")
    parser.add_argument("--output", type=Path, metavar="FILE", help="write the report here instead of stdout")


def run(options: argparse.Namespace) -> int:
    from iam_trust_policies.policies import POLICIES

    from .aws_access import AwsAccessError
    from .pack_config import PackConfigError, read_pack_config
    from .report import EXIT_USAGE_OR_ACCESS_ERROR, AuditReport, describe_policies

    problem = _usage_problem(options)
    if problem is not None:
        return _fail(problem, EXIT_USAGE_OR_ACCESS_ERROR)
    try:
        settings = read_pack_config(options.policy_pack_config, POLICIES)
        if options.authorization_details:
            accounts = _audit_files(options.authorization_details, settings)
        elif options.organization:
            accounts = _audit_organization(options, settings)
        else:
            accounts = _audit_caller_account(options, settings)
    except (PackConfigError, AwsAccessError) as error:
        return _fail(str(error), EXIT_USAGE_OR_ACCESS_ERROR)
    report = AuditReport(tuple(accounts), describe_policies(POLICIES, settings))
    try:
        _write(_renderer(options.format)(report), options.output)
    except OSError as error:
        message = f"{options.output}: cannot write the report: {error.strerror or error}"
        return _fail(message, EXIT_USAGE_OR_ACCESS_ERROR)
    return report.exit_code()


def _usage_problem(options: argparse.Namespace) -> str | None:
    if options.authorization_details and options.organization:
        return "--authorization-details and --organization cannot be combined: audit files or live accounts"
    for given, option in ((options.organization_accounts_are_own, "--organization-accounts-are-own"),
                          (options.audit_role_name is not None, "--audit-role-name"),
                          (options.max_workers is not None, "--max-workers")):
        if given and not options.organization:
            return f"{option} needs --organization"
    if options.max_workers is not None and not 1 <= options.max_workers <= 64:
        return f"--max-workers {options.max_workers}: must be from 1 to 64"
    return None


def _audit_files(paths: list[Path], settings: Settings) -> list[AccountReport]:
    from .authorization_details import AuthorizationDetailsError
    from .authorization_files import read_authorization_details
    from .report import failed_account

    accounts = []
    for path in paths:
        try:
            snapshot = read_authorization_details(path)
        except AuthorizationDetailsError as error:
            accounts.append(failed_account(None, str(error), str(path)))
            continue
        accounts.append(_evaluated(snapshot, settings, str(path)))
    return accounts


def _audit_caller_account(options: argparse.Namespace, settings: Settings) -> list[AccountReport]:
    from .account_collection import caller_account, collect_account
    from .aws_access import new_session

    session = new_session(options.profile)
    account_id, _ = caller_account(session)
    return [_evaluated(collect_account(session, account_id), settings, None)]


def _audit_organization(options: argparse.Namespace, settings: Settings) -> list[AccountReport]:
    from .aws_access import new_session
    from .organization_collection import collect_organization, organization_accounts
    from .pack_config import with_own_accounts
    from .progress import ProgressBar
    from .report import failed_account

    session = new_session(options.profile)
    accounts = organization_accounts(session)
    if options.organization_accounts_are_own:
        settings = with_own_accounts(settings, accounts.all_ids)
    progress = ProgressBar(len(accounts.active_ids), "accounts")
    outcomes = collect_organization(
        session, accounts.active_ids, audit_role_name=options.audit_role_name or DEFAULT_AUDIT_ROLE_NAME,
        max_workers=options.max_workers or DEFAULT_MAX_WORKERS,
        on_done=lambda outcome: progress.advance(),
    )
    return [
        _evaluated(outcome.snapshot, settings, None)
        if outcome.snapshot is not None
        else failed_account(outcome.account_id, outcome.error or "not read", None)
        for outcome in outcomes
    ]


def _evaluated(snapshot: AccountSnapshot, settings: Settings, source_file: str | None) -> AccountReport:
    from iam_trust_policies.policies import POLICIES

    from .evaluation import evaluate_stack
    from .pack_resources import stack_of
    from .report import account_report

    return account_report(evaluate_stack(stack_of(snapshot), POLICIES, settings), source_file)


def _renderer(output_format: str) -> Callable[[AuditReport], str]:
    from .render_json import render_json
    from .render_sarif import render_sarif
    from .render_table import render_table

    return {"table": render_table, "json": render_json, "sarif": render_sarif}[output_format]


def _write(text: str, path: Path | None) -> None:
    if path is None:
        sys.stdout.write(text)
    else:
        path.write_text(text, encoding="utf-8")


def _fail(message: str, code: int) -> int:
    print(f"partner-access audit: {message}", file=sys.stderr)
    return code
