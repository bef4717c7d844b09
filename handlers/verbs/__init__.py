"""The verbs of the command language, one module per area."""

from __future__ import annotations

from handlers.registry import Registry, Verb
from handlers.verbs import (
    ask,
    contacts,
    customers,
    deals,
    digests,
    interactions,
    link_codes,
    links,
    meta,
    pipeline,
    products,
    reminders,
    reports,
)


def all_verbs() -> list[Verb]:
    """Every verb of the language, in help order."""
    return [
        *customers.VERBS,
        *contacts.VERBS,
        *interactions.VERBS,
        *ask.VERBS,
        *deals.VERBS,
        *pipeline.VERBS,
        *reports.VERBS,
        *products.VERBS,
        *reminders.VERBS,
        *digests.VERBS,
        *links.VERBS,
        *link_codes.VERBS,
        *meta.VERBS,
    ]


def default_registry() -> Registry:
    """A registry holding every verb."""
    return Registry(all_verbs())
