"""Products: the price list, and finding a product by the name a person types."""

from __future__ import annotations

from sqlalchemy import select

from crm_core.context import Ctx
from crm_core.errors import Invalid
from crm_core.models import Product
from crm_core.text import name_key


def price_list(ctx: Ctx) -> list[Product]:
    """Every product, by family then name."""
    return list(ctx.session.scalars(select(Product).order_by(Product.family, Product.name)).all())


def _compact(text: str) -> str:
    return name_key(text).replace(" ", "")


def find_product(ctx: Ctx, query: str) -> Product | None:
    """The product a name means (`GTXPro` and `gtx pro` both find `GTX Pro`), or None.

    Exact names first, then the name without spaces; a prefix only when one product has it.
    """
    key = _compact(query)
    if not key:
        return None
    products = price_list(ctx)
    exact = [p for p in products if _compact(p.name) == key]
    prefix = [p for p in products if _compact(p.name).startswith(key)]
    for found in (exact, prefix):
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise Invalid(
                "error.product_ambiguous", value=query, products=", ".join(p.name for p in found)
            )
    return None


def resolve_product(ctx: Ctx, query: str) -> Product:
    """The product a name means; Invalid lists the price list when none fits."""
    product = find_product(ctx, query)
    if product is None:
        names = ", ".join(p.name for p in price_list(ctx)) or "—"
        raise Invalid("error.product_unknown", value=query, products=names)
    return product
