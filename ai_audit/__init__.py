"""ai_audit: transaction classification (ai_audit.classification), the contract registry with
verification and interaction (ai_audit.contracts), static-analysis audits (ai_audit.audits) and crypto
news (ai_audit.news). Each area is a package with the usual files; models live in ai_audit/models/."""
