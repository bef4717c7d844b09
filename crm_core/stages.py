"""Pipeline stages: name, order, win probability and won/lost flags."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Stage:
    """One stage of the sales pipeline."""

    name: str
    order: int
    probability: Decimal
    won: bool = False
    lost: bool = False
    # What each language calls it, as configured: (("zh", "线索"), ("zh-Hant", "線索")).
    labels: tuple[tuple[str, str], ...] = ()

    @property
    def closed(self) -> bool:
        """Whether a deal in this stage is finished."""
        return self.won or self.lost

    def label(self, locale: str) -> str | None:
        """The configured label for `locale`, if the configuration gave one."""
        return dict(self.labels).get(locale)


DEFAULT_STAGES: tuple[Stage, ...] = (
    Stage("lead", 0, Decimal("0.10")),
    Stage("qualified", 1, Decimal("0.25")),
    Stage("proposal", 2, Decimal("0.50")),
    Stage("negotiation", 3, Decimal("0.75")),
    Stage("won", 4, Decimal("1"), won=True),
    Stage("lost", 5, Decimal("0"), lost=True),
)


LABEL_LOCALES = ("en", "zh", "zh-Hant")
# Labels written without `locale=`: the Simplified one, then the Traditional one.
_POSITIONAL = ("zh", "zh-Hant")


def _labels(part: str, bits: list[str]) -> tuple[tuple[str, str], ...]:
    """`线索`, `線索`, `zh-Hant=線索`, `en=Prospect` -> (locale, label) pairs."""
    out: dict[str, str] = {}
    positional = iter(_POSITIONAL)
    for bit in bits:
        if not bit:
            continue
        locale, sep, label = bit.partition("=")
        if sep:
            wanted = {loc.lower(): loc for loc in LABEL_LOCALES}.get(locale.strip().lower())
            if wanted is None or not label.strip():
                raise ValueError(
                    f"stage {part!r}: a label is locale=label with a locale of "
                    f"{', '.join(LABEL_LOCALES)}"
                )
            out[wanted] = label.strip()
        elif bit.isascii():
            # Latin words after the probability are flags; anything else is a typo.
            raise ValueError(f"stage {part!r}: the flag must be 'won' or 'lost'")
        else:
            slot = next(positional, None)
            if slot is None:
                raise ValueError(f"stage {part!r}: at most a Simplified and a Traditional label")
            out[slot] = bit
    return tuple(out.items())


def parse_stages(spec: str) -> tuple[Stage, ...]:
    """Parse `lead:10:线索:線索,qualified:25,...,won:100:won,lost:0:lost` into stages.

    After the probability: the flag `won` or `lost`, then labels per locale (`线索:線索` for
    Simplified and Traditional Chinese, or `zh=线索`, `zh-Hant=線索`, `en=Prospect`).
    """
    stages: list[Stage] = []
    for order, part in enumerate(p.strip() for p in spec.split(",") if p.strip()):
        bits = [b.strip() for b in part.split(":")]
        if len(bits) < 2 or not bits[0]:
            raise ValueError(f"stage {part!r}: expected name:probability[:won|lost][:label:label]")
        flag = bits[2].lower() if len(bits) > 2 and bits[2].lower() in ("won", "lost") else ""
        labels = _labels(part, bits[3:] if flag else bits[2:])
        try:
            percent = Decimal(bits[1])
            in_range = percent.is_finite() and Decimal(0) <= percent <= Decimal(100)
        except ArithmeticError as exc:
            raise ValueError(f"stage {part!r}: probability must be a number 0-100") from exc
        if not in_range:
            raise ValueError(f"stage {part!r}: probability must be between 0 and 100")
        stages.append(
            Stage(
                bits[0].lower(),
                order,
                percent / 100,
                won=flag == "won",
                lost=flag == "lost",
                labels=labels,
            )
        )
    names = [s.name for s in stages]
    if len(set(names)) != len(names):
        raise ValueError("stage names must be unique")
    if not any(s.won for s in stages) or not any(s.lost for s in stages):
        raise ValueError("the stages need one marked :won and one marked :lost")
    if all(s.closed for s in stages):
        raise ValueError("the stages need at least one open stage (without :won or :lost)")
    return tuple(stages)


class Pipeline:
    """Lookup helpers over the configured stages."""

    def __init__(self, stages: tuple[Stage, ...]) -> None:
        self.stages = stages
        self._by_name = {s.name: s for s in stages}

    def get(self, name: str) -> Stage | None:
        """The stage of that name (case-insensitive), or None."""
        return self._by_name.get(name.strip().lower())

    def is_open(self, name: str) -> bool:
        """Whether a deal in the stage of that name is still in play (unknown names are)."""
        stage = self.get(name)
        return stage is None or not stage.closed

    @property
    def first_open(self) -> Stage:
        """The stage a new deal starts in."""
        return next(s for s in self.stages if not s.closed)

    @property
    def open_stages(self) -> list[Stage]:
        """Stages of deals still in play."""
        return [s for s in self.stages if not s.closed]

    def next_stages(self, current: str) -> list[Stage]:
        """Stages a deal in `current` can sensibly move to: the next open one, won and lost."""
        stage = self.get(current)
        if stage is None or stage.closed:
            return [s for s in self.open_stages]
        later_open = [s for s in self.open_stages if s.order > stage.order][:1]
        return later_open + [s for s in self.stages if s.closed]
