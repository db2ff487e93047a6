"""The VO registry (RegTAP) and an ObsCore TAP service, both over the local holdings.

The registry lists the services this archive stands in for, with the ivoids,
standard IDs and access URLs of the real ones; pyvo's registry queries run on
it unchanged (``rr.resource`` NATURAL JOIN ``rr.capability``/``rr.interface``).
The ObsCore table holds one row per local image product, so an ObsCore query
finds what the buckets hold.
"""

from __future__ import annotations

from .data import Product
from .heasarc import SIA_URL
from .tap import TapService

__all__ = ["registry_service", "obscore_service", "RESOURCES", "MAST_CAOM_TAP"]

MAST_CAOM_TAP = "https://mast.stsci.edu/vo-tap/api/v0.1/caom"
MAST_PS1_TAP = "https://mast.stsci.edu/vo-tap/api/v0.1/ps1dr2"
SIA = "ivo://ivoa.net/std/sia"
TAP = "ivo://ivoa.net/std/tap"

# ivoid, short_name, title, description, waveband, subjects, [(standard_id, access_url)]
RESOURCES = [
    (
        "ivo://nasa.heasarc/chanmaster",
        "Chandra",
        "Chandra Observations",
        "This table contains a list of Chandra observations, with links to the HEASARC archive of Chandra "
        "data products, including images. Provided by the HEASARC.",
        "x-ray",
        ["Chandra", "X-ray astronomy"],
        [(SIA, SIA_URL), ("ivo://ivoa.net/std/ssa", "https://heasarc.gsfc.nasa.gov/xamin/vo/ssa?table=chanmaster&")],
    ),
    (
        "ivo://cxc.harvard.edu/cda.siap",
        "CDA",
        "Chandra Data Archive Image Service",
        "Image access to the Chandra X-ray Observatory archive at the Chandra X-ray Center.",
        "x-ray",
        ["Chandra"],
        [(SIA, "https://cxcfps.cfa.harvard.edu/cgi-bin/cda/siap.cgi?")],
    ),
    (
        "ivo://nasa.heasarc/skyview/goodsacisfb",
        "GOODSACISFB",
        "GOODS Chandra ACIS Full Band",
        "The GOODS survey observed with Chandra ACIS, full band, as a SkyView survey at HEASARC.",
        "x-ray",
        ["Chandra"],
        [(SIA, "https://skyview.gsfc.nasa.gov/cgi-bin/vo/sia.pl?survey=goodsacisfb&")],
    ),
    (
        "ivo://archive.stsci.edu/caomtap",
        "MAST CAOM",
        "MAST Observations (CAOM) TAP service",
        "Table access to the observations of all MAST missions (HST, JWST, TESS, GALEX, PanSTARRS (PS1), ...) "
        "in the IVOA ObsCore data model, table ivoa.obscore.",
        "optical",
        ["PanSTARRS", "HST", "JWST"],
        [(TAP, MAST_CAOM_TAP)],
    ),
    (
        "ivo://archive.stsci.edu/ps1dr2",
        "PS1 DR2",
        "Pan-STARRS1 DR2 catalogs",
        "Catalog tables (MeanObjectView, StackObjectView, Detection) of the PanSTARRS 1 data release 2.",
        "optical",
        ["PanSTARRS"],
        [(TAP, MAST_PS1_TAP)],
    ),
    (
        "ivo://irsa.ipac/wise/allwise/p3am_cdd",
        "AllWISE Atlas",
        "AllWISE Atlas Images",
        "The AllWISE Atlas coadded images of the WISE mission in four bands (3.4, 4.6, 12 and 22 microns), at IRSA.",
        "infrared",
        ["WISE", "infrared"],
        [(SIA, "https://irsa.ipac.caltech.edu/ibe/sia/wise/allwise/p3am_cdd?")],
    ),
]

RESOURCE_FIELDS = [
    (name, "char", "*", None, None)
    for name in (
        "ivoid",
        "res_type",
        "short_name",
        "res_title",
        "content_level",
        "res_description",
        "reference_url",
        "creator_seq",
        "created",
        "updated",
        "rights",
        "content_type",
        "source_format",
        "source_value",
    )
] + [("region_of_regard", "double", None, "deg", None), ("waveband", "char", "*", None, None)]
CAPABILITY_FIELDS = [
    ("ivoid", "char", "*", None, None),
    ("cap_index", "int", None, None, None),
    ("cap_type", "char", "*", None, None),
    ("standard_id", "char", "*", None, None),
    ("cap_description", "char", "*", None, None),
]
INTERFACE_FIELDS = [
    ("ivoid", "char", "*", None, None),
    ("cap_index", "int", None, None, None),
    ("intf_index", "int", None, None, None),
    ("intf_type", "char", "*", None, None),
    ("intf_role", "char", "*", None, None),
    ("url_use", "char", "*", None, None),
    ("access_url", "char", "*", None, None),
]
SUBJECT_FIELDS = [("ivoid", "char", "*", None, None), ("res_subject", "char", "*", None, None)]


def registry_service() -> TapService:
    """GAVO's RegTAP endpoint ``http://reg.g-vo.org/tap`` (pyvo's default ``IVOA_REGISTRY``)."""
    resources, capabilities, interfaces, subjects = [], [], [], []
    for ivoid, short, title, description, waveband, subject_list, caps in RESOURCES:
        resources.append(
            [
                ivoid,
                "vs:catalogservice",
                short,
                title,
                "research",
                description,
                "https://" + ivoid.split("/")[2],
                "",
                "2010-01-01T00:00:00",
                "2026-01-01T00:00:00",
                "",
                "",
                "",
                "",
                None,
                waveband,
            ]
        )
        subjects.extend([ivoid, s] for s in subject_list)
        for index, (standard, url) in enumerate(caps, start=1):
            capabilities.append([ivoid, index, "vs:paramhttp", standard, ""])
            interfaces.append([ivoid, index, 1, "vs:paramhttp", "std", "base", url])
    return TapService(
        "reg.g-vo.org",
        "/tap",
        {
            "rr.resource": (RESOURCE_FIELDS, resources),
            "rr.capability": (CAPABILITY_FIELDS, capabilities),
            "rr.interface": (INTERFACE_FIELDS, interfaces),
            "rr.res_subject": (SUBJECT_FIELDS, subjects),
        },
    )


OBSCORE_FIELDS = [
    ("dataproduct_type", "char", "*", None, "meta.code.class"),
    ("calib_level", "int", None, None, "meta.code;obs.calib"),
    ("obs_collection", "char", "*", None, "meta.id"),
    ("obs_id", "char", "*", None, "meta.id"),
    ("obs_publisher_did", "char", "*", None, "meta.ref.ivoid"),
    ("access_url", "char", "*", None, "meta.ref.url"),
    ("access_format", "char", "*", None, "meta.code.mime"),
    ("access_estsize", "long", None, "kbyte", "phys.size;meta.file"),
    ("target_name", "char", "*", None, "meta.id;src"),
    ("s_ra", "double", None, "deg", "pos.eq.ra"),
    ("s_dec", "double", None, "deg", "pos.eq.dec"),
    ("s_fov", "double", None, "deg", "phys.angSize;instr.fov"),
    ("s_region", "char", "*", None, "pos.outline;obs.field"),
    ("s_resolution", "double", None, "arcsec", None),
    ("t_min", "double", None, "d", "time.start;obs.exposure"),
    ("t_max", "double", None, "d", "time.end;obs.exposure"),
    ("t_exptime", "double", None, "s", "time.duration;obs.exposure"),
    ("em_min", "double", None, "m", "em.wl;stat.min"),
    ("em_max", "double", None, "m", "em.wl;stat.max"),
    ("facility_name", "char", "*", None, "meta.id;instr.tel"),
    ("instrument_name", "char", "*", None, "meta.id;instr"),
]


def obscore_service(products: list[Product]) -> TapService:
    """MAST's CAOM TAP service with ``ivoa.obscore`` rows for the local Pan-STARRS stacks."""
    from .mast import BAND_NM, PS1_FOOTPRINT

    ra0, ra1, dec0, dec1 = PS1_FOOTPRINT
    rows = []
    for product in products:
        if product.archive != "mast":
            continue
        band = product.meta["band"]
        rows.append(
            [
                "image",
                3,
                "PS1",
                product.meta["filename"].removesuffix(".fits"),
                f"ivo://mast.stsci.edu/ps1?{product.meta['filename']}",
                product.https_url,
                "image/fits",
                product.path.stat().st_size // 1024,
                "",
                (ra0 + ra1) / 2,
                (dec0 + dec1) / 2,
                0.44,
                f"POLYGON ICRS {ra0} {dec0} {ra1} {dec0} {ra1} {dec1} {ra0} {dec1}",
                1.0,
                55197.0,
                56660.0,
                602.0,
                BAND_NM[band][0] * 1e-9,
                BAND_NM[band][1] * 1e-9,
                "PS1",
                "GPC1",
            ]
        )
    return TapService("mast.stsci.edu", "/vo-tap/api/v0.1/caom", {"ivoa.obscore": (OBSCORE_FIELDS, rows)})
