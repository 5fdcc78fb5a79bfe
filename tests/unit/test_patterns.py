"""Clusters of similar complaints and repeat complaints (rules.patterns)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from rules.enums import Category
from rules.patterns import (
    CaseFacts,
    PatternPolicy,
    find_clusters,
    normal_phone,
    phone_forms,
    repeat_of,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
POLICY = PatternPolicy(cluster_size=3, cluster_window="2h", repeat_within_days=30)


def case(no: int, minutes_ago: float, category=Category.LOGISTICS, product=None, **more):
    return CaseFacts(
        case_no=f"TS-20261123-{no:04d}",
        received_at=NOW - timedelta(minutes=minutes_ago),
        category=category,
        product=product,
        **more,
    )


def test_k_similar_complaints_inside_the_window_make_one_cluster_listing_them():
    cases = [case(1, 100), case(2, 50), case(3, 5), case(4, 30, Category.SERVICE_ATTITUDE)]
    (cluster,) = find_clusters(cases, POLICY, NOW)
    assert cluster.category is Category.LOGISTICS
    assert [c.case_no for c in cluster.members] == [
        "TS-20261123-0001",
        "TS-20261123-0002",
        "TS-20261123-0003",
    ]
    assert cluster.key == "cluster:logistics:-:TS-20261123-0001"


def test_complaints_older_than_the_window_do_not_count():
    assert find_clusters([case(1, 121), case(2, 50), case(3, 5)], POLICY, NOW) == []


def test_a_named_product_is_part_of_what_makes_complaints_similar():
    cases = [
        case(1, 10, Category.PRODUCT_QUALITY, "电热水壶 K1"),
        case(2, 20, Category.PRODUCT_QUALITY, "电热水壶  k1"),  # same product, other spelling
        case(3, 30, Category.PRODUCT_QUALITY, "吹风机 H2"),
        case(4, 40, Category.PRODUCT_QUALITY, "电热水壶 K1"),
    ]
    (cluster,) = find_clusters(cases, POLICY, NOW)
    assert cluster.product == "电热水壶 k1"
    assert len(cluster.members) == 3
    assert cluster.family == "cluster:product_quality:电热水壶 k1:"


def test_ungraded_complaints_are_not_clustered():
    cases = [case(n, n, category=None) for n in range(1, 6)]
    assert find_clusters(cases, POLICY, NOW) == []


def test_the_cluster_key_stays_the_same_as_the_burst_grows():
    first = find_clusters([case(1, 60), case(2, 50), case(3, 40)], POLICY, NOW)
    grown = find_clusters([case(1, 60), case(2, 50), case(3, 40), case(4, 1)], POLICY, NOW)
    assert first[0].key == grown[0].key


def test_the_same_customer_about_the_same_product_within_n_days_is_a_repeat():
    earlier = case(1, 60 * 24 * 10, product="电热水壶 K1", phone="138 1234 5678")
    other_product = case(2, 60 * 24 * 2, product="吹风机", phone="13812345678")
    new = case(3, 0, product="电热水壶 K1", phone="+86 138-1234-5678")
    assert repeat_of(new, [earlier, other_product], POLICY) == earlier


def test_the_same_order_number_links_complaints_by_e_mail_too():
    earlier = case(1, 600, order_no="JD-778899", email="Wang.Fang@example.com")
    new = case(2, 0, order_no="JD-778899", email="wang.fang@example.com ")
    assert repeat_of(new, [earlier], POLICY) == earlier


def test_the_most_recent_earlier_case_is_the_one_linked():
    older = case(1, 60 * 24 * 20, product="K1", phone="13812345678")
    recent = case(2, 60 * 24 * 3, product="K1", phone="13812345678")
    new = case(3, 0, product="K1", phone="13812345678")
    assert repeat_of(new, [older, recent], POLICY) == recent


@pytest.mark.parametrize(
    "earlier",
    [
        case(1, 60 * 24 * 31, product="K1", phone="13812345678"),  # too long ago
        case(1, 60, product="K1", phone="13900000000"),  # another customer
        case(1, 60, product="K2", phone="13812345678"),  # another product
        case(1, 60, phone="13812345678"),  # no product or order to compare
    ],
)
def test_not_a_repeat(earlier):
    new = case(3, 0, product="K1", phone="13812345678")
    assert repeat_of(new, [earlier], POLICY) is None


@pytest.mark.parametrize(
    ("raw", "normal"),
    [("+86 138-1234-5678", "13812345678"), ("008613812345678", "13812345678"), ("", None)],
)
def test_phone_numbers_compare_without_formatting(raw, normal):
    assert normal_phone(raw) == normal


def test_the_cluster_window_must_be_a_span_of_time():
    with pytest.raises(ValidationError, match="cluster window"):
        PatternPolicy(cluster_window="2wd")
    with pytest.raises(ValidationError):
        PatternPolicy(cluster_size=1)


def test_a_landline_is_looked_up_with_and_without_its_area_code_hyphen():
    # Without the hyphen the area code may have 3 or 4 digits: both are looked up.
    assert phone_forms("01012345678") == {"01012345678", "010-12345678", "0101-2345678"}
    assert "0755-1234567" in phone_forms("0755-1234567")
    assert phone_forms("13812345678") == {"13812345678"}
