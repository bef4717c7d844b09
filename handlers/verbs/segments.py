"""Segments: `list customers <filters>`, `save segment`, `segments`, `segment`, follow, delete."""

from __future__ import annotations

import re

from crm_core.errors import Invalid
from crm_core.marketing import filters
from crm_core.marketing import segments as svc
from crm_core.models import Customer, Segment
from crm_core.stages import Pipeline
from crm_core.text import char_view
from handlers import charts
from handlers.args import Arg, Kind, read_stage
from handlers.grammar import unquote
from handlers.registry import Request, Verb
from handlers.reply import Button, Field, Reply

PAGE = 20


def _stage_word(pipeline: Pipeline, word: str) -> str | None:
    """A stage as any locale writes it, or None."""
    found = read_stage(pipeline, word)
    return found if pipeline.get(found) is not None else None


filters.add_stage_reader(_stage_word)
# A trailing `page 2` / `第2页` / `p2`.
_PAGE = re.compile(r"(?:^|\s)(?:page\s*|p|第\s*)(\d{1,6})\s*页?\s*$", re.I)
_SNAPSHOT = re.compile(r"(?:^|\s)(snapshot|static|快照|静态)\s*$", re.I)
_CONFIRM = re.compile(r"\s+(confirm|确认|cancel|取消)\s*$", re.I)
_CONFIRM_WORDS = {"confirm", "确认"}


def _take_page(text: str) -> tuple[str, int]:
    m = _PAGE.search(char_view(text))
    if m is None:
        return text.strip(), 1
    page = int(m.group(1))
    if page < 1:
        raise Invalid("segment.bad_page")
    return text[: m.start()].strip(), page


def _line(c: Customer) -> str:
    return " · ".join(p for p in (f"#{c.id} {c.name}", c.industry, c.city) if p)


def _quote(name: str) -> str:
    return f'"{name}"'


def _members_reply(
    req: Request, title_key: str, more: str, page_: svc.Page, page: int, **names: str
) -> Reply:
    t = req.t
    pages = max(1, (page_.total + PAGE - 1) // PAGE)
    if page > pages:
        raise Invalid("segment.no_such_page", page=page, pages=pages)
    buttons = [Button.run(t("button.open"), f"customer #{c.id}") for c in page_.customers[:5]]
    if page < pages:
        buttons.append(Button.run(t("button.more"), f"{more} page {page + 1}", "primary"))
    return Reply(
        title=t(title_key, total=page_.total, page=page, pages=pages, **names),
        items=[_line(c) for c in page_.customers] or [t("segment.no_members")],
        buttons=buttons,
    )


def list_customers(req: Request) -> Reply:
    """`list customers city Shanghai quiet 30d`: the matching customers you may see, paged."""
    text, page = _take_page(req.args)
    if not text:
        raise Invalid("segment.empty_list")
    found = svc.find_customers(req.ctx, text, limit=PAGE, offset=(page - 1) * PAGE)
    reply = _members_reply(req, "segment.list_title", f"list customers {text}", found, page)
    reply.buttons.append(Button.run(req.t("button.save_segment"), "help save segment"))
    return reply


def _name_and_rest(args: str, usage: str, *, whole: bool = False) -> tuple[str, str]:
    """`"Shanghai quiet" city Shanghai` or `Shanghai_quiet city Shanghai` -> (name, rest).

    With `whole`, an unquoted name is the whole line (`segment Shanghai quiet`).
    """
    args = args.strip()
    if not args:
        raise Invalid(usage)
    if args.startswith(('"', "“")):
        name, rest = unquote(args)
    elif whole:
        name, rest = args, ""
    else:
        # Unquoted: the name is the first word.
        name, _, rest = args.partition(" ")
    if not name:
        raise Invalid(usage)
    return name, rest.strip()


def save_segment(req: Request) -> Reply:
    """`save segment "Shanghai quiet" city Shanghai quiet 30d [snapshot]`."""
    t = req.t
    name, rest = _name_and_rest(req.args, "usage.save_segment")
    snapshot = False
    if m := _SNAPSHOT.search(char_view(rest)):
        snapshot = True
        rest = rest[: m.start()].strip()
    if not rest:
        raise Invalid("usage.save_segment")
    segment = svc.save_segment(req.ctx, name, rest, snapshot=snapshot)
    count = svc.count_members(req.ctx, segment.filters, segment)
    key = "segment.saved_snapshot" if snapshot else "segment.saved_live"
    return Reply(
        text=t(key, name=segment.name, count=count),
        fields=[Field(t("segment.filters"), segment.filters)],
        buttons=[
            Button.run(t("button.open"), f"segment {_quote(segment.name)}", "primary"),
            Button.run(t("button.follow"), f"follow segment {_quote(segment.name)}"),
        ],
    )


def segments(req: Request) -> Reply:
    """`segments`: every saved segment, with its filters and whether you follow it."""
    t = req.t
    if req.args.strip():
        raise Invalid("usage.segments")
    found = svc.list_segments(req.ctx)
    if not found:
        return Reply(text=t("segment.none_saved"), status="info")
    items = []
    for segment, followed in found:
        kind = t("segment.kind_snapshot") if segment.snapshot else t("segment.kind_live")
        mark = " · " + t("segment.following") if followed else ""
        items.append(f"{segment.name} ({kind}{mark}) · {segment.filters}")
    return Reply(
        title=t("segment.list_saved", count=len(found)),
        items=items,
        buttons=[Button.run(s.name, f"segment {_quote(s.name)}") for s, _ in found[:8]],
    )


def segment(req: Request) -> Reply:
    """`segment "Shanghai quiet" [page N]`: its members you may see, with the count over time."""
    t, ctx = req.t, req.ctx
    text, page = _take_page(req.args)
    name, rest = _name_and_rest(text, "usage.segment", whole=True)
    if rest:
        raise Invalid("usage.segment")
    seg = svc.find_segment(ctx, name)
    found = svc.find_customers(ctx, seg.filters, limit=PAGE, offset=(page - 1) * PAGE, segment=seg)
    reply = _members_reply(
        req, "segment.title", f"segment {_quote(seg.name)}", found, page, name=seg.name
    )
    kind = t("segment.kind_snapshot") if seg.snapshot else t("segment.kind_live")
    reply.fields = [
        Field(t("segment.filters"), seg.filters),
        Field(t("segment.kind"), kind),
    ]
    if page == 1:
        points = svc.history(ctx, seg, found.total)
        if len(points) >= 2:
            reply.image = charts.segment_chart(t, t("segment.chart_title", name=seg.name), points)
        else:
            reply.text = t("segment.chart_later")
    reply.buttons.append(Button.run(t("button.follow"), f"follow segment {_quote(seg.name)}"))
    return reply


def _segment_only(req: Request, usage: str) -> Segment:
    name, rest = _name_and_rest(req.args, usage, whole=True)
    if rest:
        raise Invalid(usage)
    return svc.find_segment(req.ctx, name)


def follow_segment(req: Request) -> Reply:
    """`follow segment "Shanghai quiet"`: a ping when a customer enters it."""
    seg = _segment_only(req, "usage.follow_segment")
    _, count = svc.follow(req.ctx, seg)
    return Reply(
        text=req.t("segment.followed", name=seg.name, count=count),
        buttons=[Button.run(req.t("button.unfollow"), f"unfollow segment {_quote(seg.name)}")],
    )


def unfollow_segment(req: Request) -> Reply:
    """`unfollow segment "Shanghai quiet"`."""
    seg = _segment_only(req, "usage.unfollow_segment")
    svc.unfollow(req.ctx, seg)
    return Reply(text=req.t("segment.unfollowed", name=seg.name))


def delete_segment(req: Request) -> Reply:
    """`delete segment "X"`: a confirm card; with `confirm` the segment is removed."""
    t = req.t
    args = req.args.strip()
    word = None
    if m := _CONFIRM.search(args):
        word = char_view(m.group(1)).lower()
        args = args[: m.start()].strip()
    name, rest = _name_and_rest(args, "usage.delete_segment", whole=True)
    if rest:
        raise Invalid("usage.delete_segment")
    if word is not None and word not in _CONFIRM_WORDS:
        return Reply(text=t("segment.delete_cancelled"), status="info")
    seg = svc.find_segment(req.ctx, name)
    line = f"delete segment {_quote(seg.name)}"
    if word is None:
        svc.check_may_change(req.ctx, seg)
        return Reply(
            title=t("segment.delete_preview", name=seg.name),
            text=t("segment.delete_note"),
            fields=[Field(t("segment.filters"), seg.filters)],
            buttons=[
                Button.run(t("button.confirm"), f"{line} confirm", "danger"),
                Button.dismiss(t("button.cancel")),
            ],
            status="info",
        )
    name = seg.name
    svc.delete_segment(req.ctx, seg)
    return Reply(text=t("segment.deleted", name=name))


# After the customer verbs.
ORDER = 12
NAME = Arg("segment", Kind.name)
VERBS = [
    Verb(
        "list customers",
        list_customers,
        args=(Arg("filters", Kind.text),),
        examples=(
            "list customers city Shanghai quiet 30d",
            "list customers tag vip or amount >50k",
            "列出客户 城市 上海 沉默 30天",
        ),
        writes=False,
        aliases=("filter customers", "列出客户", "筛选客户"),
    ),
    Verb(
        "save segment",
        save_segment,
        args=(NAME, Arg("filters", Kind.text)),
        examples=(
            'save segment "Shanghai quiet" city Shanghai quiet 30d',
            'save segment "Q1 list" tag vip snapshot',
            '保存分群 "上海沉默" 城市 上海 沉默 30天',
        ),
        writes=True,
        aliases=("保存分群",),
    ),
    Verb(
        "segments",
        segments,
        args=(),
        examples=("segments", "分群列表"),
        writes=False,
        aliases=("分群列表",),
    ),
    Verb(
        "segment",
        segment,
        args=(NAME,),
        examples=('segment "Shanghai quiet"', '分群 "上海沉默"'),
        writes=False,
        aliases=("分群",),
    ),
    Verb(
        "follow segment",
        follow_segment,
        args=(NAME,),
        examples=('follow segment "Shanghai quiet"', '关注分群 "上海沉默"'),
        writes=True,
        aliases=("关注分群",),
    ),
    Verb(
        "unfollow segment",
        unfollow_segment,
        args=(NAME,),
        examples=('unfollow segment "Shanghai quiet"',),
        writes=True,
        aliases=("取消关注分群",),
    ),
    Verb(
        "delete segment",
        delete_segment,
        args=(NAME, Arg("confirm", Kind.choice, optional=True, choices=("confirm", "cancel"))),
        examples=('delete segment "Shanghai quiet"', '删除分群 "上海沉默"'),
        writes=True,
        aliases=("删除分群",),
    ),
]
