"""Merging duplicate customers: `merge #31 into #7` previews, `... confirm` merges."""

from __future__ import annotations

import re

from crm_core.errors import Invalid
from crm_core.models import Customer
from crm_core.resolve import ref_id, resolve_customer, tombstone
from crm_core.services import merge as svc
from handlers import custom
from handlers.args import Arg, Kind
from handlers.i18n import Translator
from handlers.registry import Request, Verb
from handlers.reply import Button, Field, Reply
from handlers.verbs.duplicates import ORDER as DUPLICATES_ORDER

# "into" between the two customers; 到 / 并入 in Chinese (the view is already Simplified).
_INTO = re.compile(r"\s+(?:into|到|并入)\s+|\s*(?:到|并入)\s*(?=#)", re.I)
_CONFIRM = re.compile(r"\s+(confirm|确认|cancel|取消)\s*$", re.I)
_CONFIRM_WORDS = {"confirm", "确认"}


def _moves(t: Translator, moves: dict[str, int]) -> str:
    return ", ".join(t(f"merge.count.{k}", count=n) for k, n in moves.items())


def _handovers(t: Translator, plan: svc.MergePlan, key: str) -> list[Field]:
    """`2 open deal(s) and 1 reminder(s) of @cat move to @ana`, one line per person."""
    lines = []
    for h in plan.handovers:
        what = [t("merge.handover.deals", count=len(h.deal_ids))] if h.deal_ids else []
        if h.reminder_ids:
            what.append(t("merge.handover.reminders", count=len(h.reminder_ids)))
        lines.append(
            t(
                key,
                what=t("merge.handover.and").join(what),
                old=f"@{h.old.external_id}",
                new=f"@{h.new.external_id}",
            )
        )
    return [Field(t("merge.handover"), "\n".join(lines))] if lines else []


def _label(c: Customer) -> str:
    return f"#{c.id} {c.name}"


def _preview(t: Translator, plan: svc.MergePlan, line: str) -> Reply:
    fields = [Field(t("merge.moves"), _moves(t, plan.moves))]
    # Whoever cannot see the kept customer would own what they cannot open: say who takes it.
    fields += _handovers(t, plan, "merge.handover.will")
    fields += [
        Field(
            custom.key_name(c.field) or t(f"field.{c.field}"),
            t("merge.conflict", kept=custom.said(t, c.kept), dropped=custom.said(t, c.dropped)),
        )
        for c in plan.conflicts
    ]
    fields += [
        Field(
            custom.key_name(name) or t(f"field.{name}"),
            t("merge.filled", value=custom.said(t, value), id=plan.loser.id),
        )
        for name, value in plan.filled.items()
    ]
    if plan.tags != sorted(plan.survivor.tags):
        fields.append(Field(t("field.tags"), ", ".join(plan.tags)))
    return Reply(
        title=t("merge.preview", loser=_label(plan.loser), survivor=_label(plan.survivor)),
        text=t("merge.preview_note", loser=plan.loser.id, survivor=_label(plan.survivor)),
        fields=fields,
        buttons=[
            Button.run(t("button.confirm"), f"{line} confirm", "danger"),
            Button.run(t("button.cancel"), f"{line} cancel"),
        ],
        status="info",
    )


def merge(req: Request) -> Reply:
    """`merge #31 into #7`: a preview with Confirm; with `confirm` the merge itself."""
    t, ctx = req.t, req.ctx
    args = req.args.strip()
    word = None
    if m := _CONFIRM.search(args):
        word = m.group(1).lower()
        args = args[: m.start()].strip()
    parts = _INTO.split(args, maxsplit=1)
    if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
        raise Invalid("usage.merge")
    loser_q, survivor_q = parts[0].strip(), parts[1].strip()
    if word is not None and word not in _CONFIRM_WORDS:
        return Reply(text=t("merge.cancelled"), status="info")
    survivor_id = ref_id(survivor_q)
    if survivor_id is not None and (gone := tombstone(ctx, survivor_id)) is not None:
        raise Invalid("error.merge_tombstone", id=gone.id, name=gone.name, into=gone.merged_into)
    loser_id = ref_id(loser_q)
    gone = tombstone(ctx, loser_id) if loser_id is not None else None
    if gone is None:
        loser = resolve_customer(ctx, loser_q)
        if ctx.redirects:
            # An old name: the customer it named is itself the tombstone of a merge.
            gone = tombstone(ctx, ctx.redirects[-1].old_id)
    survivor = resolve_customer(ctx, survivor_q)
    if gone is not None:
        if gone.merged_into == survivor.id:
            return Reply(
                text=t("merge.already", loser=_label(gone), survivor=_label(survivor)),
                buttons=[Button.run(t("button.open"), f"customer #{survivor.id}", "primary")],
                status="info",
            )
        raise Invalid("error.merge_tombstone", id=gone.id, name=gone.name, into=gone.merged_into)
    line = f"merge #{loser.id} into #{survivor.id}"
    if word is None:
        return _preview(t, svc.plan_merge(ctx, loser, survivor), line)
    loser_label, survivor_label = _label(loser), _label(survivor)
    plan = svc.merge_customers(ctx, loser, survivor)
    return Reply(
        text=t("merge.done", loser=loser_label, survivor=survivor_label),
        fields=[
            Field(t("merge.moved"), _moves(t, plan.moves)),
            *_handovers(t, plan, "merge.handover.did"),
        ],
        buttons=[Button.run(t("button.open"), f"customer #{survivor.id}", "primary")],
    )


# Right after `duplicates`, whose Merge buttons run it.
ORDER = DUPLICATES_ORDER
VERBS = [
    Verb(
        "merge",
        merge,
        args=(
            Arg("customer", Kind.name),
            Arg("into", Kind.name, keyword="into", also=("到", "并入"), label="customer"),
            Arg("confirm", Kind.choice, optional=True, choices=("confirm", "cancel")),
        ),
        examples=("merge #31 into #7", "merge ACME Inc into Acme Logistics", "合并 #31 到 #7"),
        writes=True,
        aliases=("合并", "合并客户"),
        menu="merge",
    ),
]
