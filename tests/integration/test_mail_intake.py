"""E-mail intake against a real IMAP server (dovecot on loopback) and a real ledger.

Prefect is unreachable here, as in an outage: every complaint is registered all the same
and its run starts at the next reconcile.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as settings_hypothesis
from hypothesis import strategies as st
from pydantic import SecretStr

from complaints.cases import casefile
from complaints.channels import mailbox
from complaints.deadlines import watch
from complaints.notifications.messages import send_once
from complaints.settings import Settings, get_settings
from complaints.templating import MessageKind
from complaints.timesource import utc_now
from models.db import engine_for, unit_of_work
from models.repositories import CaseRepository
from rules.enums import CaseStatus, Channel
from rules.mail import ATTACHMENT_LIMIT, identity
from tests.conftest import migrated_sqlite
from tests.integration.cli_support import UNREACHABLE_PREFECT
from tests.integration.imap_server import Mailbox, imap_server
from tests.integration.prefect_secrets import secret_blocks
from tests.integration.smtp_server import Inbox

CUSTOMER = "王小红 <wang.xiaohong@example.com>"


@pytest.fixture(scope="module")
def server() -> Iterator[Mailbox]:
    with imap_server() as running:
        yield running


@pytest.fixture
def box(server: Mailbox) -> Mailbox:
    """The inbox, emptied for each test."""
    return emptied(server)


def emptied(server: Mailbox) -> Mailbox:
    imap = server.client()
    try:
        imap.select("INBOX")
        imap.store("1:*", "+FLAGS", "(\\Deleted)")
        imap.expunge()
    except Exception:  # an empty inbox has no 1:*
        pass
    finally:
        imap.logout()
    return server


@pytest.fixture
def settings(box: Mailbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    url = migrated_sqlite(tmp_path / "ledger.db")
    monkeypatch.setenv("PREFECT_API_URL", UNREACHABLE_PREFECT)
    made = Settings(
        _env_file=None,
        database_url=url,
        evidence_dir=tmp_path / "evidence",
        link_secret=None,  # not the key an end-to-end stack of this session left in the env
        mailbox={
            "host": box.host,
            "port": box.port,
            "ssl": False,
            "user": box.user,
            "password": box.password,
        },
    )
    with temporary_settings(updates={PREFECT_API_URL: UNREACHABLE_PREFECT}):
        yield made
    engine_for(url).dispose()
    get_settings.cache_clear()


def mail(
    subject: str,
    text: str | None = "收到的电热水壶底部漏水，用了三天就不能用了，要求换货。",
    html: str | None = None,
    sender: str = CUSTOMER,
    message_id: str | None = None,
    attachments: tuple[tuple[str, bytes], ...] = (),
    in_reply_to: str | None = None,
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "complaints@example.com"
    message["Subject"] = subject
    message["Message-ID"] = message_id or make_msgid(domain="example.com")
    if in_reply_to is not None:  # as a mail program threads a reply
        message["In-Reply-To"] = in_reply_to
        message["References"] = f"<older@example.com> {in_reply_to}"
    if text is not None:
        message.set_content(text, charset="utf-8")
        if html is not None:
            message.add_alternative(html, subtype="html", charset="utf-8")
    elif html is not None:
        message.set_content(html, subtype="html", charset="utf-8")
    for name, data in attachments:
        message.add_attachment(data, maintype="image", subtype="jpeg", filename=name)
    return bytes(message)


def case(settings: Settings, case_no: str) -> Any:
    with unit_of_work(settings.database_url) as session:
        repo = CaseRepository(session)
        found = repo.get(case_no)
        assert found is not None
        return found, list(repo.audit(found.id))


def test_a_mail_in_chinese_becomes_a_case_on_the_email_channel_and_is_flagged_handled(
    box: Mailbox, settings: Settings
) -> None:
    box.deliver(mail("电热水壶漏水，要求换货"))

    done = mailbox.poll(settings, utc_now())

    (case_no,) = done.registered
    registered, entries = case(settings, case_no)
    assert registered.channel is Channel.EMAIL
    assert registered.customer_name == "王小红"
    assert registered.customer_email == "wang.xiaohong@example.com"
    assert registered.description.startswith("电热水壶漏水，要求换货\n收到的电热水壶底部漏水")
    assert registered.flow_run_id is None  # Prefect is down: reconcile starts it later
    assert [e.decision for e in entries][:1] == ["registered"]
    assert mailbox.HANDLED in box.flags()[0]
    assert "\\Seen" not in box.flags()[0]  # staff still see it as unread
    assert mailbox.poll(settings, utc_now()).read == 0  # never read twice


def test_an_html_only_mail_is_read_as_its_text(box: Mailbox, settings: Settings) -> None:
    html = (
        "<html><head><style>p{color:red}</style></head><body><p>快递延误<b>五天</b>，"
        "床垫还没送到。</p><script>alert(1)</script><div>订单 SO-778</div></body></html>"
    )
    box.deliver(mail("快递延误", text=None, html=html))

    (case_no,) = mailbox.poll(settings, utc_now()).registered

    description = case(settings, case_no)[0].description
    assert description == "快递延误\n快递延误 五天 ，床垫还没送到。\n订单 SO-778"


def test_attachments_are_kept_as_the_cases_evidence(box: Mailbox, settings: Settings) -> None:
    photo = b"\xff\xd8\xff\xe0" + b"jpeg" * 100
    box.deliver(mail("内胆裂了", attachments=(("../../裂纹.jpg", photo),)))

    (case_no,) = mailbox.poll(settings, utc_now()).registered

    saved = Path(settings.evidence_dir) / case_no / "裂纹.jpg"  # no way out of its folder
    assert saved.read_bytes() == photo
    entries = case(settings, case_no)[1]
    (evidence,) = [e for e in entries if e.decision == "evidence"]
    assert evidence.payload["evidence"] == ["裂纹.jpg"]


def test_a_reply_to_the_acknowledgement_joins_its_case_instead_of_a_new_one(
    box: Mailbox, settings: Settings
) -> None:
    box.deliver(mail("电热水壶漏水"))
    (case_no,) = mailbox.poll(settings, utc_now()).registered
    reply = mail(
        f"Re: 已收到您的反馈（案件编号 {case_no}）",
        text="补充一下：购买日期是 11 月 20 日。\n\n在 2026年12月3日 客户服务中心 写道：\n> 已收到您的反馈",
        attachments=(("发票.jpg", b"\xff\xd8invoice"),),
    )
    box.deliver(reply)

    done = mailbox.poll(settings, utc_now())

    assert done.registered == [] and done.correspondence == [case_no]
    entries = case(settings, case_no)[1]
    (wrote,) = [e for e in entries if e.decision == "customer_wrote"]
    assert wrote.step == "correspondence" and "购买日期是 11 月 20 日" in wrote.payload["note"]
    assert "已收到您的反馈\n" not in wrote.payload["note"].split("\n", 1)[1]  # quote cut off
    assert wrote.payload["evidence"] == ["发票.jpg"]


def acknowledged(settings: Settings, smtp: tuple[Inbox, int], case_no: str) -> str:
    """E-mail the case's acknowledgement over SMTP; the Message-ID the customer received."""
    inbox, port = smtp
    by_mail = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port})
    assert send_once(by_mail, case_no, MessageKind.ACKNOWLEDGEMENT, 0, utc_now()).status == "sent"
    return str(inbox.received()["Message-ID"])


def mailed_in_and_acknowledged(
    box: Mailbox, settings: Settings, smtp: tuple[Inbox, int]
) -> tuple[str, str]:
    """A complaint mailed in and registered: its case number and the Message-ID of the
    acknowledgement the customer received."""
    box.deliver(mail("电热水壶漏水"))
    (case_no,) = mailbox.poll(settings, utc_now()).registered
    return case_no, acknowledged(settings, smtp, case_no)


def timeline_words(settings: Settings, case_no: str) -> list[str]:
    """The decisions as the handler reads them on the case's zh-CN timeline."""
    return [
        row["decision"] for row in casefile.timeline(casefile.read(settings, case_no), settings)
    ]


def test_a_reply_threading_on_our_acknowledgement_joins_its_case_though_it_names_no_number(
    box: Mailbox, settings: Settings, smtp: tuple[Inbox, int]
) -> None:
    case_no, ack_id = mailed_in_and_acknowledged(box, settings, smtp)
    box.deliver(mail("Re: 您好", text="周六上午在家，可以上门取件。", in_reply_to=ack_id))

    done = mailbox.poll(settings, utc_now())

    assert done.registered == [] and done.correspondence == [case_no]
    (wrote,) = [e for e in case(settings, case_no)[1] if e.decision == "customer_wrote"]
    assert "周六上午在家" in wrote.payload["note"]
    assert mailbox.HANDLED in box.flags()[1]


def test_only_the_cases_own_customer_joins_it_by_threading_a_forward_is_a_complaint_of_its_own(
    box: Mailbox, settings: Settings, smtp: tuple[Inbox, int]
) -> None:
    case_no, ack_id = mailed_in_and_acknowledged(box, settings, smtp)
    box.deliver(
        mail(
            "Fwd: 您好",
            text="转给我的：我家的水壶也漏水了，请处理。",
            sender="李四 <li@example.com>",
            in_reply_to=ack_id,
        )
    )
    box.deliver(mail("Re: 您好", text="发票在附件里。", in_reply_to=ack_id))

    done = mailbox.poll(settings, utc_now())

    assert done.correspondence == [case_no]
    (forwarded,) = done.registered
    assert case(settings, forwarded)[0].customer_email == "li@example.com"
    (wrote,) = [e for e in case(settings, case_no)[1] if e.decision == "customer_wrote"]
    assert "发票在附件里" in wrote.payload["note"]  # the customer's, not the forward


def test_an_attachment_over_the_size_limit_is_named_on_the_case_with_its_size(
    box: Mailbox, settings: Settings
) -> None:
    video = b"\x00\x00\x00\x18ftypmp42" + b"v" * (ATTACHMENT_LIMIT + 512 * 1024)
    photo = b"\xff\xd8\xff\xe0" + b"jpeg" * 100
    box.deliver(mail("内胆裂了", attachments=(("开箱视频.mp4", video), ("裂纹.jpg", photo))))

    (case_no,) = mailbox.poll(settings, utc_now()).registered

    assert sorted(p.name for p in (Path(settings.evidence_dir) / case_no).iterdir()) == ["裂纹.jpg"]
    (left,) = [e for e in case(settings, case_no)[1] if e.decision == "attachment_not_kept"]
    assert left.payload["filename"] == "开箱视频.mp4" and left.payload["bytes"] == len(video)
    assert "开箱视频.mp4" in left.payload["note"] and "10.5 MB" in left.payload["note"]
    assert "附件未保存" in timeline_words(settings, case_no)
    assert mailbox.HANDLED in box.flags()[0]  # the original stays in the mailbox


def test_a_case_number_quoted_by_someone_else_is_a_new_complaint_not_theirs(
    box: Mailbox, settings: Settings
) -> None:
    box.deliver(mail("电热水壶漏水"))
    (case_no,) = mailbox.poll(settings, utc_now()).registered
    box.deliver(
        mail(
            f"关于 {case_no}",
            text="我也遇到了同样的问题，水壶漏水。",
            sender="李四 <li@example.com>",
        )
    )

    done = mailbox.poll(settings, utc_now())

    assert done.correspondence == [] and len(done.registered) == 1
    assert [e.decision for e in case(settings, case_no)[1]].count("customer_wrote") == 0


def test_a_mail_delivered_twice_is_one_case(box: Mailbox, settings: Settings) -> None:
    same = mail("电热水壶漏水", message_id="<dup-1@example.com>")
    box.deliver(same)
    box.deliver(same)

    done = mailbox.poll(settings, utc_now())

    assert len(done.registered) == 1 and done.repeated == done.registered
    assert all(mailbox.HANDLED in flags for flags in box.flags())


@pytest.mark.parametrize(
    "raw",
    [
        b"this is not a mail at all, no headers\r\n",
        mail("", text="退款"),  # too short to be registered
        b"Subject: =?utf-8?b?5rS75LqG?=\r\nMessage-ID: <x@y>\r\n\r\nno sender\r\n",
    ],
    ids=["garbage", "too-short", "no-sender"],
)
def test_a_mail_that_cannot_be_registered_is_kept_reported_and_never_retried(
    box: Mailbox, settings: Settings, raw: bytes
) -> None:
    box.deliver(raw)
    box.deliver(mail("电热水壶漏水"))  # the next one is not held up by it

    done = mailbox.poll(settings, utc_now())

    assert len(done.registered) == 1
    (line,) = done.skipped
    assert re.match(r"mail \d+: ", line) and "\n" not in line
    assert [mailbox.SKIPPED in f for f in box.flags()] == [True, False]
    assert "wang.xiaohong@example.com" not in line
    assert mailbox.poll(settings, utc_now()).read == 0


def test_a_mailbox_that_cannot_be_read_says_so_in_one_line(settings: Settings) -> None:
    wrong = settings.model_copy(
        update={"mailbox": settings.mailbox.model_copy(update={"password": SecretStr("wrong")})}
    )

    with pytest.raises(mailbox.MailboxError) as caught:
        mailbox.poll(wrong, utc_now())

    assert "cannot read the mailbox" in str(caught.value) and "\n" not in str(caught.value)


def test_a_reply_asking_where_the_case_stands_is_a_chase_too(
    box: Mailbox, settings: Settings
) -> None:
    box.deliver(mail("电热水壶漏水"))
    (case_no,) = mailbox.poll(settings, utc_now()).registered
    box.deliver(mail(f"Re: 案件编号 {case_no}", text="已经三天了，什么时候能处理？"))

    assert mailbox.poll(settings, utc_now()).correspondence == [case_no]

    decisions = [e.decision for e in case(settings, case_no)[1]]
    assert decisions.count("customer_wrote") == 1 and decisions.count("chased") == 1


def test_a_chase_by_mail_is_shown_to_the_handler_in_chinese_and_on_the_cases_run(
    box: Mailbox, settings: Settings
) -> None:
    box.deliver(mail("电热水壶漏水"))
    (case_no,) = mailbox.poll(settings, utc_now()).registered
    watcher = watch.Watcher(settings)
    assert watcher.watch_once(utc_now()).chased == set()
    box.deliver(mail(f"Re: 案件编号 {case_no}", text="还没有处理吗？进展如何？"))
    mailbox.poll(settings, utc_now())

    assert "客户催办" in timeline_words(settings, case_no)
    # the watch's next pass refreshes the case's view in the Prefect UI, once
    assert watcher.watch_once(utc_now()).chased == {case_no}
    assert watcher.watch_once(utc_now()).chased == set()


def test_a_reply_asking_about_a_closed_case_is_kept_and_holds_up_no_other_mail(
    box: Mailbox, settings: Settings
) -> None:
    box.deliver(mail("电热水壶漏水"))
    (case_no,) = mailbox.poll(settings, utc_now()).registered
    with unit_of_work(settings.database_url) as session:
        closed = CaseRepository(session).get(case_no)
        assert closed is not None
        closed.status = CaseStatus.CLOSED
    box.deliver(mail(f"Re: 案件编号 {case_no}", text="什么时候给我退款？"))
    box.deliver(mail("床垫发错颜色", text="订的灰色，送来的是米白色，要求更换。"))

    done = mailbox.poll(settings, utc_now())

    assert done.correspondence == [case_no] and len(done.registered) == 1
    assert all(mailbox.HANDLED in flags for flags in box.flags())


def test_the_mailbox_password_may_come_from_a_prefect_secret_block(
    box: Mailbox, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded = secret_blocks(monkeypatch, box.password)
    from_block = settings.model_copy(
        update={
            "mailbox": settings.mailbox.model_copy(
                update={"password": None, "password_block": "mailbox-password"}
            )
        }
    )
    box.deliver(mail("电热水壶漏水"))

    assert len(mailbox.poll(from_block, utc_now()).registered) == 1
    assert loaded == ["mailbox-password"]


# -- a mail is never more than itself -----------------------------------------------------
def outbox(settings: Settings) -> list[Any]:
    import sqlalchemy as sa

    from models.ledger import SlackOutbox

    with unit_of_work(settings.database_url) as session:
        return list(session.scalars(sa.select(SlackOutbox).order_by(SlackOutbox.id)))


def skipped_rows(settings: Settings) -> list[Any]:
    with unit_of_work(settings.database_url) as session:
        return list(CaseRepository(session).skipped_mails(100))


def test_an_attachment_the_disk_refuses_leaves_the_mail_for_a_person_and_the_case_says_why(
    box: Mailbox, settings: Settings
) -> None:
    settings.evidence_dir.parent.mkdir(parents=True, exist_ok=True)
    settings.evidence_dir.write_text("a file where the evidence folder should be")
    box.deliver(mail("水壶漏水，附照片", attachments=(("底部.jpg", b"\xff\xd8photo"),)))
    box.deliver(mail("电饭煲内胆有裂纹，无法使用"))

    done = mailbox.poll(settings, utc_now())

    (line,) = done.skipped
    (case_no,) = re.findall(r"case (TS-\d{8}-\d{4})", line)
    assert "底部.jpg" in line and len(done.registered) == 1  # the next mail went on
    assert [mailbox.SKIPPED in f for f in box.flags()] == [True, False]
    _, entries = case(settings, case_no)
    (left,) = [e for e in entries if e.decision == "attachment_not_kept"]
    assert "底部.jpg" in left.payload["note"] and "could not be kept" in left.payload["note"]
    assert [e.decision for e in entries].count("mail_not_finished") == 1
    (row,) = skipped_rows(settings)
    assert (row.case_no, row.sender) == (case_no, "wan***@example.com") or row.case_no == case_no
    assert "wang.xiaohong@example.com" not in (row.sender or "")
    (notice,) = [n for n in outbox(settings) if (n.notice_key or "").startswith("mail-skipped:")]
    assert notice.channel == settings.slack.channels["W"] and case_no in notice.text + str(
        notice.blocks
    )
    assert "wang.xiaohong@example.com" not in str(notice.blocks)


def test_any_error_in_one_mail_skips_it_with_the_reason_and_tells_its_owner_once(
    box: Mailbox, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_submit = mailbox.intake.submit

    def submit(complaint: Any, *args: Any) -> Any:
        if "内胆" in complaint.description:
            raise KeyError("a bug nobody foresaw")
        return real_submit(complaint, *args)

    monkeypatch.setattr(mailbox.intake, "submit", submit)
    broken = mail("电饭煲内胆有裂纹")
    box.deliver(broken)
    box.deliver(mail("电热水壶漏水，要求换货"))
    owned = settings.model_copy(
        update={"mailbox": settings.mailbox.model_copy(update={"owner_channel": "#mail-owner"})}
    )

    done = mailbox.poll(owned, utc_now())

    (line,) = done.skipped
    assert "a bug nobody foresaw" in line and len(done.registered) == 1
    assert mailbox.poll(owned, utc_now()).read == 0  # never read again
    mailbox.skip(owned, "1", broken, KeyError("again"), None, utc_now())  # a second report
    notices = [n for n in outbox(owned) if (n.notice_key or "").startswith("mail-skipped:")]
    assert [n.channel for n in notices] == ["#mail-owner"]  # once per mail
    (row,) = skipped_rows(owned)
    assert row.case_no is None and "a bug nobody foresaw" in row.reason


def test_an_attachment_named_in_98_chinese_characters_is_kept_under_a_name_the_disk_takes(
    box: Mailbox, settings: Settings
) -> None:
    long_name = "关于电热水壶底部漏水问题的照片" * 6 + "关于电热水壶底部漏" + ".jpg"
    box.deliver(mail("水壶漏水，附照片", attachments=((long_name, b"\xff\xd8photo"),)))

    done = mailbox.poll(settings, utc_now())

    (case_no,) = done.registered
    (saved,) = (settings.evidence_dir / case_no).iterdir()
    assert saved.read_bytes() == b"\xff\xd8photo" and saved.suffix == ".jpg"
    _, entries = case(settings, case_no)
    (evidence,) = [e for e in entries if e.decision == "evidence"]
    assert evidence.payload["original_names"] == {saved.name: long_name}


def _real_world_mails() -> list[bytes]:
    """Mails as they arrive: plain and HTML, attachments, RFC 2047 words in GB2312, an 8-bit
    GBK body with no charset, a forward inside a forward, a bounce."""
    gbk_body = "我是赵堃，买的电热水壶漏水，要求换货。".encode("gbk")
    forwarded = EmailMessage()
    forwarded["From"] = "李四 <li@example.com>"
    forwarded["Subject"] = "洗碗机报修三天无人上门"
    forwarded.set_content("洗碗机报修三天了，一直没有人上门。")
    forward = EmailMessage()
    forward["From"] = CUSTOMER
    forward["Subject"] = "Fwd: 洗碗机报修"
    forward.set_content(forwarded, disposition="inline")
    twice = EmailMessage()
    twice["From"] = "张三 <zs@example.com>"
    twice["Subject"] = "Fwd: Fwd: 洗碗机报修"
    twice.set_content("请处理下面转来的投诉。")
    twice.add_attachment(forward)
    bounce = (
        b"From: MAILER-DAEMON <postmaster@example.com>\r\nSubject: Undelivered Mail\r\n"
        b'Content-Type: multipart/report; boundary="b1"\r\n\r\n--b1\r\n'
        b"Content-Type: text/plain\r\n\r\nThe mail could not be delivered.\r\n--b1\r\n"
        b'Content-Type: message/rfc822\r\n\r\nFrom: \xe8\xb5\xb5 <a@b.c>\r\nContent-Type: multipart/mixed; boundary="x"\r\n\r\n'
        b"--x\r\nContent-Type: text/plain; charset=gb2312\r\n\r\n\xd5\xd4\x88\r\n--b1--\r\n"
    )
    return [
        mail("电热水壶漏水，要求换货"),
        mail("电饭煲", html="<p>内胆有<b>裂纹</b>，无法使用。</p>", text=None),
        mail("照片", attachments=(("底部" * 60 + ".jpg", b"\xff\xd8photo"),)),
        b"From: =?gb2312?B?1dS1?= <zhao@example.com>\r\nSubject: =?gb2312?B?sLa5+Q==?=\r\n"
        b"Content-Type: text/plain\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + gbk_body,
        bytes(twice),
        bounce,
    ]


REAL_WORLD = _real_world_mails()


@st.composite
def mutated(draw: Any) -> bytes:
    """A real-world mail, cut short, with bytes changed, or with a header or a charset that
    lies: what a broken mail program, a relay or a full disk leaves in a mailbox."""
    data = bytearray(draw(st.sampled_from(REAL_WORLD)))
    for _ in range(draw(st.integers(0, 3))):
        how = draw(st.sampled_from(["cut", "flip", "insert", "charset", "boundary"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if how == "cut":
            data = data[: max(at, 20)]
        elif how == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif how == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=12))
        elif how == "charset":
            data = data.replace(b"utf-8", draw(st.sampled_from([b"gb2312", b"x-unknown", b""])))
        else:
            data = data.replace(b"--", b"-", 1)
    return bytes(data)


@settings_hypothesis(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(mails=st.lists(mutated(), min_size=1, max_size=3))
def test_a_pass_over_any_mutated_mails_completes_and_each_mail_ends_taken_or_skipped_with_a_reason(
    server: Mailbox,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    mails: list[bytes],
) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    def prefect_down(*_: Any) -> str:
        raise ConnectionRefusedError("Prefect is down")  # at once: the reconcile starts it later

    monkeypatch.setattr(mailbox.intake, "start_run", prefect_down)
    emptied(server)
    root = tmp_path_factory.mktemp("mutated")
    url = migrated_sqlite(root / "ledger.db")
    made = Settings(
        _env_file=None,
        database_url=url,
        evidence_dir=root / "evidence",
        link_secret=None,
        mailbox={"host": server.host, "port": server.port, "ssl": False},
    )
    made = made.model_copy(
        update={
            "mailbox": made.mailbox.model_copy(
                update={"user": server.user, "password": SecretStr(server.password)}
            )
        }
    )
    delivered = [*mails, mail("电热水壶漏水，要求换货")]  # the clean one last: never held up
    for raw in delivered:
        server.deliver(raw)

    with temporary_settings(updates={PREFECT_API_URL: UNREACHABLE_PREFECT}):
        done = mailbox.poll(made, utc_now())

    assert done.read == len(mails) + 1  # every mail: registered, repeated, joined or skipped
    flags = server.flags()
    assert all((mailbox.HANDLED in f) != (mailbox.SKIPPED in f) for f in flags), flags
    assert sum(mailbox.SKIPPED in f for f in flags) == len(done.skipped)
    assert all(re.match(r"mail \d+: \S", line) and "\n" not in line for line in done.skipped)
    assert mailbox.HANDLED in flags[-1]
    with unit_of_work(url) as session:
        repo = CaseRepository(session)
        assert all(repo.get(case_no) is not None for case_no in done.registered)
        # one row per skipped mail (the same bytes delivered twice are one mail), keyed by
        # what the server keeps (it may end bare LF lines with CR LF)
        kept = server.contents()
        skipped = {
            identity(raw)[0] for raw, f in zip(kept, flags, strict=True) if mailbox.SKIPPED in f
        }
        assert {row.mail_key for row in repo.skipped_mails(100)} == skipped
    engine_for(url).dispose()
