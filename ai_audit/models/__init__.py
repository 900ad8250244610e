"""The models of ai_audit, one module per area (classification, contracts, audits, news)."""

from ai_audit.models.audits import *  # noqa: F401,F403
from ai_audit.models.classification import *  # noqa: F401,F403
from ai_audit.models.contracts import *  # noqa: F401,F403
from ai_audit.models.news import *  # noqa: F401,F403
