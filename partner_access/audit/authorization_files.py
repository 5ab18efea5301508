"""Offline input: files holding what `aws iam get-account-authorization-details` writes (one account per file).

A file may also hold a list of page objects, as saved from the API page by page.
"""

from __future__ import annotations

import json
from pathlib import Path

from .authorization_details import AccountSnapshot, AuthorizationDetailsError, build_snapshot, merge_pages


def read_authorization_details(path: Path) -> AccountSnapshot:
    """The file's account; AuthorizationDetailsError names the file and what is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise AuthorizationDetailsError(f"{path}: cannot read: {getattr(error, 'strerror', None) or error}") from error
    try:
        document = json.loads(text)
    except ValueError as error:
        raise AuthorizationDetailsError(f"{path}: not JSON: {error}") from error
    pages = document if isinstance(document, list) else [document]
    try:
        return build_snapshot(merge_pages(pages))
    except AuthorizationDetailsError as error:
        raise AuthorizationDetailsError(
            f"{path}: not the output of aws iam get-account-authorization-details: {error}"
        ) from error
