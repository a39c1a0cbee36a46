"""The citizens' Telegram bot (aiogram 3): long polling in development, a webhook in production.

Kept light on purpose (bot.models imports the tables from here): import what you need from
the modules, see docs/integration/telegram.md.

- runtime: build_telegram / open_telegram (the app's lifespan), run_polling, set_webhook
- webhook: the FastAPI router of POST /telegram/webhook
- handlers: what the bot does with each kind of update
- render: Rasa replies as Telegram messages
- store: update de-duplication and the button payload tokens (database)
- the per-user rate limit is bot.ratelimit, shared with the other channels
"""
