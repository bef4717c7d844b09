"""Adapters around the dispatcher: Slack, Telegram, console, CLI, composition root, serve."""
