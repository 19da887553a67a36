"""Identity and access: users, roles, password hashing, tokens and the audit log."""
