"""The dashboard, analytics and insights: selectors shared by /api/dashboard/, the back-office page and
the dashboard-stats feed. Importing the package registers its hooks into core (which imports no app):
the dashboard figures' cache (core.services.cache_register) and the feed's figures provider
(core.consumers.dashboard_stats_provider_register)."""

from reporting.dashboard.registration import register

register()
