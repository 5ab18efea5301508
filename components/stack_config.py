"""Reads this stack's raw config from Pulumi and hands it to the pure stack model to validate; the only place that
touches Pulumi's config."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi.runtime

from components.grant_model import Grant, GrantConfigError
from components.stack_model import StackSide, load_stack


class _PulumiConfig:
    """The stack model's ConfigSource over the engine's config. Raw reads, not pulumi.Config: Config.get warns on a
    secret, and the model decodes structured values itself so malformed ones get a message, not a traceback."""

    def get(self, key: str) -> str | None:
        return pulumi.runtime.get_config(key)

    def is_secret(self, key: str) -> bool:
        return pulumi.runtime.is_config_secret(key)


@dataclass(frozen=True)
class StackSettings:
    """Everything this stack deploys, validated: its side and account, its grants, their External IDs (secret) by
    grant name."""

    stack: StackSide
    grants: tuple[Grant, ...]
    external_ids: dict[str, pulumi.Output[str]]


def load_stack_settings() -> StackSettings:
    """The validated settings, or a clean RunError (no traceback) listing every bad setting; nothing is created."""
    try:
        model = load_stack(_PulumiConfig())
    except GrantConfigError as error:
        raise pulumi.RunError(str(error)) from None
    # From here on an External ID only travels as a secret Output.
    return StackSettings(
        stack=model.stack,
        grants=model.grants,
        external_ids={name: pulumi.Output.secret(value) for name, value in model.external_ids.items()},
    )
