"""Masking of personal data: phones, e-mail addresses, names and free text."""

from __future__ import annotations

import pytest

from rules.masking import mask_email, mask_name, mask_phone, mask_text


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812345678", "138****5678"),
        ("+86 138 1234 5678", "138****5678"),
        ("+8613812345678", "138****5678"),
        ("138-1234-5678", "138****5678"),
        ("１３８１２３４５６７８", "138****5678"),
        ("  19912345678 ", "199****5678"),
    ],
)
def test_a_mobile_number_keeps_its_first_three_and_last_four_digits(phone, masked):
    assert mask_phone(phone) == masked


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("010-12345678", "010-****5678"),
        ("0755-1234567", "0755-***4567"),
        ("0571-87654321", "0571-****4321"),
        ("01012345678", "010****5678"),
        ("02112345678", "021****5678"),
        ("075512345678", "0755****5678"),
    ],
)
def test_a_landline_keeps_its_area_code_and_last_four_digits(phone, masked):
    assert mask_phone(phone) == masked


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("12345", "***45"),
        ("95588", "***88"),
        ("abc", "**c"),
        ("12", "*2"),
        ("7", "*"),
        ("12345678901234", "************34"),
        ("010-12345678-801", "**************01"),
    ],
)
def test_a_short_or_odd_phone_value_keeps_at_most_its_last_two_characters(phone, masked):
    assert mask_phone(phone) == masked


@pytest.mark.parametrize("mask", [mask_phone, mask_email, mask_name, mask_text])
def test_every_mask_passes_none_through(mask):
    assert mask(None) is None


@pytest.mark.parametrize("mask", [mask_phone, mask_email, mask_name, mask_text])
def test_every_mask_leaves_an_empty_value_empty(mask):
    assert mask("") == ""


@pytest.mark.parametrize(
    ("email", "masked"),
    [
        ("zhangsan@example.com", "z***@example.com"),
        ("li.si+complaints@mail.example.cn", "l***@mail.example.cn"),
        ("13812345678@qq.com", "1***@qq.com"),
        ("ab@example.com", "a***@example.com"),
        ("a@example.com", "***@example.com"),
    ],
)
def test_an_email_keeps_the_first_character_of_its_local_part_and_its_domain(email, masked):
    assert mask_email(email) == masked


def test_an_email_mask_does_not_reveal_the_length_of_the_local_part():
    assert mask_email("zhangsanfeng@example.com") == mask_email("zh@example.com")


@pytest.mark.parametrize(("value", "masked"), [("not-an-email", "**********il"), ("@x", "*x")])
def test_a_value_that_is_not_an_email_keeps_at_most_its_last_two_characters(value, masked):
    assert mask_email(value) == masked


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三", "张*"),
        ("张三丰", "张**"),
        ("欧阳娜娜", "欧***"),
        ("John Smith", "J*** S****"),
        ("Mary-Jane Watson", "M***-J*** W*****"),
        ("J. Smith", "J. S****"),
        ("阿依古丽·买买提", "阿***·买**"),
        (" 李四 ", "李*"),
    ],
)
def test_a_name_keeps_the_first_character_of_each_part(name, masked):
    assert mask_name(name) == masked


@pytest.mark.parametrize("name", ["张", "J"])
def test_a_one_character_name_is_masked_completely(name):
    assert mask_name(name) == "*"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("请打电话13812345678联系我", "请打电话138****5678联系我"),
        ("电话：+86 138 1234 5678。", "电话：138****5678。"),
        ("电话 0086-13812345678", "电话 138****5678"),
        ("手机138-1234-5678", "手机138****5678"),
        ("我的手机是１３８１２３４５６７８", "我的手机是138****5678"),
        ("请联系zhangsan@example.com谢谢", "请联系z***@example.com谢谢"),
        ("mail me at li.si@example.com.", "mail me at l***@example.com."),
        ("QQ邮箱13812345678@qq.com", "QQ邮箱1***@qq.com"),
        (
            "打13912345678或15012345678，或写信给a.b@example.cn",
            "打139****5678或150****5678，或写信给a***@example.cn",
        ),
        ("座机010-12345678", "座机010-****5678"),
        ("打0755 23456789无人接", "打0755****6789无人接"),
    ],
)
def test_mobile_numbers_and_emails_inside_free_text_are_masked(text, masked):
    assert mask_text(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "订单号202611231381234567890已发货",
        "身份证号110101199003071234",
        "金额12345678元",
        "收到了，谢谢！",
        "12812345678不是手机号",
    ],
)
def test_free_text_without_a_mobile_or_email_is_left_unchanged(text):
    assert mask_text(text) == text


def test_masking_text_twice_changes_nothing_more():
    text = "客户说：打13812345678或发邮件到zhangsan@example.com"
    assert mask_text(mask_text(text)) == mask_text(text)


def test_free_text_about_a_customer_masks_their_own_name_phone_and_address_wherever_repeated():
    from rules.masking import mask_customer_text

    text = "13812345678 张三 说：请回电 010-87654321 或写信 zs@example.com；张三的订单"
    masked = mask_customer_text(text, "张三", "010-87654321", "zs@example.com")
    for raw in ("13812345678", "张三", "87654321", "zs@example.com"):
        assert raw not in masked
    assert masked.startswith("138****5678 张* 说")
    assert mask_customer_text(masked, "张三", "010-87654321", "zs@example.com") == masked
