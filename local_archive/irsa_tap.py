"""IRSA's TAP service (``https://irsa.ipac.caltech.edu/TAP``): the tables astroquery's ``Irsa`` reads.

* ``caom.observation`` / ``caom.plane``: the image and spectrum collections.  ``Irsa.list_collections``
  sends ``SELECT DISTINCT collection from caom.observation ORDER by collection`` (or joins ``caom.plane``
  on ``obsid`` and tests ``dataproducttype``, for ``servicetype='SIA'``/``'SSA'``), per astroquery's
  ``ipac/irsa/core.py``.  The collections are the ones IRSA documents (see ``_SIA_COLLECTIONS``); one
  observation with one plane stands for each.
* ``allwise_p3as_psd``: the AllWISE Source Catalog, from the local AllWISE Parquet partitions (the
  columns local_archive.catalogs holds), for ``Irsa.query_region(..., catalog="allwise_p3as_psd")``.
* ``TAP_SCHEMA.tables`` / ``TAP_SCHEMA.columns``: for ``Irsa.list_catalogs`` (which filters on IRSA's own
  ``irsa_dbms=21 AND irsa_pos='y'``) and ``Irsa.list_columns``.

The SQL runs in local_archive.tap's generic service, built on the first request; the catalog's rows
are read only for the first query that names the catalog, not at start-up.
"""

from __future__ import annotations

import threading

from .catalogs import COLUMNS
from .data import Product
from .httpserver import Request, Response
from .tap import TapService

__all__ = ["IrsaTap", "SIA_COLLECTIONS", "SSA_COLLECTIONS"]

HOST = "irsa.ipac.caltech.edu"
# Image collections IRSA documents: astroquery's IRSA documentation (docs/ipac/irsa/irsa.rst, the
# printed list_collections(servicetype='SIA') tables, which show their first and last entries and the
# spitzer_* ones) and IRSA's SIA v2 page (service_formats.md §11).  Production has ~110; these are the
# documented ones.
SIA_COLLECTIONS = (
    "akari_allskymaps", "blast", "bolocam_gps", "bolocam_lh", "bolocam_planck_sz",
    "neowiser", "spitzer_abell1763", "spitzer_clash", "spitzer_cosmic_dawn", "spitzer_cygx",
    "spitzer_deepdrill", "spitzer_seip", "spitzer_sha", "spitzer_spuds", "spitzer_srelics", "spitzer_ssdf",
    "spitzer_swire", "spitzer_taurus", "twomass_allsky", "twomass_calibration", "twomass_full",
    "twomass_sixdeg", "twomass_sixxcat", "twomass_sixxfull", "wise_2bandcryo", "wise_3bandcryo",
    "wise_allsky", "wise_allwise", "wise_fdepa", "wise_prelim", "wise_prelim_2bandcryo", "wise_unwise",
    "wise_z0mgs",
)
# Spectrum collections: astroquery's documentation prints the whole list_collections(servicetype='SSA').
SSA_COLLECTIONS = (
    "champ", "goals", "herschel_gotcplus", "herschel_hexos", "herschel_hifistars", "herschel_hop",
    "herschel_hops", "herschel_magcloudscplus", "herschel_ppdisks", "herschel_prismas", "herschel_sag4",
    "herschel_shpdp", "herschel_v838mon", "herschel_vngs", "irtf_mearth", "irts", "iso_sws", "sofia_exes",
    "sofia_fifils", "sofia_flitecam", "sofia_forcast", "sofia_great", "spitzer_5muses", "spitzer_c2d",
    "spitzer_disks_sh_spectra", "spitzer_feps", "spitzer_irs_std", "spitzer_irsenh", "spitzer_m83m33",
    "spitzer_s5", "spitzer_sage", "spitzer_sass", "spitzer_sha", "spitzer_sings", "spitzer_ssgss",
)

_C = ("char", "*")
_OBSERVATION = [("obsid", "long", None, None, "meta.id"), ("collection", *_C, None, "meta.id"),
                ("observationid", *_C, None, "meta.id")]
_PLANE = [("planeid", "long", None, None, "meta.id"), ("obsid", "long", None, None, "meta.id"),
          ("dataproducttype", *_C, None, "meta.code.class"), ("calibrationlevel", "int", None, None, "meta.code")]
# TAP 1.1 §4.3 columns plus the IRSA ones list_catalogs filters on (astroquery's documentation prints
# table_index, schema_name, table_name, description, ..., irsa_nrows, irsa_odbc_datasource).
_TABLES = [("table_index", "int", None, None, None), ("schema_name", *_C, None, None),
           ("table_name", *_C, None, None), ("table_type", *_C, None, None), ("description", *_C, None, None),
           ("utype", *_C, None, None), ("irsa_dbms", "int", None, None, None), ("irsa_pos", *_C, None, None),
           ("irsa_nrows", "long", None, None, None)]
_COLUMNS = [("table_name", *_C, None, None), ("column_name", *_C, None, None), ("description", *_C, None, None),
            ("unit", *_C, None, None), ("ucd", *_C, None, None), ("datatype", *_C, None, None),
            ("principal", "int", None, None, None), ("indexed", "int", None, None, None),
            ("std", "int", None, None, None)]
_CATALOG = "allwise_p3as_psd"
_VOTABLE_TYPES = {"string": "char", "float64": "double", "float32": "float", "int64": "long", "int32": "int"}
_UCDS = {"ra": "pos.eq.ra;meta.main", "dec": "pos.eq.dec;meta.main", "designation": "meta.id;meta.main"}


def _collections() -> tuple[list, list]:
    observations, planes = [], []
    products = [(name, "image") for name in SIA_COLLECTIONS] + [(name, "spectrum") for name in SSA_COLLECTIONS]
    for obsid, (collection, kind) in enumerate(products, start=1):
        observations.append([obsid, collection, f"{collection}-{obsid}"])
        planes.append([obsid, obsid, kind, 3])
    return observations, planes


def _catalog(products: list[Product], *, rows: bool) -> tuple[list, list]:
    """``allwise_p3as_psd``'s fields and (when ``rows``) rows, read from the held Parquet partitions."""
    import pyarrow.parquet as pq

    fields = [(name, _VOTABLE_TYPES[spec[0]], "*" if spec[0] == "string" else None, spec[1] or None, _UCDS.get(name))
              for name, spec in COLUMNS.items()]
    values: list = []
    for product in products if rows else ():
        if product.meta.get("catalog") == "allwise" and product.key.endswith(".parquet"):
            table = pq.read_table(product.path, columns=list(COLUMNS))
            values += zip(*(table.column(name).to_pylist() for name in COLUMNS), strict=True)
    return fields, values


def _schema(catalog_fields: list) -> tuple[list, list]:
    tables = [
        [1, "caom", "caom.observation", "table", "CAOM observations", None, 0, "n", None],
        [2, "caom", "caom.plane", "table", "CAOM planes", None, 0, "n", None],
        # irsa_dbms=21 and irsa_pos='y': what astroquery's list_catalogs keeps (spatially searchable catalogs).
        [3, "wise", _CATALOG, "table", "AllWISE Source Catalog", None, 21, "y", 747634026],
    ]
    columns = [[_CATALOG, name, COLUMNS[name][2], unit, ucd, datatype, 1, int(name in ("ra", "dec")), 0]
               for name, datatype, _, unit, ucd in catalog_fields]
    return tables, columns


class IrsaTap:
    """``/TAP/sync``, ``/TAP/async``, ``/TAP/capabilities`` and ``/TAP/tables`` of IRSA."""

    def __init__(self, products: list[Product]):
        self._products = products
        self._services: dict[bool, TapService] = {}
        self._lock = threading.Lock()

    def register(self, server) -> None:
        server.route(HOST, "/TAP/", self.handle)

    def service(self, *, catalog_rows: bool = False) -> TapService:
        """The SQL service, built once; with ``catalog_rows`` the one whose catalog table has its rows."""
        with self._lock:
            if catalog_rows not in self._services:
                observations, planes = _collections()
                catalog_fields, rows = _catalog(self._products, rows=catalog_rows)
                tables, columns = _schema(catalog_fields)
                self._services[catalog_rows] = TapService(HOST, "/TAP", {
                    "caom.observation": (_OBSERVATION, observations),
                    "caom.plane": (_PLANE, planes),
                    "TAP_SCHEMA.tables": (_TABLES, tables),
                    "TAP_SCHEMA.columns": (_COLUMNS, columns),
                    _CATALOG: (catalog_fields, rows),
                })
            return self._services[catalog_rows]

    def handle(self, request: Request, path: str) -> Response:
        query = " ".join(request.values.getlist("QUERY") + request.values.getlist("query")).lower()
        # Async jobs live in one service across their requests: the one with the catalog's rows.
        return self.service(catalog_rows=_CATALOG in query or "/async" in path).handle(request, path)
