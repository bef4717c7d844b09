"""Questions in one language about notes in another: the customer's name across scripts."""

from __future__ import annotations

from crm_core.context import Ctx
from crm_core.db import unit_of_work
from crm_core.models import User
from retrieval.ask import find_customer
from retrieval.fusion import rrf
from retrieval.latin_names import latin_forms, latin_sound, sounded_names
from retrieval.search import NoteHit, _cross_language
from tests.conftest import TestBot
from tests.retrieval.conftest import log_note


def _found(testbot: TestBot, who: str, question: str) -> str | None:
    with unit_of_work(testbot.session_factory) as s:
        ctx = Ctx(s, s.get_one(User, testbot.users[who]))
        customer = find_customer(ctx, question)
        return None if customer is None else customer.name


def test_latin_forms_of_a_chinese_name_are_city_brand_and_trade() -> None:
    forms = latin_forms("无锡精工电机")
    assert {"jinggong", "wuxi jinggong", "jinggong motor", "jinggong dianji"} <= forms
    assert {"xingyue catering", "xingyue"} <= latin_forms("上海星悦餐饮")
    # No city: the brand alone is too short a name, with its trade it is one.
    assert latin_forms("华东物流") == {
        "huadong logistics",
        "huadong wuliu",
        "hua dong logistics",
        "hua dong wuliu",
    }
    assert latin_forms("东莞美达") == frozenset()


def test_a_chinese_customer_is_found_by_city_and_brand_anywhere_in_the_question(
    testbot: TestBot,
) -> None:
    for line in (
        "new customer 无锡精工电机有限公司",
        "new customer 上海星悦酒店管理有限公司",
        "new customer 上海星悦餐饮有限公司",
        "new customer Sierra Cookware",
    ):
        assert testbot("alice", line).status == "ok", line
    assert _found(testbot, "alice", "magnet bonding test numbers at wuxi jinggong?") == (
        "无锡精工电机有限公司"
    )
    assert _found(testbot, "alice", "wuxi jinggong - magnet bonding test numbers?") == (
        "无锡精工电机有限公司"
    )
    # Two brands share "xingyue": the trade said with it tells them apart.
    assert _found(testbot, "alice", "xingyue catering - how many stores stopped?") == (
        "上海星悦餐饮有限公司"
    )
    assert _found(testbot, "alice", "who buys for xingyue hotel now?") == (
        "上海星悦酒店管理有限公司"
    )
    assert _found(testbot, "alice", "any news from xingyue?") is None
    # dave sees none of them: to him the names match nothing.
    assert _found(testbot, "dave", "magnet bonding test numbers at wuxi jinggong?") is None


def test_an_english_question_naming_a_chinese_customer_in_pinyin_finds_its_chinese_note(
    testbot: TestBot,
) -> None:
    for line in ("new customer 无锡精工电机有限公司", "new customer Sierra Cookware"):
        assert testbot("alice", line).status == "ok", line
    zh = log_note(
        testbot,
        "alice",
        "log visit 无锡精工电机, 2026-04-03: 磁钢粘接测试 SE-400，剪切强度 26 MPa，马经理很满意。",
    )
    for text in (
        "On-site bonding test passed. Maria wants a price under $14/kg.",
        "Sent SE-400 dishwasher test data (1,000 cycles ok). Maria wants a sample.",
        "Bonding test on stainless pans: must survive 500 dishwasher cycles.",
    ):
        log_note(testbot, "alice", f"log call Sierra Cookware, 2026-05-01: {text}")
    reply = testbot("alice", "ask wuxi jinggong - magnet bonding test numbers?")
    assert f"note #{zh}" in [b.payload["text"] for b in reply.buttons][:1], reply.text


def test_a_chinese_short_form_with_its_trade_tells_two_brands_apart(testbot: TestBot) -> None:
    for line in ("new customer 上海星悦酒店管理有限公司", "new customer 上海星悦餐饮有限公司"):
        assert testbot("alice", line).status == "ok", line
    assert _found(testbot, "alice", "星悦酒店现在对接采购的是谁") == "上海星悦酒店管理有限公司"
    assert _found(testbot, "alice", "星悦餐饮几家店停用了") == "上海星悦餐饮有限公司"


def test_a_hyphenated_mail_host_names_its_chinese_customer(testbot: TestBot) -> None:
    for line in (
        "new customer 江苏精工",
        "contact add 江苏精工: 马军, 技术部经理, majun@jinggong-motor.example",
    ):
        assert testbot("alice", line).status == "ok", line
    assert _found(testbot, "alice", "what did jinggong test last month?") == "江苏精工"


def test_the_trade_said_decides_before_mail_hosts_two_brands_share(testbot: TestBot) -> None:
    for line in (
        "new customer 上海星悦酒店管理有限公司",
        "contact add 上海星悦酒店管理: 王芳, 采购, wangfang@xingyue-hotel.example",
        "new customer 上海星悦餐饮有限公司",
        "contact add 上海星悦餐饮: 孙浩, 运营经理, sunhao@xingyue-food.example",
    ):
        assert testbot("alice", line).status == "ok", line
    assert _found(testbot, "alice", "xingyue catering - how many stores stopped?") == (
        "上海星悦餐饮有限公司"
    )


def test_latin_sound_reads_a_name_as_chinese_writes_it() -> None:
    for latin, han in (
        ("kessler", "凯斯勒"),
        ("markus", "马库斯"),
        ("hartwell", "哈特威尔"),
        ("kelvin", "开尔文"),
        ("corbin", "科宾"),
    ):
        assert latin_sound(latin) in sounded_names(f"{han}的采购是谁"), (latin, han)
    # Everyday words are no names: nothing in them is read as one.
    assert sounded_names("他们想要多少折扣？马经理很满意") == set()


def test_a_chinese_question_naming_a_latin_customer_by_its_sound_finds_its_english_note(
    testbot: TestBot,
) -> None:
    for line in (
        "new customer Kessler Automotive Components (Suzhou) Co., Ltd.",
        "new customer 苏州恒达电子科技有限公司",
        "new customer Hartwell Marine Boats",
    ):
        assert testbot("alice", line).status == "ok", line
    assert _found(testbot, "alice", "凯斯勒苏州的采购到底谁说了算") == (
        "Kessler Automotive Components (Suzhou) Co., Ltd."
    )
    assert _found(testbot, "alice", "哈特威尔的大单谁签字？") == "Hartwell Marine Boats"
    en = log_note(
        testbot,
        "alice",
        "log meeting Kessler, 2026-01-16: Markus: global sourcing in Stuttgart decides, "
        "the local plant can only recommend.",
    )
    for text in (
        "李强离职了，接替他的是采购经理周敏，下个月去拜访苏州工厂。",
        "孙丽说测试通过了，她会推荐给采购部，采购对接人还是李强主管。",
        "第一次拜访周敏，她想在苏州备 1 吨库存，采购由她说了算。",
    ):
        log_note(testbot, "alice", f"log call 苏州恒达电子, 2026-05-01: {text}")
    reply = testbot("alice", "ask 凯斯勒苏州的采购到底谁说了算")
    assert f"note #{en}" in [b.payload["text"] for b in reply.buttons][:1], reply.text


def test_a_note_in_the_other_language_ranks_by_its_place_among_that_languages_notes() -> None:
    """The vectors put an English question's best Chinese note 35th, behind English ones."""
    # 20 English notes only BM25 finds, then 34 both find (lexical 21st.., vectors 1st..).
    lexical = [*range(101, 121), *range(1, 35)]
    by_note = {i: NoteHit(i, 0.0, lexical_rank=r) for r, i in enumerate(lexical, start=1)}
    for i in range(1, 35):
        by_note[i].dense_rank = i
    by_note[99] = NoteHit(99, 0.0, dense_rank=35)
    openings = {i: "Sent the SE-400 test data." for i in lexical}
    openings[99] = "磁钢粘接测试 SE-400，剪切强度 26 MPa。"
    fused = rrf([lexical, [*range(1, 35), 99]])
    ranked = [iid for iid, _ in _cross_language(fused, by_note, openings, "bonding test?")]
    # Before: 2 / (60 + 35) put it 27th, below notes both lists found.
    assert ranked.index(99) < 8, ranked[:10]
    # A note in the question's language gains nothing.
    openings[99] = "Magnet bonding test passed."
    ranked = [iid for iid, _ in _cross_language(fused, by_note, openings, "bonding test?")]
    assert ranked.index(99) > 30


def test_a_city_spelt_the_old_way_and_a_trade_after_the_brand_name_a_customer(
    testbot: TestBot,
) -> None:
    for line in (
        "new customer 新竹科學園區餐飲服務股份有限公司",
        "new customer 高雄港灣飯店股份有限公司",
        "new customer 桃園國際機場貴賓室服務股份有限公司",
        "new customer 深圳前海科创园区服务有限公司",
    ):
        assert testbot("alice", line).status == "ok", line
    assert _found(testbot, "alice", "hsinchu catering - monthly price in the first quote?") == (
        "新竹科學園區餐飲服務股份有限公司"
    )
    assert _found(testbot, "alice", "what did the kaohsiung hotel order?") == (
        "高雄港灣飯店股份有限公司"
    )
    assert _found(testbot, "alice", "taoyuan lounges - repair response time?") == (
        "桃園國際機場貴賓室服務股份有限公司"
    )
    assert _found(testbot, "alice", "桃園貴賓室 Franke 續約降多少") == (
        "桃園國際機場貴賓室服務股份有限公司"
    )
    # A vague trade names nothing with its city alone.
    assert _found(testbot, "alice", "any shenzhen services news?") is None


def test_a_question_naming_a_contact_is_about_that_contacts_customer(testbot: TestBot) -> None:
    for line in (
        "new customer Victoria Harbour Catering Ltd",
        "contact add Victoria Harbour Catering: Kelvin Tsang, Operations Director",
        "new customer 上海星悦餐饮有限公司",
        "new customer Acme Logistics",
        "contact add Acme: Will Carter, Buyer",
    ):
        assert testbot("alice", line).status == "ok", line
    assert _found(testbot, "alice", "维港餐饮 Kelvin 买了几台") == "Victoria Harbour Catering Ltd"
    # A common word is no first name, nor is a name after another the question opens with.
    assert _found(testbot, "alice", "Will the new racks ship in May?") is None
    assert _found(testbot, "alice", "lakeside mfg - what PO did Kelvin give us?") is None
    # dave sees none of them.
    assert _found(testbot, "dave", "维港餐饮 Kelvin 买了几台") is None
    en = log_note(
        testbot, "alice", "log call Victoria Harbour, 2026-07-09: Kelvin ordered 4 units."
    )
    for text in ("餐饮部说旗舰店买了两台新机器。", "餐饮连锁想再买几台，等预算。"):
        log_note(testbot, "alice", f"log call 上海星悦餐饮, 2026-07-01: {text}")
    reply = testbot("alice", "ask 维港餐饮 Kelvin 买了几台")
    assert f"note #{en}" in [b.payload["text"] for b in reply.buttons][:1], reply.text
