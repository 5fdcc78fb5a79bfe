"""A mail read as what it says (rules.mail): text, sender, the case it names or threads on,
attachments."""

from __future__ import annotations

from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from rules.mail import (
    ATTACHMENT_LIMIT,
    NAME_BYTES,
    Unreadable,
    case_joined,
    html_to_text,
    read,
    safe_filename,
)


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


CASE, OLDER, OTHERS = "TS-20261203-0007", "TS-20261120-0002", "TS-20261203-0008"


def test_a_reply_threading_on_our_mail_joins_its_case_though_it_no_longer_names_it() -> None:
    mail = read(
        raw("Re: 已收到您的反馈", "好的，周六上门取件可以。", In_Reply_To="<ack-7@shop.example>")
    )
    assert mail.case_no is None
    threads = {"<ack-7@shop.example>": CASE}

    assert case_joined(mail, threads, {CASE: "ZS@Example.com"}) == CASE


def test_the_nearest_of_our_mails_in_a_thread_names_the_case() -> None:
    mail = read(
        raw(
            "Re: Re: 反馈",
            "还是没有人联系我。",
            References="<ack-2@shop.example> <ack-7@shop.example>",  # oldest first
        )
    )
    threads = {"<ack-2@shop.example>": OLDER, "<ack-7@shop.example>": CASE}
    customers = {OLDER: "zs@example.com", CASE: "zs@example.com"}

    assert case_joined(mail, threads, customers) == CASE


def test_a_thread_forwarded_from_another_address_joins_no_case() -> None:
    mail = read(
        raw(
            "Fwd: 已收到您的反馈",
            "我同事的水壶也漏水。",
            sender="李四 <li@example.com>",
            In_Reply_To="<ack-7@shop.example>",
        )
    )

    assert case_joined(mail, {"<ack-7@shop.example>": CASE}, {CASE: "zs@example.com"}) is None


def test_a_thread_on_someone_elses_case_leaves_the_senders_own_case_number_to_decide() -> None:
    mail = read(raw(f"关于 {CASE}", "补充照片。", In_Reply_To="<ack-8@shop.example>"))
    threads = {"<ack-8@shop.example>": OTHERS}
    customers = {OTHERS: "li@example.com", CASE: "zs@example.com"}

    assert case_joined(mail, threads, customers) == CASE


def test_a_mail_threading_on_mails_we_never_sent_joins_no_case() -> None:
    mail = read(raw("Re: 订单", "水壶漏水。", In_Reply_To="<someone@elsewhere.example>"))

    assert case_joined(mail, {}, {}) is None


def test_an_attachment_over_the_limit_is_named_with_its_size_instead_of_kept() -> None:
    message = EmailMessage()
    message["From"] = "张三 <zs@example.com>"
    message["Subject"] = "开箱视频"
    message.set_content("水壶底部漏水，见视频和照片。")
    message.add_attachment(
        b"v" * (ATTACHMENT_LIMIT + 1), maintype="video", subtype="mp4", filename="开箱.mp4"
    )
    message.add_attachment(b"\xff\xd8photo", maintype="image", subtype="jpeg", filename="底部.jpg")

    mail = read(bytes(message))

    assert [a.filename for a in mail.attachments] == ["底部.jpg"]
    (left,) = mail.not_kept
    assert (left.filename, left.content_type, left.size) == (
        "开箱.mp4",
        "video/mp4",
        ATTACHMENT_LIMIT + 1,
    )
    assert "开箱.mp4" in left.note and "10.0 MB" in left.note and "10 MB" in left.note


def letter(sender: str, subject: str, body: str | EmailMessage, **content: Any) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["Subject"] = subject
    message.set_content(body, **content)
    return message


def test_a_mail_forwarded_as_an_attachment_is_kept_as_an_eml_file() -> None:
    earlier = letter("快递公司 <notice@courier.example>", "您的包裹已签收", "包裹已由门卫代收。")
    message = letter(
        "张三 <zs@example.com>", "我根本没收到包裹", "快递说已签收，但我没收到，见附件邮件。"
    )
    message.add_attachment(earlier)

    mail = read(bytes(message))

    (kept,) = mail.attachments
    assert kept.content_type == "message/rfc822" and kept.filename.endswith(".eml")
    forwarded = message_from_bytes(kept.data, policy=default)
    assert forwarded["Subject"] == "您的包裹已签收"
    assert isinstance(forwarded, EmailMessage)
    body = forwarded.get_body()
    assert body is not None and "包裹已由门卫代收" in body.get_content()


# -- Chinese mail as real mail programs send it -------------------------------------------
GBK_ONLY = "赵堃 镕 玥"  # in GBK and GB18030, not in GB2312


def gb_mail(label: str | None, body: str, name: str = "赵堃", subject: str = "投诉：镕玥") -> bytes:
    """A mail as Outlook or Foxmail writes it: headers as RFC 2047 words in `label`, the body
    8-bit in GBK, labelled `label` (None: no charset at all)."""
    import base64

    def word(text: str) -> str:
        encoded = base64.b64encode(text.encode("gbk")).decode()
        return f"=?{label or 'gbk'}?B?{encoded}?="

    charset = f"; charset={label}" if label else ""
    head = (
        f"From: {word(name)} <zhao@example.com>\r\nSubject: {word(subject)}\r\n"
        f"Message-ID: <gb-{label}@example.com>\r\nMIME-Version: 1.0\r\n"
        f"Content-Type: text/plain{charset}\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    )
    return head.encode("ascii") + body.encode("gbk") + b"\r\n"


@pytest.mark.parametrize("label", ["gb2312", "GB2312", "gbk", "x-gbk", "cp936", "gb18030"])
def test_a_mail_labelled_gb2312_that_holds_gbk_characters_reads_as_written(label: str) -> None:
    mail = read(gb_mail(label, f"我是{GBK_ONLY}，热水壶漏水。"))

    assert mail.sender_name == "赵堃"
    assert mail.subject == "投诉：镕玥"
    assert mail.text == f"我是{GBK_ONLY}，热水壶漏水。"
    assert not mail.garbled


def test_an_undeclared_8bit_body_is_read_as_utf8_else_as_gb18030() -> None:
    gbk = read(gb_mail(None, "热水壶漏水，要求换货。"))
    assert gbk.text == "热水壶漏水，要求换货。" and not gbk.garbled

    utf8 = gb_mail(None, "").replace(b"\r\n\r\n", b"\r\n\r\n" + "退货退款。".encode(), 1)
    assert read(utf8).text == "退货退款。"


def test_a_body_no_charset_explains_is_read_with_replacements_and_flagged() -> None:
    nonsense = gb_mail(None, "").replace(b"\r\n\r\n", b"\r\n\r\n\x80\xff\xfe abc \x81", 1)

    mail = read(nonsense)

    assert mail.garbled and "abc" in mail.text


def test_a_mail_that_is_wholly_a_forward_is_the_forwarded_text_and_keeps_the_original() -> None:
    original = letter(
        "李四 <li@example.com>", "洗碗机报修三天无人上门", "洗碗机报修三天了，一直没有人上门。"
    )
    # the body is one message/rfc822 part
    outer = letter(
        "张三 <zs@example.com>", "Fwd: 洗碗机报修三天无人上门", original, disposition="inline"
    )

    mail = read(bytes(outer))

    assert "洗碗机报修三天了，一直没有人上门。" in mail.text
    assert "李四" in mail.text and "洗碗机报修三天无人上门" in mail.text
    (kept,) = mail.attachments
    assert kept.filename.endswith(".eml") and b"li@example.com" in kept.data


LONG_NAME = "关于电热水壶底部漏水问题的照片" * 7 + "。"  # 99 characters, 297 bytes in UTF-8


def test_a_long_chinese_attachment_name_is_cut_by_bytes_keeping_its_extension_and_original() -> (
    None
):
    message = EmailMessage()
    message["From"] = "张三 <zs@example.com>"
    message["Subject"] = "照片"
    message.set_content("见附件。")
    message.add_attachment(
        b"\xff\xd8jpg", maintype="image", subtype="jpeg", filename=f"{LONG_NAME}.jpg"
    )

    (kept,) = read(bytes(message)).attachments

    assert len(kept.filename.encode()) <= NAME_BYTES and kept.filename.endswith(".jpg")
    assert kept.filename.startswith("关于电热水壶底部漏水问题的照片")
    assert kept.original == f"{LONG_NAME}.jpg"


@given(st.text(st.sampled_from("赵堃镕玥照片漏水.") | st.characters(), max_size=400))
@example(LONG_NAME)
@example("CON.txt")
def test_any_attachment_name_becomes_one_any_file_system_takes(name: str) -> None:
    safe = safe_filename(name)

    assert 0 < len(safe.encode()) <= NAME_BYTES
    assert "/" not in safe and "\\" not in safe and "\x00" not in safe
    assert safe not in (".", "..")
    assert safe.split(".")[0].upper() not in ("CON", "NUL", "AUX", "PRN")
