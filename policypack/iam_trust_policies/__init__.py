"""Cross-account IAM trust analysis (pure modules) and its pulumi_policy wiring (`policies`)."""
