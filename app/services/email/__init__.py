"""Email: what the service sends (verification, password reset, notices) through the outbox.

Modules: `rendering` (templates), `sending` (to the outbox), `links`, `tokens`,
`verification`, `notifications`; the password-reset link is `app.services.auth.password_reset`.
The SMTP side is `app.outbox.publishers.smtp`.
"""
