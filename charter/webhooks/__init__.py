"""Webhooks: subscriptions, Standard Webhooks signing, the outbox relay and deliveries."""
