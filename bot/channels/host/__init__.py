"""The host API: a super-app's backend converses for its citizens and receives their notices.

See docs/integration/host-app.md. routes: the JSON API (X-API-Key); push: the outbox sender
that posts signed notices to the host's webhook.
"""
