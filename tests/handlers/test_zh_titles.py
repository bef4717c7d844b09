"""Chinese people named by surname and title (陈总, 王組長), by given name and kinship (金水伯),
and a longer name that holds a shorter one (陈丽华 holds 陈丽): never the wrong person."""

from __future__ import annotations

from sqlalchemy import select

from crm_core.models import Contact
from tests.conftest import TestBot
from tests.handlers.conftest import command

BOOK = (
    ("wei", "新客户 杭州西湖青藤茶业有限公司"),
    ("wei", "contact add 杭州西湖青藤茶业有限公司：陈丽华"),
    ("wei", "contact add 杭州西湖青藤茶业有限公司：陈丽"),
    ("wei", "新客户 宁波海曙明辉五金"),
    ("wei", "contact add 宁波海曙明辉五金：林志强, 总经理"),
    ("wei", "contact add 宁波海曙明辉五金：黄金水, 场主"),
    ("wei", "contact add 宁波海曙明辉五金：王添丁, 總務組長"),
    ("wei", "contact add 宁波海曙明辉五金：麥志明, 主席"),
)


def phones(testbot: TestBot) -> dict[str, str | None]:
    """Every contact's phone by name."""
    with testbot.session_factory() as s:
        return {c.name: c.phone for c in s.scalars(select(Contact))}


def test_an_edit_of_the_longer_name_is_never_the_shorter_ones(
    testbot: TestBot, book: dict[str, int]
) -> None:
    """ "陈丽华的电话…" edits 陈丽华; "陈丽的电话…", "陈丽手机换了…" edit 陈丽."""
    full, short = book["陈丽华"], book["陈丽"]
    assert command(testbot, "wei", "陈丽华的电话改成13800001111") == (
        f"edit contact #{full}: phone 13800001111"
    )
    assert command(testbot, "wei", "陈丽的电话改成13800001111") == (
        f"edit contact #{short}: phone 13800001111"
    )
    assert command(testbot, "wei", "陈丽手机换了 13800002222") == (
        f"edit contact #{short}: phone 13800002222"
    )
    assert command(testbot, "wei", "跟陈丽华开了会，谈了报价") == (
        f"log meeting #{book['杭州西湖青藤茶业有限公司']}, with #{full}: 谈了报价"
    )


def test_the_longer_name_not_in_the_book_is_not_the_shorter_one(
    testbot: TestBot, book: dict[str, int]
) -> None:
    """With 陈丽华 gone, "陈丽华的电话…" names nobody in the book: no card for 陈丽."""
    with testbot.session_factory() as s:
        for c in s.scalars(select(Contact).where(Contact.name == "陈丽华")):
            s.delete(c)
        s.commit()
    before = phones(testbot)
    reply = testbot("wei", "陈丽华的电话改成13800001111")
    assert f"#{book['陈丽']}" not in str(reply.to_json().get("command"))
    assert phones(testbot) == before


def test_a_surname_and_title_names_the_one_contact_or_asks(
    testbot: TestBot, book: dict[str, int]
) -> None:
    """林总 is 林志强; 陈总 is 陈丽华 or 陈丽, asked with a button for each, in loose
    sentences and in the grammar alike; pressing one edits that one."""
    assert command(testbot, "wei", "林总的电话改成13800001111") == (
        f"edit contact #{book['林志强']}: phone 13800001111"
    )
    assert testbot("wei", "edit contact 林总: phone 13800003333").status == "ok"
    assert phones(testbot)["林志强"] == "13800003333"
    for text in ("陈总的电话改成13800001111", "edit contact 陈总: phone 13800001111"):
        reply = testbot("wei", text)
        assert reply.status != "confirm", text
        labels = [b.label for b in reply.buttons]
        assert any(label.startswith("陈丽华") for label in labels), labels
        assert any(label.startswith("陈丽 ") for label in labels), labels
    reply = testbot("wei", "edit contact 陈总: phone 13800004444")
    chosen = next(b for b in reply.buttons if b.label.startswith("陈丽华"))
    testbot.press("wei", chosen)
    assert phones(testbot)["陈丽华"] == "13800004444"
    assert phones(testbot)["陈丽"] is None


def test_more_titles_and_kinship_words_name_people(testbot: TestBot, book: dict[str, int]) -> None:
    """王組長 (總務組長), 麥主席 (主席), 金水伯 (黄金水's given name and 伯)."""
    shop = book["宁波海曙明辉五金"]
    for said, name in (("王組長", "王添丁"), ("麥主席", "麥志明"), ("金水伯", "黄金水")):
        assert command(testbot, "wei", f"跟{said}开了会，谈了报价") == (
            f"log meeting #{shop}, with #{book[name]}: 谈了报价"
        )


def test_a_title_and_surname_name_an_english_contact(testbot: TestBot) -> None:
    """ "Ms Bond" is Grace Bond, as 陈总 is 陈丽华; two Bonds are asked, never one taken."""
    testbot("alice", "new customer Joondalup Christian College")
    testbot("alice", "contact add Joondalup Christian College: Grace Bond, Business manager")
    with testbot.session_factory() as s:
        ids = {c.name: c.id for c in s.scalars(select(Contact))}
    line = command(testbot, "alice", "met Ms Bond at joondalup, they want the chargers in january")
    assert f"with #{ids['Grace Bond']}" in line, line
    testbot("alice", "contact add Joondalup Christian College: James Bond, Bursar")
    with testbot.session_factory() as s:
        james = s.scalars(select(Contact.id).where(Contact.name == "James Bond")).one()
    reply = testbot("alice", "Ms Bond's phone is now +61 8 9300 1111")
    said = str(reply.to_json().get("command"))
    assert f"#{ids['Grace Bond']}" not in said and f"#{james}" not in said, reply.text
