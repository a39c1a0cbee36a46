"""Citizens' messaging channels besides the web chat (bot/conversations/routes.py).

Each channel identifies the citizen in its own way and turns that into one gateway sender
id ("telegram:<chat id>", …); the gateway (bot/conversations/service.py) does the rest.
"""
