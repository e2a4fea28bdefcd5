"""Who the caller is, and proving it.

Modules: `sessions` (registration, login, refresh-token rotation, logout, password change),
`passwords` (hashing off the event loop), `access_tokens` (the JWTs), `api_keys`,
`password_reset` (the emailed link and the new password).
"""
