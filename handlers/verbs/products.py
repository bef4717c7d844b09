"""The price list: `products`."""

from __future__ import annotations

from crm_core.errors import Invalid
from crm_core.services.products import price_list
from handlers import format as fmt
from handlers.registry import Request, Verb
from handlers.reply import Reply


def products(req: Request) -> Reply:
    """Every product with its family and price."""
    t = req.t
    if req.args:
        raise Invalid("usage.products")
    found = price_list(req.ctx)
    if not found:
        return Reply(text=t("products.none"), status="info")
    return Reply(
        title=t("products.title", count=len(found)),
        items=[
            " · ".join(
                part for part in (p.name, p.family or "", fmt.money(p.price, p.currency, t)) if part
            )
            for p in found
        ],
        shareable=True,
    )


# Where these verbs come in help (handlers.verbs orders modules by it).
ORDER = 55
VERBS = [
    Verb(
        "products",
        products,
        args=(),
        examples=("products", "产品列表"),
        writes=False,
        aliases=("产品列表", "价格表", "产品清单"),
    ),
]
