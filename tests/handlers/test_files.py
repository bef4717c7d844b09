"""File references kept on notes: what goes into the link, and what a note shows for it."""

from __future__ import annotations

from handlers.files import MAX_LINK, file_label, file_link
from handlers.i18n import Translator
from handlers.reply import Command, File, Photo, SourceLink


def test_photo_document_and_voice_references_read_back() -> None:
    """Each kind of file round-trips to a label in English and Chinese."""
    en, zh = Translator("en"), Translator("zh")
    photo = file_link(Command(1, "telegram", attachments=(Photo("AgAC/x+y"),)))
    assert photo == "telegram-file:photo/AgAC%2Fx%2By"
    assert file_label(en, photo) == "photo (kept on Telegram)"
    doc = file_link(Command(1, "telegram", attachments=(File("BQAD", "报价 v2.pdf", "x/pdf"),)))
    assert file_label(en, doc) == "document 报价 v2.pdf (kept on Telegram)"
    assert file_label(zh, doc) == "文件 报价 v2.pdf（保存在 Telegram）"
    voice = file_link(Command(1, "telegram", attachments=(File("AwAC", None, "audio/ogg"),)))
    assert file_label(en, voice) == "voice note (kept on Telegram)"


def test_no_file_and_other_links_are_not_files() -> None:
    """No attachment gives no reference; a permalink is not shown as a file."""
    assert file_link(Command(1, "telegram", attachments=(SourceLink("https://x.example"),))) is None
    assert file_label(Translator("en"), "https://acme.slack.com/archives/C1/p1") is None
    assert file_label(Translator("en"), None) is None


def test_a_long_file_name_is_shortened_to_fit_the_link() -> None:
    """The reference stays within the column and still names the file."""
    name = "非常长的文件名" * 80 + ".pdf"
    link = file_link(Command(1, "telegram", attachments=(File("BQAD" * 20, name, None),)))
    assert link is not None and len(link) <= MAX_LINK
    label = file_label(Translator("en"), link)
    assert label is not None and label.startswith("document 非常长的文件名")
