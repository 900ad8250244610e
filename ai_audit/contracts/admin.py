"""Admin of contracts."""
