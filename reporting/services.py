"""Writes for tax reports, financial statements, dashboard and exports: `<entity>_<action>(*, ...)`, validated and transactional."""
