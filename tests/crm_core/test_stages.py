"""Pipeline stages from the CRMBOT_STAGES setting, and where a deal may move next."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crm_core.stages import DEFAULT_STAGES, Pipeline, Stage, parse_stages

GOOD = "lead:10,demo:40,won:100:won,lost:0:lost"


def test_parse_good_spec() -> None:
    """Names, order, probabilities as fractions, and the won/lost flags."""
    assert parse_stages(GOOD) == (
        Stage("lead", 0, Decimal("0.1")),
        Stage("demo", 1, Decimal("0.4")),
        Stage("won", 2, Decimal("1"), won=True),
        Stage("lost", 3, Decimal("0"), lost=True),
    )


def test_parse_is_forgiving_about_spacing_case_and_commas() -> None:
    """Spaces, upper case and a trailing comma are fine."""
    assert parse_stages(" Lead : 10 , Demo:40, WON:100:Won , lost:0:LOST ,") == parse_stages(GOOD)


def test_parse_decimal_probability() -> None:
    """Probabilities may have decimals and stay exact."""
    stages = parse_stages("lead:12.5,won:100:won,lost:0:lost")
    assert stages[0].probability == Decimal("0.125")
    assert stages[1].closed and stages[2].closed and not stages[0].closed


def test_default_stages_parse_from_their_own_spec() -> None:
    """The defaults are expressible in the setting's syntax."""
    spec = ",".join(
        f"{s.name}:{s.probability * 100}" + (":won" if s.won else ":lost" if s.lost else "")
        for s in DEFAULT_STAGES
    )
    assert parse_stages(spec) == DEFAULT_STAGES


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("lead", "stage 'lead': expected name:probability"),
        (":10,won:100:won,lost:0:lost", "stage ':10': expected name:probability"),
        ("lead:abc,won:100:won,lost:0:lost", "stage 'lead:abc': probability must be a number"),
        ("lead:,won:100:won,lost:0:lost", "stage 'lead:': probability must be a number"),
        ("lead:101,won:100:won,lost:0:lost", "stage 'lead:101': probability must be between"),
        ("lead:-1,won:100:won,lost:0:lost", "stage 'lead:-1': probability must be between"),
        ("lead:Infinity,won:100:won,lost:0:lost", "probability must be between 0 and 100"),
        ("lead:10:maybe,won:100:won,lost:0:lost", "the flag must be 'won' or 'lost'"),
        ("lead:10,Lead:20,won:100:won,lost:0:lost", "stage names must be unique"),
        ("lead:10,won:100:won", "one marked :won and one marked :lost"),
        ("lead:10,lost:0:lost", "one marked :won and one marked :lost"),
        ("", "one marked :won and one marked :lost"),
    ],
)
def test_parse_bad_spec(spec: str, message: str) -> None:
    """A bad spec is a ValueError that names the part to fix."""
    with pytest.raises(ValueError) as info:
        parse_stages(spec)
    assert message in str(info.value)


@pytest.mark.parametrize(
    "spec", ["lead:NaN,won:100:won,lost:0:lost", "lead:sNaN,won:1:won,x:0:lost"]
)
def test_parse_nan_probability(spec: str) -> None:
    """NaN is not a probability: a ValueError like any other bad number."""
    with pytest.raises(ValueError, match="probability"):
        parse_stages(spec)


def test_parse_needs_an_open_stage() -> None:
    """Without an open stage a new deal has nowhere to start (first_open would crash)."""
    with pytest.raises(ValueError):
        parse_stages("won:100:won,lost:0:lost")


def test_parse_refuses_extra_parts() -> None:
    """`lead:10:won:extra` is a typo, not a won stage."""
    with pytest.raises(ValueError):
        parse_stages("lead:10:won:extra,won:100:won,lost:0:lost")


@pytest.fixture
def pipeline() -> Pipeline:
    """The default pipeline."""
    return Pipeline(DEFAULT_STAGES)


def _names(stages: list[Stage]) -> list[str]:
    return [s.name for s in stages]


@pytest.mark.parametrize(
    ("current", "expected"),
    [
        ("lead", ["qualified", "won", "lost"]),
        ("LEAD ", ["qualified", "won", "lost"]),
        ("qualified", ["proposal", "won", "lost"]),
        ("proposal", ["negotiation", "won", "lost"]),
        ("negotiation", ["won", "lost"]),
        ("won", ["lead", "qualified", "proposal", "negotiation"]),
        ("lost", ["lead", "qualified", "proposal", "negotiation"]),
        ("no-such-stage", ["lead", "qualified", "proposal", "negotiation"]),
    ],
)
def test_next_stages(pipeline: Pipeline, current: str, expected: list[str]) -> None:
    """An open deal moves on one step or closes; a closed one can reopen anywhere."""
    assert _names(pipeline.next_stages(current)) == expected


def test_pipeline_lookups(pipeline: Pipeline) -> None:
    """get is case-insensitive; first_open and open_stages skip closed stages."""
    assert pipeline.get(" Proposal ") == DEFAULT_STAGES[2]
    assert pipeline.get("nope") is None
    assert pipeline.first_open.name == "lead"
    assert _names(pipeline.open_stages) == ["lead", "qualified", "proposal", "negotiation"]


def test_next_stages_of_a_custom_pipeline() -> None:
    """Next stages follow the configured order, not the default one."""
    custom = Pipeline(parse_stages("new:5,lost:0:lost,demo:40,won:100:won"))
    assert custom.first_open.name == "new"
    assert _names(custom.next_stages("new")) == ["demo", "lost", "won"]
    assert _names(custom.next_stages("demo")) == ["lost", "won"]
