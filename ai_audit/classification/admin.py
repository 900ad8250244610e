"""Admin of classification."""
