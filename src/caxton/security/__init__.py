"""Who may do what: credentials, roles, TLS, rate limits, module signatures, the audit trail."""
