"""Notes captured from a platform message: finding the one already logged for a message."""

from __future__ import annotations

from sqlalchemy import select

from crm_core.access import visible_customer_ids
from crm_core.context import Ctx
from crm_core.models import Interaction


def captured_note(ctx: Ctx, idempotency_key: str) -> Interaction | None:
    """The live note logged under this key on a customer the actor may see, or None."""
    return ctx.session.scalar(
        select(Interaction).where(
            Interaction.idempotency_key == idempotency_key,
            Interaction.deleted_at.is_(None),
            Interaction.customer_id.in_(visible_customer_ids(ctx.actor)),
        )
    )
