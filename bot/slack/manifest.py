"""The Slack app manifest, written from the verb declarations (`crmbot docs manifest`)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from handlers.registry import Verb

# What the /crm command says of itself in Slack's command picker.
DESCRIPTION = "The team's CRM, in English or Chinese. /crm help lists every command."

TEMPLATE = """\
# Slack app manifest for crmbot. Generated from the verb declarations by
# `crmbot docs manifest --write bot/slack/manifest.yml`; edit bot/slack/manifest.py, not this file.
# Create the app at https://api.slack.com/apps -> "Create New App" -> "From an app manifest",
# paste this file, then install it to the workspace.
# HTTP mode: replace https://crm.example.com with this server's public URL (every *_url below).
# Socket Mode (development): set socket_mode_enabled: true below and create an app-level token with
# connections:write; the URLs are then not used.
display_information:
  name: crmbot
  description: The team's CRM, in Slack
  background_color: "#1f3a5f"
features:
  app_home:
    home_tab_enabled: true
    messages_tab_enabled: true
    messages_tab_read_only_enabled: true
  bot_user:
    display_name: crmbot
    always_online: true
  slash_commands:
    - command: /crm
      url: https://crm.example.com/slack/events
      description: {description}
      usage_hint: {usage_hint}
      should_escape: true
  shortcuts:
    - name: Log interaction
      type: global
      callback_id: log_interaction
      description: Log a call, meeting, visit, email or note
    - name: Log to CRM
      type: message
      callback_id: log_message
      description: Log this message as an interaction with a customer
    - name: Create ticket
      type: message
      callback_id: create_ticket
      description: Open a service ticket from this message
oauth_config:
  scopes:
    bot:
      - commands
      - chat:write
      - im:write
      - users:read
      - users:read.email
      - files:write
      # The service desk: messages and reactions in the channels crmbot is invited to.
      - channels:history
      - groups:history
      - reactions:read
      - reactions:write
settings:
  event_subscriptions:
    request_url: https://crm.example.com/slack/events
    bot_events:
      - app_home_opened
      - message.channels
      - message.groups
      - reaction_added
  interactivity:
    is_enabled: true
    request_url: https://crm.example.com/slack/events
    message_menu_options_url: https://crm.example.com/slack/events
  org_deploy_enabled: false
  socket_mode_enabled: false
  token_rotation_enabled: false
"""


def usage_hint(verbs: Sequence[Verb]) -> str:
    """The /crm hint in Slack's command picker: every verb, in help order."""
    return " | ".join(v.name for v in verbs)


def manifest(verbs: Sequence[Verb]) -> str:
    """The manifest file's text."""
    # A JSON string is a valid YAML double-quoted scalar: no escaping rules of our own.
    return TEMPLATE.format(
        description=json.dumps(DESCRIPTION, ensure_ascii=False),
        usage_hint=json.dumps(usage_hint(verbs), ensure_ascii=False),
    )
