"""HEASARC's Xamin VO services: Chandra SIA (``chanmaster``), DataLink and the TAP service.

The SIA answers in the production form of late 2025 (service_formats.md §3.2(c)-(d)): one
row per image product, its ``access_url`` a DataLink URL
``https://heasarc.gsfc.nasa.gov/xamin/vo/datalink?datalink_key&id=<product id>`` with
``access_format`` ``application/x-votable+xml;content=datalink``, no ``datalink`` or
``cloud_access`` column, and a DataLink service descriptor whose ``ID`` input is the
``obs_publisher_did`` column.  The DataLink answer for a product has one ``#this`` row with the
HTTPS URL and HEASARC's ``cloud_access`` JSON (§3.2(b), §3.3).  An observation's DataLink
(``Heasarc.locate_data``) lists its data directory (§3.3).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence

from .chandra import CHANDRA_OBS, IMAGE_KINDS, ChandraObs, image_geometry
from .data import Product
from .httpserver import Request, Response
from .swift import SWIFT_OBS, UVOT_FILTERS
from .tap import TapService
from .votables import DATALINK_MIME, cloud_access_json, datalink_votable, error_votable, table_votable, to_bytes

__all__ = ["HeasarcChandra", "SIA_URL", "DATALINK_URL", "datalink_url", "heasarc_tap", "product_id"]

HOST = "heasarc.gsfc.nasa.gov"
SIA_URL = f"https://{HOST}/xamin/vo/sia?table=chanmaster&"
# The descriptor's accessURL, as the 2023 xamin SIA declared it (§3.2(a)); the per-product access_url
# uses the production form with the bare ``datalink_key`` token (§3.2(c)).  Both reach the same service.
DATALINK_URL = f"https://{HOST}/xamin/vo/datalink/chanmaster"
FTP = f"https://{HOST}/FTP/"

# (name, datatype, arraysize, unit, ucd): the 2023 xamin SIA columns (§3.2(a)) less ``datalink`` and
# ``cloud_access``, which production dropped in 2025 (§3.2(c)), plus ObsCore's ``obs_title`` that the
# 2025 draft filters on (§3.2(d)).  SIA 1.0 UCDs sit on the SIA_* columns only, so pyvo's SIARecord
# properties (title, acref, format, pos) resolve to exactly one column each.
SIA_FIELDS = (
    ("obsid", "int", None, None, "meta.id"),
    ("status", "char", "*", None, None),
    ("name", "char", "*", None, "meta.id;src"),
    ("ra", "double", None, "deg", "pos.eq.ra"),
    ("dec", "double", None, "deg", "pos.eq.dec"),
    ("time", "double", None, "d", "time.start"),
    ("detector", "char", "*", None, "meta.id;instr.det"),
    ("grating", "char", "*", None, None),
    ("exposure", "double", None, "s", "time.duration;obs.exposure"),
    ("type", "char", "*", None, None),
    ("pi", "char", "*", None, None),
    ("public_date", "int", None, "d", None),
    ("t_min", "double", None, "d", "time.start;obs.exposure"),
    ("t_resolution", "double", None, "s", "time.resolution"),
    ("t_max", "double", None, "d", "time.end;obs.exposure"),
    ("t_exptime", "double", None, "s", "time.duration;obs.exposure"),
    ("em_res_power", "double", None, None, "spect.resolution"),
    ("s_region", "char", "*", "deg", "pos.outline;obs.field"),
    ("s_ra", "double", None, "deg", "pos.eq.ra"),
    ("s_dec", "double", None, "deg", "pos.eq.dec"),
    ("s_resolution", "double", None, "arcsec", "pos.angResolution"),
    ("access_estsize", "long", None, "kbyte", "phys.size;meta.file"),
    ("s_fov", "double", None, "deg", "phys.angSize;instr.fov"),
    ("o_ucd", "char", "*", None, "meta.ucd"),
    ("access_url", "char", "*", None, "meta.ref.url"),
    ("obs_publisher_did", "char", "*", None, "meta.ref.ivoid"),
    ("obs_id", "char", "*", None, "meta.id"),
    ("obs_title", "char", "*", None, "meta.title;obs"),
    ("obs_collection", "char", "*", None, "meta.id"),
    ("target_name", "char", "*", None, "meta.id;src"),
    ("instrument_name", "char", "*", None, "meta.id;instr"),
    ("facility_name", "char", "*", None, "meta.id;instr.tel"),
    ("pol_states", "char", "*", None, "meta.code;phys.polarization"),
    ("calib_level", "int", None, None, "meta.code;obs.calib"),
    ("access_format", "char", "*", None, "meta.code.mime"),
    ("dataproduct_type", "char", "*", None, "meta.code.class"),
    ("em_min", "double", None, "m", "em.wl;stat.min"),
    ("em_max", "double", None, "m", "em.wl;stat.max"),
    ("SIA_title", "char", "*", None, "VOX:Image_Title"),
    ("SIA_scale", "double", "2", "deg/pix", "VOX:Image_Scale"),
    ("SIA_naxis", "int", "2", None, "VOX:Image_Naxis"),
    ("SIA_naxes", "int", None, None, "VOX:Image_Naxes"),
    ("SIA_format", "char", "*", None, "VOX:Image_Format"),
    ("SIA_reference", "char", "*", None, "VOX:Image_AccessReference"),
    ("SIA_ra", "double", None, "deg", "POS_EQ_RA_MAIN"),
    ("SIA_dec", "double", None, "deg", "POS_EQ_DEC_MAIN"),
    ("SIA_instrument", "char", "*", None, "INST_ID"),
)
_KEV_TO_M = 1.23984198e-9  # hc / 1 keV, in metres
_BAND_KEV = {"ACIS": (0.1, 10.0), "HRC": (0.06, 10.0)}  # Chandra's energy range per instrument


def product_id(product: Product) -> str:
    """The DataLink ID of one Chandra image file.

    The 2025 production form is ``ivo://nasa.heasarc/chanmaster?<obsid>/<product key>`` (§3.2(c):
    ``chanmaster?7416/chandra.obs.pha``); the image keys are those of Xamin's product list, as the
    2023 DataLink semantics named them (``products.jsp#chandra.obs.img.cntr.fits``, §3.3).
    """
    kind = product.meta["kind"].split("_")[0]  # cntr / full
    extension = "fits" if product.meta["format"] == "image/fits" else "jpg"
    return f"ivo://nasa.heasarc/chanmaster?{product.meta['obsid']}/chandra.obs.img.{kind}.{extension}"


def datalink_url(link_id: str) -> str:
    """The DataLink URL of an ID, in production's spelling (§3.2(c), bare ``datalink_key`` token)."""
    return f"https://{HOST}/xamin/vo/datalink?datalink_key&id={link_id}"


def ftp_url(key: str) -> str:
    """HEASARC's own spelling of a file's URL: ``byobsid/<d>//<obsid>/`` and ``obs/<yyyy_mm>//<obsid>/`` (§3.3)."""
    key = re.sub(r"^(chandra/data/byobsid/\d)/", r"\1//", key)
    key = re.sub(r"^(swift/data/obs/\d{4}_\d{2})/", r"\1//", key)
    return FTP + key


def _overlaps(center: tuple[float, float], half: float, ra: float, dec: float, width: float, height: float) -> bool:
    """Does a square image (centre, half-width in deg) overlap a search box (ra, dec, full width, height)?"""
    d_ra = abs((ra - center[0] + 180) % 360 - 180) * max(math.cos(math.radians(dec)), 1e-6)
    return d_ra <= half + width / 2 and abs(dec - center[1]) <= half + height / 2


def _region(ra: float, dec: float, half: float) -> str:
    cos = max(math.cos(math.radians(dec)), 1e-6)
    corners = [(ra + sx * half / cos, dec + sy * half) for sx, sy in ((1, -1), (-1, -1), (-1, 1), (1, 1))]
    return "POLYGON ICRS " + " ".join(f"{a:.6f} {d:.6f}" for a, d in corners)


class HeasarcChandra:
    """``xamin/vo/sia?table=chanmaster`` and ``xamin/vo/datalink`` (products and observations)."""

    def __init__(self, products: list[Product]):
        heasarc = [p for p in products if p.archive == "heasarc" and "observation" in p.meta]
        self.images = [p for p in heasarc if p.meta.get("kind") in IMAGE_KINDS]
        self.by_id = {product_id(p): p for p in self.images}
        self.by_directory: dict[str, list[Product]] = {}
        for product in heasarc:
            self.by_directory.setdefault(product.meta["observation"].directory, []).append(product)

    def register(self, server) -> None:
        server.route(HOST, "/xamin/vo/sia", self.sia)
        server.route(HOST, "/xamin/vo/datalink", self.datalink)

    # --- SIA ----------------------------------------------------------------------------

    def sia(self, request: Request, path: str) -> Response:
        params = {k.upper(): v for k, v in request.values.items()}
        table = params.get("TABLE", "")
        if table.lower() != "chanmaster":
            # Wording not seen at production [L]; a DAL error document as SIA 1.0 prescribes.
            return _xml(error_votable(f"No SIA service for table {table!r}" if table else "No table specified"))
        wanted = params.get("FORMAT", "ALL").lower()
        if wanted == "metadata":  # SIA 1.0: an empty table that describes the columns
            return self._sia_answer([])
        try:
            ra, dec = (float(v) for v in params["POS"].split(","))
            size = [float(v) for v in params.get("SIZE", "0").split(",")]
            if not (0 <= ra <= 360 and -90 <= dec <= 90) or min(size) < 0:
                raise ValueError(params["POS"])
        except (KeyError, ValueError) as exc:
            return _xml(error_votable(f"Invalid or missing POS/SIZE: {exc}"))
        formats = {"all": {"image/fits", "image/jpeg"}, "graphic": {"image/jpeg"},
                   "graphic-all": {"image/jpeg"}, "graphic-or-fits": {"image/fits", "image/jpeg"}}
        allowed = formats.get(wanted, set(wanted.split(",")))
        rows = []
        for product in self.images:
            obs: ChandraObs = product.meta["observation"]
            naxis, scale = image_geometry(obs, product.meta["kind"])
            half = naxis * scale / 3600 / 2
            if product.meta["format"] in allowed and _overlaps((obs.ra, obs.dec), half, ra, dec, size[0], size[-1]):
                rows.append(self._sia_row(product, obs, naxis, scale, half))
        return self._sia_answer(rows)

    def _sia_answer(self, rows: list[list]) -> Response:
        votable = table_votable(SIA_FIELDS, rows, datalink_url=DATALINK_URL, datalink_ref="obs_publisher_did",
                                infos={"QUERY_STATUS": "OK"})
        return _xml(to_bytes(votable))

    @staticmethod
    def _sia_row(product: Product, obs: ChandraObs, naxis: int, scale: float, half: float) -> list:
        link_id = product_id(product)
        url = datalink_url(link_id)
        instrument = obs.detector.split("-")[0]
        lo, hi = _BAND_KEV[instrument]
        collection = f"CHANDRA {obs.detector}"  # obs_collection / SSA_instrument spelling (§3.2(a), (c))
        values = {
            "obsid": obs.obsid, "status": "archived", "name": obs.name, "ra": obs.ra, "dec": obs.dec,
            "time": round(obs.mjd, 6), "detector": obs.detector, "grating": obs.grating, "exposure": obs.exposure,
            "type": obs.obs_type, "pi": obs.pi, "public_date": int(obs.mjd) + 365,
            "t_min": round(obs.mjd, 6), "t_resolution": None, "t_max": round(obs.mjd + obs.exposure / 86400, 6),
            "t_exptime": obs.exposure, "em_res_power": None, "s_region": _region(obs.ra, obs.dec, half),
            "s_ra": obs.ra, "s_dec": obs.dec, "s_resolution": 0.5 if instrument == "ACIS" else 0.4,
            "access_estsize": (product.path.stat().st_size + 1023) // 1024, "s_fov": 2 * half, "o_ucd": "phot.count",
            "access_url": url, "obs_publisher_did": link_id, "obs_id": str(obs.obsid),
            "obs_title": product.meta["title"], "obs_collection": collection, "target_name": obs.name,
            "instrument_name": obs.detector, "facility_name": "CHANDRA", "pol_states": None, "calib_level": 2,
            "access_format": DATALINK_MIME, "dataproduct_type": "Image",
            "em_min": _KEV_TO_M / hi, "em_max": _KEV_TO_M / lo,
            "SIA_title": product.key.rsplit("/", 1)[1].removesuffix(".gz"),  # the file name (§3.2(a))
            "SIA_scale": [-scale / 3600, scale / 3600], "SIA_naxis": [naxis, naxis], "SIA_naxes": 2,
            "SIA_format": DATALINK_MIME, "SIA_reference": url, "SIA_ra": obs.ra, "SIA_dec": obs.dec,
            "SIA_instrument": collection,
        }
        return [values[spec[0]] for spec in SIA_FIELDS]

    # --- DataLink -----------------------------------------------------------------------

    def datalink(self, request: Request, path: str) -> Response:
        ids = request.values.getlist("ID") + request.values.getlist("id")
        if not ids:
            return _xml(error_votable("UsageFault: missing ID parameter"))  # DataLink 1.0 §3.4 fault names
        table = path.removeprefix("/xamin/vo/datalink").strip("/")
        sizes = request.values.get("sizefiles", "true").lower() != "false"
        rows: list[dict] = []
        for link_id in dict.fromkeys(ids):
            rows.extend(self._links(link_id, table, sizes))
        return _xml(to_bytes(datalink_votable(rows)))

    def _links(self, link_id: str, table: str, sizes: bool) -> list[dict]:
        match = re.fullmatch(r"ivo://nasa\.heasarc/(\w+)\?([^/]+)(?:/(.+))?", link_id)
        if link_id.strip().isdigit() and table:  # a bare __row, as astroquery.heasarc sends it
            return self._observation_links(table, int(link_id), sizes)
        if match and match.group(3) is None and match.group(2).isdigit():
            return self._observation_links(match.group(1), int(match.group(2)), sizes)
        if link_id in self.by_id:
            return self._product_links(link_id, self.by_id[link_id])
        if match and match.group(3) and match.group(3).endswith(".obs"):
            return self._observation_files(link_id, match.group(1), match.group(2))
        return [{"ID": link_id, "error_message": f"NotFoundFault: {link_id}"}]

    @staticmethod
    def _product_links(link_id: str, product: Product) -> list[dict]:
        """``#this``: the file over HTTPS (HEASARC's ``//`` spelling) with its place in the bucket."""
        content_type = "application/fits" if product.meta["format"] == "image/fits" else "image/jpeg"
        return [{"ID": link_id, "access_url": ftp_url(product.key), "description": product.meta["title"],
                 "semantics": "#this", "content_type": content_type,
                 "content_length": product.path.stat().st_size,
                 "cloud_access": cloud_access_json(product.bucket, product.key, product.region, style="heasarc")}]

    def _observation_files(self, link_id: str, table: str, obsid: str) -> list[dict]:
        """Every file of an observation (the nested DataLink an observation's links point to)."""
        directory = directory_for_obsid(table, obsid)
        files = self.by_directory.get(directory or "", [])
        if not files:
            return [{"ID": link_id, "error_message": f"NotFoundFault: no data products for {link_id}"}]
        return [{"ID": link_id, "access_url": ftp_url(p.key), "description": p.key.rsplit("/", 1)[1],
                 "semantics": "#auxiliary", "content_type": p.content_type,
                 "content_length": p.path.stat().st_size,
                 "cloud_access": cloud_access_json(p.bucket, p.key, p.region, style="heasarc")} for p in files]

    def _observation_links(self, table: str, row: int, sizes: bool) -> list[dict]:
        """An observation's links: bibliography, product list and data directory (§3.3, numaster 2026)."""
        link_id = f"ivo://nasa.heasarc/{table}?{row}"
        found = observation_for_row(table, row)
        if found is None:
            return [{"ID": link_id, "error_message": f"NotFoundFault: no row {row} in {table}"}]
        obsid, directory, mission = found
        files = self.by_directory.get(directory, [])
        size = sum(p.path.stat().st_size for p in files) if sizes and files else None
        return [
            {"ID": link_id, "access_url": f"https://{HOST}/xamin/bib?table={table}&id={obsid}",
             "description": "Bibliographic references", "semantics": "#documentation", "content_type": "text/html"},
            {"ID": link_id, "access_url": datalink_url(f"ivo://nasa.heasarc/{table}?{obsid}/{mission}.obs"),
             "description": "Data products", "semantics": "#auxiliary", "content_type": DATALINK_MIME},
            # content_type "directory": what astroquery 0.4.11 selects on (== 'directory'), §3.3 [H].
            {"ID": link_id, "access_url": ftp_url(directory), "description": "Observation data directory",
             "semantics": "#this", "content_type": "directory", "content_length": size},
        ]


def _xml(body: bytes) -> Response:
    return Response(body, content_type="text/xml")


# --- TAP: https://heasarc.gsfc.nasa.gov/xamin/vo/tap ------------------------------------------
#
# Tables live in schema ``public`` (queries name ``public.numaster``: astroquery issue #3340) and
# VOSI lists them by bare name with a description (astroquery's docs print ``chanmaster  Chandra
# Observations``); ``list_catalogs`` skips names containing 'TAP' (TAP_SCHEMA).  ``metainfo`` answers
# the query astroquery.heasarc sends for default columns and radii but is not in the listing.

def _col(name: str, datatype: str, description: str, unit: str | None = None, ucd: str | None = None) -> tuple:
    return (name, datatype, "*" if datatype == "char" else None, unit, ucd, description)


_ROW = _col("__row", "int", "Internal row number", ucd="meta.id")
_POS = (_col("ra", "double", "Right Ascension", "deg", "pos.eq.ra;meta.main"),
        _col("dec", "double", "Declination", "deg", "pos.eq.dec;meta.main"))


class _Master:
    """One HEASARC master table: columns, rows, defaults and where its observations' data live."""

    def __init__(self, description: str, fields: Sequence[tuple], rows: Sequence[dict], defaults: Sequence[str],
                 radius: float, mission: str, layout: Callable[[dict, str], str]):
        self.description, self.fields, self.rows = description, (_ROW, *fields), list(rows)
        self.defaults, self.radius, self.mission, self.layout = list(defaults), radius, mission, layout

    def directory(self, row: dict) -> str:
        return self.layout(row, str(row["obsid"]))


def _mjd(iso: str) -> float:
    from astropy.time import Time

    return round(float(Time(iso, scale="utc").mjd), 6)


def _chanmaster() -> _Master:
    fields = (_col("name", "char", "Target Designation", ucd="meta.id;src"), _col("obsid", "int", "Observation ID"),
              _col("status", "char", "Status of Observation"), *_POS,
              _col("time", "double", "Start Time of Observation", "mjd", "time.start"),
              _col("detector", "char", "Detector Used"), _col("grating", "char", "Grating Used"),
              _col("exposure", "double", "Exposure Time", "s", "time.duration"),
              _col("type", "char", "Observation Type"), _col("pi_lname", "char", "Principal Investigator Last Name"),
              _col("public_date", "int", "Public Date", "mjd"))
    rows = [{"__row": o.row, "name": o.name, "obsid": o.obsid, "status": "archived", "ra": o.ra, "dec": o.dec,
             "time": round(o.mjd, 6), "detector": o.detector, "grating": o.grating, "exposure": o.exposure,
             "type": o.obs_type, "pi_lname": o.pi, "public_date": int(o.mjd) + 365} for o in CHANDRA_OBS]
    # Real rows near (120, 38) as astroquery's HEASARC documentation prints them (name, obsid, ra, dec);
    # their other columns are illustrative.  (docs/heasarc/heasarc.rst, astropy/astroquery)
    for row, (name, obsid, ra, dec) in enumerate([
            ("ABELL 611", 3194, 120.23708, 36.05722), ("B2 0755+37", 858, 119.61750, 37.78667),
            ("WISEA J080357.73+390823.1", 28213, 120.99060, 39.13980),
            ("1RXS J075526.1+391111", 13008, 118.85875, 39.18639),
            ("SDSS J080040.77+391700.5", 18110, 120.17000, 39.28344)], start=3300):
        rows.append({"__row": row, "name": name, "obsid": obsid, "status": "archived", "ra": ra, "dec": dec,
                     "time": 52000.0 + obsid / 10, "detector": "ACIS-I" if obsid % 2 else "ACIS-S", "grating": "NONE",
                     "exposure": 20000.0 + obsid % 7000, "type": "GO", "pi_lname": "", "public_date": 53000})
    return _Master("Chandra Observations", fields, rows,
                   ["name", "obsid", "ra", "dec", "time", "detector", "grating", "exposure", "type", "pi_lname",
                    "public_date"], 10.0, "chandra", lambda row, o: f"chandra/data/byobsid/{o[-1]}/{o}/")


def _swiftmastr() -> _Master:
    expo = [_col(f"uvot_expo_{f}", "double", f"UVOT {f.upper()} Filter Exposure", "s") for f in UVOT_FILTERS]
    fields = (_col("name", "char", "Target Designation", ucd="meta.id;src"), _col("obsid", "char", "Observation ID"),
              *_POS, _col("roll_angle", "double", "Roll Angle", "deg"),
              _col("start_time", "double", "Start Time of Observation", "mjd", "time.start"),
              _col("stop_time", "double", "Stop Time of Observation", "mjd", "time.end"),
              _col("target_id", "int", "Target ID"), _col("segment", "int", "Segment Number"),
              _col("xrt_exposure", "double", "Total XRT Exposure", "s"),
              _col("uvot_exposure", "double", "Total UVOT Exposure", "s"), *expo)

    def row(obs_row: int, name: str, obsid: str, ra: float, dec: float, roll: float, start: str, xrt: float,
            uvot: dict[str, float]) -> dict:
        values = {"__row": obs_row, "name": name, "obsid": obsid, "ra": ra, "dec": dec, "roll_angle": roll,
                  "start_time": _mjd(start), "target_id": int(obsid[:8]), "segment": int(obsid[8:]),
                  "xrt_exposure": xrt, "uvot_exposure": round(sum(uvot.values()), 3), "start": start}
        values["stop_time"] = round(values["start_time"] + max(xrt, values["uvot_exposure"]) / 86400 + 0.02, 6)
        values.update({f"uvot_expo_{f}": uvot.get(f, 0.0) for f in UVOT_FILTERS})
        return values

    rows = [row(o.row, o.name, o.obsid, o.ra, o.dec, o.roll, o.start, o.xrt_exposure, dict(o.uvot))
            for o in SWIFT_OBS]
    # DDO 68 rows as recorded by UVOT-data-analysis/uvot-download's README (obsid, start_time, w2/m2/w1
    # exposures); position of DDO 68 and the other columns illustrative.
    for n, (obsid, start, w2, m2, w1) in enumerate([
            ("00084312006", "2018-01-23T16:47:57", 108.763, 108.785, 116.243),
            ("00084312010", "2018-10-07T15:48:57", 240.771, 240.782, 241.775),
            ("00084312005", "2016-09-30T17:23:58", 920.311, 920.322, 639.413)]):
        rows.append(row(900311 + n, "DDO68", obsid, 149.1958, 28.8258, 100.0 + n, start, 1000.0,
                        {"w2": w2, "m2": m2, "w1": w1}))
    return _Master("Swift Master Catalog", fields, rows,
                   ["name", "obsid", "ra", "dec", "start_time", "processing_date", "xrt_exposure", "uvot_exposure"],
                   12.0, "swift", lambda row, o: f"swift/data/obs/{row['start'][:4]}_{row['start'][5:7]}/{o}/")


def _numaster() -> _Master:
    # Default columns: astroquery's remote tests (DEFAULT_COLS); rows illustrative.
    fields = (_col("name", "char", "Target Designation", ucd="meta.id;src"), *_POS,
              _col("time", "double", "Start Time", "mjd"), _col("obsid", "char", "Observation ID"),
              _col("status", "char", "Status"), _col("exposure_a", "double", "FPMA Exposure", "s"),
              _col("observation_mode", "char", "Observation Mode"), _col("obs_type", "char", "Observation Type"),
              _col("processing_date", "double", "Processing Date", "mjd"),
              _col("public_date", "double", "Public Date", "mjd"), _col("issue_flag", "int", "Issue Flag"))
    rows = [{"__row": 1107 + i, "name": name, "ra": ra, "dec": dec, "time": t, "obsid": obsid, "status": "archived",
             "exposure_a": exp, "observation_mode": "SCIENCE", "obs_type": kind, "processing_date": t + 30,
             "public_date": t + 60, "issue_flag": 0}
            for i, (name, ra, dec, t, obsid, exp, kind) in enumerate([
                ("Crab", 83.6332, 22.0145, 56185.2, "10013022002", 2543.0, "CAL"),
                ("Crab", 83.6287, 22.0101, 56556.4, "10002001006", 11841.0, "CAL"),
                ("NGC_4151", 182.6358, 39.4057, 56297.6, "60001111002", 21851.0, "GO")])]
    return _Master("NuSTAR Master Catalog", fields, rows,
                   ["name", "ra", "dec", "time", "obsid", "status", "exposure_a", "observation_mode", "obs_type",
                    "processing_date", "public_date", "issue_flag"], 8.0, "nustar",
                   # FTP/nustar/data/obs/00/6//60061044002/ (§3.3)
                   lambda row, o: f"nustar/data/obs/{o[1:3]}/{o[0]}/{o}/")


def _nicermastr() -> _Master:
    fields = (_col("name", "char", "Target Designation", ucd="meta.id;src"), *_POS,
              _col("time", "double", "Start Time", "mjd"), _col("obsid", "char", "Observation ID"),
              _col("exposure", "double", "Exposure", "s"), _col("processing_status", "char", "Processing Status"),
              _col("processing_date", "double", "Processing Date", "mjd"),
              _col("public_date", "double", "Public Date", "mjd"), _col("obs_type", "char", "Observation Type"))
    # NGC 3516 rows 52637/52641 -> nicer/data/obs/2018_08//1100120101/ and 1100120102: astroquery docs; the
    # rest illustrative.
    data = [(52637, "NGC_3516", 166.6979, 72.5686, "2018-08-21T05:12:00", "1100120101", 3120.0),
            (52641, "NGC_3516", 166.6979, 72.5686, "2018-08-22T02:40:00", "1100120102", 1330.0),
            (1203, "PSR_B0531+21", 83.6332, 22.0145, "2017-08-04T11:09:00", "1013010101", 5560.0)]
    rows = [{"__row": r, "name": n, "ra": ra, "dec": dec, "time": _mjd(s), "start": s, "obsid": o, "exposure": e,
             "processing_status": "VALIDATED", "processing_date": _mjd(s) + 10, "public_date": _mjd(s) + 14,
             "obs_type": "GO"} for r, n, ra, dec, s, o, e in data]
    return _Master("NICER Master Catalog", fields, rows,
                   ["name", "ra", "dec", "time", "obsid", "exposure", "processing_status", "processing_date",
                    "public_date", "obs_type"], 5.0, "nicer",
                   lambda row, o: f"nicer/data/obs/{row['start'][:4]}_{row['start'][5:7]}/{o}/")


def _xmmmaster() -> _Master:
    fields = (_col("name", "char", "Target Designation", ucd="meta.id;src"), *_POS,
              _col("time", "double", "Start Time", "mjd"), _col("obsid", "char", "Unique Observation Identifier"),
              _col("status", "char", "Status of Observation: scheduled, observed, processed, archived"),
              _col("duration", "double", "Duration", "s"),
              _col("xmm_revolution", "int", "XMM-Newton Revolution (Orbit) Number"),
              _col("pn_mode", "char", "Flags Indicate PN Instrument Modes"),
              _col("om_time", "double", "Total OM Exposure Time (s)", "s"),
              _col("rgs2_time", "double", "Total RGS-2 Exposure Time (s)", "s"),
              _col("rgs2_num", "int", "Number of RGS-2 Exposures"),
              _col("pps_flag", "char", "Flag Indicates PPS Products Available"))
    # ra, dec, name, obsid as astroquery's docs print them near (120, 38); the other values illustrative.
    data = [(120.22707, 36.04139, "Abell 611", "0781590301"), (120.25583, 36.04944, "Abell 611", "0781590501"),
            (120.23300, 36.06100, "A611", "0605000601"), (119.61710, 37.78661, "B2 0755+37", "0602390101"),
            (121.92084, 39.00417, "UGC4229", "0138951401"), (83.63320, 22.01450, "Crab", "0160960201")]
    rows = [{"__row": 4101 + i, "name": n, "ra": ra, "dec": dec, "time": 52000.0 + i * 900, "obsid": o,
             "status": "archived", "duration": 30000.0 + i * 1000, "xmm_revolution": 500 + i * 400,
             "pn_mode": "FF", "om_time": 4000.0, "rgs2_time": 29000.0, "rgs2_num": 1, "pps_flag": "Y"}
            for i, (ra, dec, n, o) in enumerate(data)]
    return _Master("XMM-Newton Master Log & Public Archive", fields, rows,
                   ["name", "obsid", "status", "ra", "dec", "time", "duration", "pi_lname", "public_date"],
                   15.0, "xmm", lambda row, o: f"xmm/data/rev0/{o}/")  # FTP/xmm/data/rev0//0204870101/ (§3.3)


def _rosmaster() -> _Master:
    fields = (_col("seq_id", "char", "Sequence ID"), _col("instrument", "char", "Instrument"),
              _col("exposure", "double", "Exposure", "s"), _col("name", "char", "Target Name", ucd="meta.id;src"),
              *_POS, _col("start_time", "double", "Start Time", "mjd"), _col("end_time", "double", "End Time", "mjd"),
              _col("obsid", "char", "Sequence ID (lower case)"))
    # 3C 273 rows as astroquery's pre-0.4.8 documentation printed them (rosmaster query_object).
    data = [("RH701576N00", "HRI", 68154.0, "3C 273", 187.28, 2.05, 49704.3090856482, 49724.6236226852),
            ("RP600242A01", "PSPCB", 24822.0, "GIOVANELLI-HAYNES CL", 186.93, 1.60, 48980.6468865741,
             48982.9284837963),
            ("RH700234N00", "HRI", 17230.0, "3C 273", 187.28, 2.05, 48629.2693055556, 48632.4716782407)]
    rows = [{"__row": 801 + i, "seq_id": s, "instrument": inst, "exposure": e, "name": n, "ra": ra, "dec": dec,
             "start_time": t0, "end_time": t1, "obsid": s.lower(), "kind": "hri" if inst == "HRI" else "pspc"}
            for i, (s, inst, e, n, ra, dec, t0, t1) in enumerate(data)]
    return _Master("ROSAT Archival Data", fields, rows,
                   ["seq_id", "instrument", "exposure", "name", "ra", "dec", "start_time", "end_time"], 30.0,
                   # §7: rosat/data/pspc/processed_data/900000/rs931315n00/
                   "rosat", lambda row, o: f"rosat/data/{row['kind']}/processed_data/{o[2]}00000/{o}/")


def _rassmaster() -> _Master:
    from .rosat import ROSAT_CENTER, ROSAT_SEQ

    fields = (_col("seq_id", "char", "Sequence ID"), _col("name", "char", "Field Name", ucd="meta.id;src"), *_POS,
              _col("exposure", "double", "Exposure", "s"), _col("obsid", "char", "Sequence ID (lower case)"))
    rows = [{"__row": 93131, "seq_id": ROSAT_SEQ.upper(), "name": "RASS skyfield 931315", "ra": ROSAT_CENTER[0],
             "dec": ROSAT_CENTER[1], "exposure": 550.0, "obsid": ROSAT_SEQ}]
    return _Master("ROSAT All-Sky Survey Master Catalog", fields, rows, ["seq_id", "name", "ra", "dec", "exposure"],
                   60.0, "rosat", lambda row, o: f"rosat/data/pspc/processed_data/{o[2]}00000/{o}/")


# Further catalogue names and descriptions exactly as astroquery's documentation lists them (some
# descriptions there are cut at 64 characters); listed and queryable, without rows here.
_OTHER_CATALOGS = {
    "ascamaster": "ASCA Master Catalog",
    "cmbmaster": "LAMBDA Cosmic Microwave Background Experiments Master Catalog",
    "erosmaster": "eROSITA Observations Master Catalog",
    "acceptcat": "Archive of Chandra Cluster Entropy Profile Tables (ACCEPT) Catal",
    "aegisx": "AEGIS-X Chandra Extended Groth Strip X-Ray Point Source Catalog",
    "aegisxdcxo": "AEGIS-X Deep Survey Chandra X-Ray Point Source Catalog",
    "aknepdfcxo": "Akari North Ecliptic Pole Deep Field Chandra X-Ray Point Source",
    "arcquincxo": "Arches and Quintuplet Clusters Chandra X-Ray Point Source Catalo",
    "atcdfsss82": "Australia Telescope Chandra Deep Field-South and SDSS Stripe 82",
    "bmwchancat": "Brera Multi-scale Wavelet Chandra Source Catalog",
    "candelscxo": "CANDELS H-Band Selected Chandra Source Catalog",
    "cargm31cxo": "Carina Nebula Gum 31 Chandra X-Ray Point Source Catalog",
    "carinaclas": "Carina Nebula Chandra X-Ray Point Source Classes",
    "gmrt1hxcsf": "Giant Metrewave Radio Telescope 1h XMM/Chandra Survey Fld 610-MH",
    "ic10xmmcxo": "IC 10 XMM-Newton and Chandra X-Ray Point Source Catalog",
    "ros13hrcxo": "ROSAT/XMM-Newton 13-hour Field Chandra X-Ray Source Catalog",
    "xmmomcdfs": "XMM-Newton Optical Monitor Chandra Deep Field-South UV Catalog",
}

MASTERS: dict[str, _Master] = {
    "chanmaster": _chanmaster(), "swiftmastr": _swiftmastr(), "numaster": _numaster(),
    "nicermastr": _nicermastr(), "xmmmaster": _xmmmaster(), "rosmaster": _rosmaster(), "rassmaster": _rassmaster(),
}


def observation_for_row(table: str, row: int) -> tuple[str, str, str] | None:
    """``(obsid, directory key, mission)`` of a master table's ``__row``, or None."""
    master = MASTERS.get(table)
    for values in master.rows if master else ():
        if values["__row"] == row:
            return str(values["obsid"]), master.directory(values), master.mission
    return None


def directory_for_obsid(table: str, obsid: str) -> str | None:
    master = MASTERS.get(table)
    for values in master.rows if master else ():
        if str(values["obsid"]) == obsid:
            return master.directory(values)
    return None


_METAINFO_FIELDS = (("name", "char", "*", None, None), ("type", "char", "*", None, None),
                    ("relation", "char", "*", None, None), ("value", "char", "*", None, None))


class _XaminTap(TapService):
    """Xamin's TAP; its database is PostgreSQL (hence ``split_part``), so errors read as PostgreSQL's."""

    def error_message(self, adql: str, exc: Exception) -> str:
        # Wording not recorded from production [L]: PostgreSQL's messages for the two common mistakes.
        text = str(exc)
        if match := re.match(r"no such table: (?:\w+\.)?(\w+)", text):
            return f'Query failed: ERROR: relation "{match.group(1)}" does not exist'
        if match := re.match(r"no such column: (\S+)", text):
            return f'Query failed: ERROR: column "{match.group(1)}" does not exist'
        return f"Query failed: {text}"


def heasarc_tap(products: Sequence[Product] = ()) -> TapService:
    """``https://heasarc.gsfc.nasa.gov/xamin/vo/tap``: master tables, ``metainfo`` and TAP_SCHEMA."""
    tables: dict[str, tuple] = {}
    descriptions: dict[str, str] = {}
    meta: list[list] = []
    for name, master in MASTERS.items():
        names = [f[0] for f in master.fields]
        tables[f"public.{name}"] = (master.fields, [[row.get(n) for n in names] for row in master.rows])
        descriptions[f"public.{name}"] = master.description
        meta += [[f"{name}.{col}", "parameter", "order", str(order)] for order, col in enumerate(master.defaults, 1)
                 if col in names]
        meta.append([name, "table", "defaultSearchRadius", str(master.radius)])
    for name, description in _OTHER_CATALOGS.items():
        tables[f"public.{name}"] = ((_ROW, _col("name", "char", "Source Name"), *_POS), [])
        descriptions[f"public.{name}"] = description
        meta += [[f"{name}.{col}", "parameter", "order", str(i)] for i, col in enumerate(("name", "ra", "dec"), 1)]
        meta.append([name, "table", "defaultSearchRadius", "1.0"])
    tables["public.metainfo"] = (_METAINFO_FIELDS, meta)
    schema_rows = [["public", "HEASARC tables"], ["TAP_SCHEMA", "TAP metadata"]]
    table_rows = [["public", name.split(".")[1], "table", descriptions.get(name, "")] for name in tables]
    column_rows = [[name.split(".")[1], f[0], f[5] if len(f) > 5 else "", f[3], f[4], f[1]]
                   for name, (fields, _) in tables.items() for f in fields]
    char = ("char", "*", None, None)
    tables["TAP_SCHEMA.schemas"] = ((("schema_name", *char), ("description", *char)), schema_rows)
    tables["TAP_SCHEMA.tables"] = ((("schema_name", *char), ("table_name", *char), ("table_type", *char),
                                    ("description", *char)), table_rows)
    tables["TAP_SCHEMA.columns"] = ((("table_name", *char), ("column_name", *char), ("description", *char),
                                     ("unit", *char), ("ucd", *char), ("datatype", *char)), column_rows)
    return _XaminTap(HOST, "/xamin/vo/tap", tables, descriptions=descriptions, hidden={"public.metainfo"},
                     bare_schemas={"public"})
