"""Access-matrix rows of the system controls (issue 16). No role of an organization is a platform
superuser, so starting and stopping automation is nobody's here (403 for everyone; the superuser's
side is tests/api/test_system_endpoints.py). An organization's admin reads the automation status, runs
the organization form of a job (journals_sync, for their own organization) and clears their
organization's cached figures."""

from tests.security.access_table import ADMINS, NOBODY, Rule

API = {
    ("POST", "/api/system/run-tasks/"): Rule(ADMINS, body={"jobs": ["journals_sync"]},
                                             note="the organization form: the caller's own organization"),
    ("POST", "/api/system/clear-cache/"): Rule(ADMINS, body={}),
    ("GET", "/api/system/automation/status/"): Rule(ADMINS),
    ("POST", "/api/system/automation/start/"): Rule(NOBODY, body={}, note="platform superusers only"),
    ("POST", "/api/system/automation/stop/"): Rule(NOBODY, body={}, note="platform superusers only"),
}

# The system page: the same rules as the endpoints (core/views.py).
PAGES = {
    ("GET", "/app/system/"): Rule(ADMINS),
    ("POST", "/app/system/automation/"): Rule(NOBODY, body={"action": "stop"}, note="platform superusers only"),
    ("POST", "/app/system/run/"): Rule(ADMINS, body={"job": "journals_sync", "scope": "organization"}),
    ("POST", "/app/system/clear-cache/"): Rule(ADMINS, body={}),
}
