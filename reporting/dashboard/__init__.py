"""The dashboard, analytics and insights: selectors shared by /api/dashboard/ and the page."""
