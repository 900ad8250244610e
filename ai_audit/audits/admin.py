"""Admin of audits."""
