"""The archives' services as the local archive answers them, one module per real service.

Each module registers its routes (host and path prefix) on the loopback HTTP server and answers
from the holdings (:mod:`local_archive.holdings`); each production fact it serves cites its source.
"""
