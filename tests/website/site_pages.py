"""The pages of the web site, read from the landing page's toctree (docs/index.md)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def toctree(index: Path) -> list[str]:
    """The pages listed in a MyST ``{toctree}`` block, in the order of the navigation."""
    block = re.search(r"```\{toctree\}\n(.*?)```", index.read_text(), flags=re.DOTALL).group(1)
    return [line.strip() for line in block.splitlines() if line.strip() and not line.startswith(":")]


TUTORIALS = toctree(ROOT / "docs" / "index.md")
