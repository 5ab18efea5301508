"""partner-access: each stack deploys its side of the grants defined once in Pulumi.yaml."""

import pulumi

from components.partner_access import PartnerAccessGrant, PartnerAccessGrantArgs
from components.stack_config import load_stack_settings

settings = load_stack_settings()

components = {
    grant.grant_name: PartnerAccessGrant(
        grant.grant_name,
        PartnerAccessGrantArgs(
            grant=grant,
            side=settings.stack.side,
            external_id=settings.external_ids.get(grant.grant_name),
        ),
    )
    for grant in settings.grants
}

pulumi.export("side", settings.stack.side)
pulumi.export("accountId", settings.stack.account_id)
# Keyed by each grant's name; `access` is one sentence per grant, so a preview diff says what changes in words.
pulumi.export("grants", {grant_name: component.grant_outputs for grant_name, component in components.items()})
