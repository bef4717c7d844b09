"""Finding duplicate customers: `duplicates` lists likely pairs, each with a Merge button."""

from __future__ import annotations

from crm_core.errors import Invalid
from crm_core.services import duplicates as svc
from handlers.i18n import Translator
from handlers.registry import Request, Verb
from handlers.reply import Button, Reply

# Pairs listed in one answer, and how many of them get a Merge button (chat keeps it short).
SHOWN = 20
BUTTONS = 10


def _line(t: Translator, pair: svc.DuplicatePair) -> str:
    why = ", ".join(t(f"duplicates.reason.{r}", place=pair.place or "") for r in pair.reasons())
    return t(
        "duplicates.line",
        keep=f"#{pair.keep_id} {pair.keep_name}",
        drop=f"#{pair.drop_id} {pair.drop_name}",
        why=why,
    )


def duplicates(req: Request) -> Reply:
    """List likely duplicate customers in the book the person may see."""
    t = req.t
    if req.args.strip():
        raise Invalid("usage.duplicates")
    pairs = svc.find_duplicate_pairs(req.ctx)
    if not pairs:
        return Reply(text=t("duplicates.none"), status="info")
    items = [_line(t, p) for p in pairs[:SHOWN]]
    if len(pairs) > SHOWN:
        items.append(t("duplicates.more", count=len(pairs) - SHOWN))
    buttons = [
        Button.run(
            t("button.merge_pair", drop=p.drop_id, keep=p.keep_id),
            f"merge #{p.drop_id} into #{p.keep_id}",
        )
        for p in pairs[:BUTTONS]
    ]
    return Reply(title=t("duplicates.title", count=len(pairs)), items=items, buttons=buttons)


# Where these verbs come in help: after editing a customer.
ORDER = 16
VERBS = [
    Verb(
        "duplicates",
        duplicates,
        args=(),
        examples=("duplicates", "查重"),
        writes=False,
        aliases=("查重", "重复客户"),
        menu="duplicates",
    ),
]
