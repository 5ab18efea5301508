"""The partner-access program's building blocks: grant model, document builders and the PartnerAccessGrant component."""
