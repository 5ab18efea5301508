"""The program's config namespace and its own settings in it, named once for the models, the component and docs."""

from __future__ import annotations

# The Pulumi project name: config keys without a namespace land under it, and the component's type token uses it.
NAMESPACE = "partner-access"

GRANTS_SETTING = "grants"
SIDE_SETTING = "side"
QUOTAS_SETTING = "quotas"
# The program's own settings in its namespace; a grant's External ID key must not reuse one of them.
PROGRAM_SETTINGS = (GRANTS_SETTING, SIDE_SETTING, QUOTAS_SETTING)


def config_key(name: str) -> str:
    """The full config key of a setting in this program's namespace, as the engine and error messages name it."""
    return f"{NAMESPACE}:{name}"
