"""Huey tasks of every ai_audit area (huey's autodiscovery imports `<app>.tasks`)."""

from ai_audit.audits import tasks as audits_tasks  # noqa: F401
from ai_audit.classification import tasks as classification_tasks  # noqa: F401
from ai_audit.news import tasks as news_tasks  # noqa: F401
