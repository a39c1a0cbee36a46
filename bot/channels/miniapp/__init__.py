"""The mini-app: a mobile chat page a super-app opens in a WebView, or Telegram as a Mini App.

Kept light on purpose (bot.models imports the tables from here). See
docs/integration/host-app.md.

- identity: launch tokens (JWT signed by a host app) and Telegram initData, checked
- sessions: the page's session, created from one of those (or as a guest)
- routes: the page, its static files and its JSON API (/api/v1/miniapp/…)
"""
