"""A mail read as what it says (rules.mail): text, sender, the case it names, attachments."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from rules.mail import Unreadable, html_to_text, read, safe_filename


def raw(subject: str, body: str, sender: str = "张三 <zs@example.com>", **headers: str) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["Subject"] = subject
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return bytes(message)


def test_a_reply_names_its_case_and_keeps_only_the_new_text() -> None:
    mail = read(
        raw(
            "回复：已收到您的反馈（案件编号 ts-20261203-0007）",
            "照片已补充。\nOn Wed, 3 Dec 2026 客户服务中心 wrote:\n> 已收到您的反馈",
            Message_ID="<r1@example.com>",
        )
    )
    assert mail.case_no == "TS-20261203-0007"
    assert mail.text == "照片已补充。"
    assert (mail.sender_name, mail.sender_email) == ("张三", "zs@example.com")
    assert mail.message_id == "<r1@example.com>"


def test_a_mail_without_a_message_id_is_known_by_its_content() -> None:
    first, again = read(raw("漏水", "水壶漏水了")), read(raw("漏水", "水壶漏水了"))
    assert first.message_id == again.message_id and first.message_id.startswith("<sha256-")


def test_html_is_read_as_its_text_without_scripts_or_styles() -> None:
    text = html_to_text("<style>x{}</style><p>第一段&amp;</p><script>bad()</script><br>第二段")
    assert text == "第一段&\n第二段"


@pytest.mark.parametrize(
    ("given", "kept"),
    [("../../etc/passwd", "passwd"), ("C:\\a\\照片.jpg", "照片.jpg"), ("\x00..", "attachment")],
)
def test_an_attachments_name_never_leads_out_of_its_folder(given: str, kept: str) -> None:
    assert safe_filename(given) == kept


def test_a_mail_with_no_sender_is_unreadable() -> None:
    with pytest.raises(Unreadable, match="no sender"):
        read(b"Subject: x\r\n\r\nbody\r\n")
