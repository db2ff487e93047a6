"""Everything the local archive serves: the generated images, event files and catalogs, on disk."""

from __future__ import annotations

from pathlib import Path

from .catalogs import allwise_catalog_products
from .data import Product, cache_dir, image_products

__all__ = ["build_holdings"]


def build_holdings(root: Path | None = None) -> list[Product]:
    """Every product of the local archive, generated into ``root`` if not cached yet."""
    root = root or cache_dir()
    products = image_products() + allwise_catalog_products()
    for product in products:
        product.path = root / product.bucket / product.key
        if not product.path.exists():
            product.make(product.path)
    return products
