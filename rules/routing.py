"""Which department answers for a category (configurable)."""

from __future__ import annotations

from collections.abc import Mapping

from rules.enums import Category, Department

DEFAULT_ROUTING: dict[Category, Department] = {
    Category.PRODUCT_QUALITY: Department.PRODUCT,
    Category.SERVICE_ATTITUDE: Department.CUSTOMER_SERVICE,
    Category.LOGISTICS: Department.LOGISTICS,
    Category.AFTER_SALES: Department.AFTER_SALES,
    Category.POLICY: Department.CUSTOMER_SERVICE,
    Category.OTHER: Department.CUSTOMER_SERVICE,
}


def responsible_department(
    category: Category,
    routing: Mapping[Category, Department] = DEFAULT_ROUTING,
    chosen: Department | None = None,
) -> Department:
    """The grader's explicit choice wins; otherwise the category's department."""
    if chosen is not None:
        return chosen
    return routing.get(category, Department.CUSTOMER_SERVICE)
