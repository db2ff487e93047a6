"""Everything the local archive serves: the generated images, event files and catalogs, on disk."""

from __future__ import annotations

from pathlib import Path

from .catalogs import allwise_catalog_products
from .chandra import chandra_products
from .common import Product, cache_dir
from .hst import hst_products
from .neowise import neowise_products
from .ps1 import ps1_products
from .rosat import rosat_products
from .spitzer import seip_products
from .swift import swift_products
from .wise import wise_products

__all__ = ["build_holdings"]


def build_holdings(root: Path | None = None) -> list[Product]:
    """Every product of the local archive, generated into ``root`` if not cached yet."""
    root = root or cache_dir()
    products = [
        *wise_products(),
        *allwise_catalog_products(),
        *neowise_products(),
        *ps1_products(),
        *hst_products(),
        *chandra_products(),
        *swift_products(),
        *rosat_products(),
        *seip_products(),
    ]
    for product in products:
        product.path = root / product.bucket / product.key
        if not product.path.exists():
            product.make(product.path)
    return products
