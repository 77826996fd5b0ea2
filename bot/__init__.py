"""Kezdesu bot: entry point, configuration, dispatcher wiring, middlewares, keyboards, CLI."""
