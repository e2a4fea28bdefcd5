"""Billing with Stripe: checkout and the customer portal, and the webhook inbox that moves
an account's plan as its subscription changes."""
