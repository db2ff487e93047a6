"""A stand-in for the NASA archives on 127.0.0.1, for tests, CI and offline workshops.

Test and demo infrastructure only: the tutorials and the rest of ``helpers``
never import it.  It needs the optional dependencies ``helpers[local]``.
Start it by hand with ``python -m helpers.local_archive serve``.
"""

from .archive import LocalArchive
from .s3server import ObjectStats, S3Server

__all__ = ["LocalArchive", "S3Server", "ObjectStats"]
