"""The host's commands: `partner-access check`, `activity` and `audit`."""
