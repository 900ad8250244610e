"""Access-matrix rows of the dashboard (issue 16): every member reads the dashboard, insights and
analytics over what they may see (books roles the organization's books, a plain member their own
rows); no response to organization B carries A's ids or secret marker."""

from tests.security.access_table import EVERYONE, Rule

API = {
    ("GET", "/api/dashboard/"): Rule(EVERYONE),
    ("GET", "/api/dashboard/insights/"): Rule(EVERYONE),
    ("GET", "/api/dashboard/analytics/"): Rule(EVERYONE, query="start=2026-01-01&end=2026-01-31&interval=week"),
}

PAGES = {("GET", "/app/dashboard/"): Rule(EVERYONE)}
