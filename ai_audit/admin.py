"""Admin registrations of every ai_audit area (admin autodiscovery imports this module)."""

from ai_audit.audits import admin as audits_admin  # noqa: F401
from ai_audit.classification import admin as classification_admin  # noqa: F401
from ai_audit.contracts import admin as contracts_admin  # noqa: F401
from ai_audit.news import admin as news_admin  # noqa: F401
