"""IRSA's TAP service (``https://irsa.ipac.caltech.edu/TAP``): the tables astroquery's ``Irsa`` reads.

* ``caom.observation`` / ``caom.plane``: the image and spectrum collections.  ``Irsa.list_collections``
  sends ``SELECT DISTINCT collection from caom.observation ORDER by collection`` (or joins ``caom.plane``
  on ``obsid`` and tests ``dataproducttype``, for ``servicetype='SIA'``/``'SSA'``), per astroquery's
  ``ipac/irsa/core.py``.  The collections are the ones IRSA documents (see ``_SIA_COLLECTIONS``); one
  observation with one plane stands for each.
* ``allwise_p3as_psd``: the AllWISE Source Catalog, from the local AllWISE Parquet partitions (the
  columns local_archive.holdings.catalogs holds), for ``Irsa.query_region(..., catalog="allwise_p3as_psd")``.
* ``TAP_SCHEMA.tables`` / ``TAP_SCHEMA.columns``: for ``Irsa.list_catalogs`` (which filters on IRSA's own
  ``irsa_dbms=21 AND irsa_pos='y'``) and ``Irsa.list_columns``.

The SQL runs in local_archive.tap's generic service, built on the first request; the catalog's rows
are read only for the first query that names the catalog, not at start-up.
"""

from __future__ import annotations

import math
import threading

from ..holdings.catalogs import COLUMNS
from ..holdings.common import Product, _rng
from ..httpserver import Request, Response
from ..tap import TapService

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


# The point-source catalogs IRSA's TAP serves beside AllWISE (names as SEDs_in_Firefly queries them), with
# the key columns of IRSA's column lists: (name, VOTable type, unit).  Their rows are derived from the
# held AllWISE rows, so one star appears in each with small offsets and consistent photometry.
_F, _D = "float", "double"
_DERIVED = {
    "fp_psc": ("twomass", "2MASS All-Sky Point Source Catalog (PSC)", 470992970, [
        ("ra", _D, "deg"), ("dec", _D, "deg"), ("designation", "char", None),
        *[(f"{b}_{c}", _F, "mag") for b in "jhk" for c in ("m", "cmsig", "msigcom")],
        ("ph_qual", "char", None), ("rd_flg", "char", None), ("cc_flg", "char", None),
        ("glon", _D, "deg"), ("glat", _D, "deg")]),
    "gaia_dr3_source": ("gaia", "Gaia DR3 Source Catalog", 1811709771, [
        ("source_id", "long", None), ("designation", "char", None), ("ra", _D, "deg"), ("ra_error", _F, "mas"),
        ("dec", _D, "deg"), ("dec_error", _F, "mas"), ("ra_dec_corr", _F, None),
        *[(f"phot_{b}_mean_{c}", _F, u) for b in ("g", "bp", "rp")
          for c, u in (("flux_over_error", None), ("mag", "mag"))]]),
    "catwise_2020": ("wise", "The CatWISE2020 Catalog", 1890715640, [
        ("source_name", "char", None), ("ra", _D, "deg"), ("dec", _D, "deg"),
        *[(f"w{b}{c}", _F, "mag") for b in "12" for c in ("mpro", "sigmpro")]]),
    "unwise_2019": ("wise", "unWISE Catalog", 2214734224, [
        ("unwise_objid", "char", None), ("ra", _D, "deg"), ("dec", _D, "deg"),
        *[(f"{c}_{b}", _F, "nanomaggies") for b in "12" for c in ("flux", "dflux", "fluxlbs")]]),
}
# The recorded matches of SEDs_in_Firefly's target (its rendered phot_tbl): AllWISE position -> each
# catalog's own position and photometry.
_PINNED = {(81.9014998, 34.8279561): {
    "fp_psc": {"ra": 81.901542, "dec": 34.827953},
    "gaia_dr3_source": {"ra": 81.90155029515, "dec": 34.82794419355, "phot_g_mean_mag": 18.415817,
                        "phot_bp_mean_mag": 19.70618, "phot_rp_mean_mag": 17.197399,
                        "phot_g_mean_flux_over_error": 207.31, "phot_bp_mean_flux_over_error": 14.536,
                        "phot_rp_mean_flux_over_error": 87.453},
    "catwise_2020": {"ra": 81.9015322, "dec": 34.8279704, "w1mpro": 13.379, "w1sigmpro": 0.015,
                     "w2mpro": 12.661, "w2sigmpro": 0.011},
    "unwise_2019": {"ra": 81.90154795, "dec": 34.82797708, "flux_1": 4388.7, "dflux_1": 14.832,
                    "flux_2": 8759.0, "dflux_2": 45.746},
}}


def _derived(allwise: list[dict]) -> dict[str, list]:
    """Rows of each :data:`_DERIVED` catalog from the AllWISE rows (dicts by column name)."""
    rng = _rng("irsa-tap-derived")
    out: dict[str, list] = {name: [] for name in _DERIVED}
    for i, row in enumerate(allwise):
        pinned = _PINNED.get((row["ra"], row["dec"]), {})
        # Python floats from here on (the same draws, in the same order): arithmetic and round() on
        # numpy scalars cost ten times more, and this runs for every one of the ~100,000 rows.
        offsets = rng.normal(0.0, 0.1 / 3600, (4, 2)).tolist()  # ~0.1" between catalogs' positions
        noise = rng.normal(0.0, 1.0, 4).tolist()
        cos_dec = max(math.cos(math.radians(row["dec"])), 1e-3)
        values: dict[str, dict] = {}
        if row["j_m_2mass"] is not None:  # an AllWISE source with a 2MASS PSC association: a star
            j, k = row["j_m_2mass"], row["k_m_2mass"]
            values["fp_psc"] = {
                "designation": _twomass_name(row["ra"], row["dec"]),
                **{f"{b}_{c}": row[f"{b}_msig_2mass"] if c != "m" else row[f"{b}_m_2mass"]
                   for b in "jhk" for c in ("m", "cmsig", "msigcom")},
                "ph_qual": "AAA", "rd_flg": "222", "cc_flg": "000", "glon": row["glon"], "glat": row["glat"]}
            # Gaia G from the near-infrared colours of a reddened star (G - J ~ 1 + 1.3 (J - Ks)).
            g = j + 1.0 + 1.3 * (j - k)
            gaia = {"phot_g_mean_mag": g, "phot_bp_mean_mag": g + 0.4 + 0.6 * (j - k),
                    "phot_rp_mean_mag": g - 0.5 - 0.4 * (j - k)}
            for band in ("g", "bp", "rp"):
                sigma = 0.0003 + 0.004 * 10 ** (0.4 * (gaia[f"phot_{band}_mean_mag"] - 18))
                gaia[f"phot_{band}_mean_flux_over_error"] = round(1.0857 / sigma, 3)
            if g < 20.7:  # Gaia's limit
                err = round(0.02 * 10 ** (0.2 * (g - 15)), 4)
                values["gaia_dr3_source"] = {"source_id": 3400000000000000000 + i, "ra_error": err,
                                             "dec_error": err, "ra_dec_corr": round(noise[0] * 0.1, 3),
                                             **gaia}
                values["gaia_dr3_source"]["designation"] = f"Gaia DR3 {values['gaia_dr3_source']['source_id']}"
        if row["w1sigmpro"] is not None and row["w2sigmpro"] is not None:
            w = {b: row[f"w{b}mpro"] + 0.6 * row[f"w{b}sigmpro"] * noise[int(b)] for b in "12"}
            values["catwise_2020"] = {"source_name": "J" + row["designation"][1:], **{
                f"w{b}{c}": round(w[b] if c == "mpro" else row[f"w{b}sigmpro"] * 0.6, 3)
                for b in "12" for c in ("mpro", "sigmpro")}}
            # unWISE fluxes are Vega nanomaggies: m = 22.5 - 2.5 log10(flux) (Schlafly et al. 2019, §4).
            flux = {b: 10 ** (-0.4 * (w[b] - 22.5)) for b in "12"}
            values["unwise_2019"] = {"unwise_objid": f"{int(row['ra'] * 10):04d}p{int(abs(row['dec']) * 10):03d}o"
                                     f"{i:07d}", **{f"{c}_{b}": round(v, 3) for b in "12" for c, v in (
                                         ("flux", flux[b]), ("dflux", flux[b] * row[f"w{b}sigmpro"] / 1.0857),
                                         ("fluxlbs", flux[b] * 1.01))}}
        for n, (name, cols) in enumerate(values.items()):
            cols.update({"ra": round(row["ra"] + offsets[n][0] / cos_dec, 8),
                         "dec": round(row["dec"] + offsets[n][1], 8)})
            cols.update(pinned.get(name, {}))
            out[name].append([cols.get(spec[0]) for spec in _DERIVED[name][3]])
    return out


def _twomass_name(ra: float, dec: float) -> str:
    """2MASS PSC designation ``hhmmssss+ddmmsss`` (Explanatory Supplement §I.6)."""
    cs = int(ra / 15 * 360000)
    ds = int(abs(dec) * 36000)
    return (f"{cs // 360000:02d}{cs // 6000 % 60:02d}{cs % 6000:04d}{'-' if dec < 0 else '+'}"
            f"{ds // 36000:02d}{ds // 600 % 60:02d}{ds % 600:03d}")


def _schema(catalog_fields: list) -> tuple[list, list]:
    tables = [
        [1, "caom", "caom.observation", "table", "CAOM observations", None, 0, "n", None],
        [2, "caom", "caom.plane", "table", "CAOM planes", None, 0, "n", None],
        # irsa_dbms=21 and irsa_pos='y': what astroquery's list_catalogs keeps (spatially searchable catalogs).
        [3, "wise", _CATALOG, "table", "AllWISE Source Catalog", None, 21, "y", 747634026],
        *[[4 + i, schema, name, "table", text, None, 21, "y", count]
          for i, (name, (schema, text, count, _)) in enumerate(_DERIVED.items())],
    ]
    columns = [[_CATALOG, name, COLUMNS[name][2], unit, ucd, datatype, 1, int(name in ("ra", "dec")), 0]
               for name, datatype, _, unit, ucd in catalog_fields]
    columns += [[table, name, None, unit, _UCDS.get(name), datatype, 1, int(name in ("ra", "dec")), 0]
                for table, (_, _, _, specs) in _DERIVED.items() for name, datatype, unit in specs]
    return tables, columns


class IrsaTap:
    """``/TAP/sync``, ``/TAP/async``, ``/TAP/capabilities`` and ``/TAP/tables`` of IRSA."""

    def __init__(self, products: list[Product]):
        self._products = products
        self._services: dict[bool, TapService] = {}
        # One lock per service: a query without the catalog's rows need not wait for their ~10 s build.
        self._locks = {False: threading.Lock(), True: threading.Lock()}

    def register(self, server) -> None:
        server.route(HOST, "/TAP/", self.handle)

    def service(self, *, catalog_rows: bool = False) -> TapService:
        """The SQL service, built once; with ``catalog_rows`` the one whose catalog table has its rows."""
        with self._locks[bool(catalog_rows)]:
            if catalog_rows not in self._services:
                observations, planes = _collections()
                catalog_fields, rows = _catalog(self._products, rows=catalog_rows)
                tables, columns = _schema(catalog_fields)
                derived = _derived([dict(zip(COLUMNS, row, strict=True)) for row in rows])
                self._services[catalog_rows] = TapService(HOST, "/TAP", {
                    "caom.observation": (_OBSERVATION, observations),
                    "caom.plane": (_PLANE, planes),
                    "TAP_SCHEMA.tables": (_TABLES, tables),
                    "TAP_SCHEMA.columns": (_COLUMNS, columns),
                    _CATALOG: (catalog_fields, rows),
                    **{name: ([(n, t, "*" if t == "char" else None, u, _UCDS.get(n)) for n, t, u in specs],
                              derived[name]) for name, (_, _, _, specs) in _DERIVED.items()},
                })
            return self._services[catalog_rows]

    def handle(self, request: Request, path: str) -> Response:
        query = " ".join(request.values.getlist("QUERY") + request.values.getlist("query")).lower()
        # Async jobs live in one service across their requests: the one with the catalog's rows.
        wanted = _CATALOG in query or any(name in query for name in _DERIVED) or "/async" in path
        return self.service(catalog_rows=wanted).handle(request, path)
