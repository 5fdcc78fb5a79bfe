"""What a reader sees of a Markdown document the product writes: escapes undone."""

from __future__ import annotations

import html
import re


def visible(markdown: str) -> str:
    """Backslash escapes and HTML entities resolved, as a renderer shows them."""
    return html.unescape(re.sub(r"\\([\\`*_\[\]()#!|~])", r"\1", markdown))
