"""audits: services, selectors, API, views, tasks and admin of this area."""
