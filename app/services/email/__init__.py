"""Email: what the service sends (verification, password reset, notices) through the outbox.

Modules: `rendering` (templates), `sending` (to the outbox), `links`, `tokens`,
`verification`, `password_reset`, `notifications`. The SMTP side is `app.outbox.publishers.smtp`.
"""
