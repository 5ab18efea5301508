"""The grants the report knows, read from the project's Pulumi.yaml with the program's own grant model."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from components.grant_model import GRANTS_KEY, Grant, GrantConfigError, parse_grants


def grant_role_arn(grant: Grant) -> str:
    """The grant's role ARN, from the model's fields (the report needs nothing else the model derives)."""
    return f"arn:{grant.partition}:iam::{grant.host_account_id}:role{grant.role_path}{grant.role_name}"


def known_partner_users(grant: Grant) -> tuple[str, ...]:
    """The partner users a grant names: its users, its group's members, and users its principal ARNs list."""
    members = grant.partner_group.members if grant.partner_group else ()
    listed = tuple(arn.rsplit("/", 1)[-1] for arn in getattr(grant, "partner_principal_arns", ()) if ":user/" in arn)
    return tuple(dict.fromkeys((*grant.partner_users, *members, *listed)))


class ActivityError(Exception):
    """A problem with the command's input that stops the report: the message names the file or setting."""


def _grants_setting(config: Mapping[str, object]) -> object:
    # Project config may name the key with or without the project's namespace, and give it as {value: ...}.
    short_key = GRANTS_KEY.split(":", 1)[1]
    for key in (GRANTS_KEY, short_key):
        if key in config:
            setting = config[key]
            if isinstance(setting, Mapping) and "value" in setting:
                return setting["value"]
            if isinstance(setting, Mapping) and "default" in setting:
                return setting["default"]
            return setting
    raise ActivityError(f"no {GRANTS_KEY} setting under config:")


def load_grants(path: str) -> tuple[Grant, ...]:
    import yaml

    file = Path(path)
    try:
        document = yaml.safe_load(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ActivityError(f"{path}: no such file; give the project's Pulumi.yaml with --config") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ActivityError(f"{path}: cannot be read ({error})") from None
    except yaml.YAMLError as error:
        raise ActivityError(f"{path}: is not YAML ({error})") from None
    config = document.get("config") if isinstance(document, Mapping) else None
    if not isinstance(config, Mapping):
        raise ActivityError(f"{path}: has no config: section with the {GRANTS_KEY} setting")
    try:
        return parse_grants(_grants_setting(config))
    except ActivityError as error:
        raise ActivityError(f"{path}: {error}") from None
    except GrantConfigError as error:
        raise ActivityError(f"{path}: {error}") from None
