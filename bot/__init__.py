"""Adapters: console, CLI (and later Slack and Telegram) around the one dispatcher."""
