"""Admin of news."""
