"""The HTTP side of Kezdesu: one aiohttp server per process (bot/webhook.py starts it in both
run modes) serving the public pages, the open data (JSON API with CSV, Open311 GeoReport v2),
the Telegram Mini App's actions, the health check and, in webhook mode, the webhook.

It reads through models/ only and never exposes a person (no name, username or Telegram id).
"""
