"""Sending email over SMTP (aiosmtplib): the outbox relay's publisher for `Destination.EMAIL`."""
