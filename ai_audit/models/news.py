"""Models of news."""
