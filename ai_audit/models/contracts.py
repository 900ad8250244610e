"""Models of contracts."""
