"""Charts: PNGs for the funnel, win rate and forecast; Chinese labels with no missing glyph."""

from __future__ import annotations

import io
import logging
import warnings

import pytest
from PIL import Image

from handlers.charts import DPI, HEIGHT, WIDTH
from handlers.reply import Reply
from tests.conftest import TestBot
from tests.crm_core.test_analytics import load_book

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def bot(testbot: TestBot) -> TestBot:
    """The hand-made book of tests/crm_core/test_analytics.py, and wei, an admin reading zh."""
    load_book(testbot.session_factory)
    testbot.add_user("wei", role="admin", team=None, locale="zh", timezone="Asia/Shanghai")
    return testbot


def _size(image: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(image)) as img:
        return img.size


def draw_strictly(bot: TestBot, who: str, text: str, caplog: pytest.LogCaptureFixture) -> Reply:
    """Run a chart command with matplotlib's missing-glyph warning turned into a failure."""
    with warnings.catch_warnings(), caplog.at_level(logging.WARNING, logger="matplotlib"):
        warnings.filterwarnings("error", message=r".*Glyph .* missing")
        reply = bot(who, text)
    assert not [r for r in caplog.records if "findfont" in r.getMessage()]
    return reply


@pytest.mark.parametrize("text", ["chart funnel", "chart win rate by month", "chart forecast"])
def test_each_chart_is_a_png(bot: TestBot, text: str, caplog: pytest.LogCaptureFixture) -> None:
    reply = draw_strictly(bot, "admin", text, caplog)
    assert reply.status == "ok", reply.text
    assert reply.image is not None and reply.image.startswith(PNG)
    assert _size(reply.image) == (int(WIDTH * DPI), int(HEIGHT * DPI))
    # The numbers come with it, and no Chart button on a chart.
    assert reply.fields and not any(b.label == "Chart" for b in reply.buttons)


@pytest.mark.parametrize("text", ["图表 漏斗", "图表 赢单率 按团队 本季度", "图表 预测"])
def test_chinese_charts_have_every_glyph(
    bot: TestBot, text: str, caplog: pytest.LogCaptureFixture
) -> None:
    reply = draw_strictly(bot, "wei", text, caplog)
    assert reply.status == "ok", reply.text
    assert reply.image is not None and reply.image.startswith(PNG)


def test_the_glyph_check_catches_a_font_without_chinese() -> None:
    """Drawing Chinese in matplotlib's default font warns: the check above can fail."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    with rc_context({"font.family": ["DejaVu Sans"]}), pytest.warns(UserWarning, match="Glyph"):
        fig = Figure()
        fig.add_subplot().set_title("销售漏斗")
        fig.savefig(io.BytesIO(), format="png")


def test_reports_offer_a_chart_button_that_draws_the_same_report(bot: TestBot) -> None:
    reply = bot("admin", "report win rate by month 2026")
    (button,) = [b for b in reply.buttons if b.label == "Chart"]
    # The period as typed when its label reads back as the same days.
    assert button.payload["text"] == "chart win rate by month 2026"
    drawn = bot.press("admin", button)
    assert drawn.image is not None and drawn.items == reply.items
    assert [b.label for b in bot("admin", "forecast").buttons] == ["Chart"]
    assert not [b for b in bot("admin", "report cycle").buttons if b.label == "Chart"]


def test_a_chart_that_does_not_exist_says_which_do(bot: TestBot) -> None:
    reply = bot("admin", "chart cycle")
    assert reply.status == "error" and "`chart funnel`" in reply.text
    assert bot("admin", "chart").status == "error"
