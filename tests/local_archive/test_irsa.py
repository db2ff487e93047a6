"""IRSA's SIA v1/v2, TAP and buckets answer as production does, through the real servers and clients."""

from __future__ import annotations

import gzip
import io
import json
from collections import Counter

import astropy.units as u
import numpy as np
import pyarrow.dataset as ds
import pyvo
import requests
import s3fs
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.nddata import Cutout2D
from astropy.wcs import WCS

from local_archive.holdings.common import CRAB

IBE = "https://irsa.ipac.caltech.edu/ibe/data/wise/allwise/p3am_cdd/"
SIA2 = "https://irsa.ipac.caltech.edu/SIA"
SEIP = "nasa-irsa-spitzer/spitzer/seip/seip_science/images/"
# The bright star of IRSA's AllWISE SIA v2 tutorial, inside Atlas tile 3150p772_ac51.
STAR = SkyCoord(314.30417, 77.595559, unit="deg")
COSMOS = SkyCoord("150.01d 2.2d", frame="icrs")


def test_sia2_answers_the_thirty_files_of_an_atlas_tile(archive):
    """Recorded: irsa-tutorials sia-allwise-atlas (30 rows, W3 rows first, science/weight/noise/auxiliary)."""
    from astroquery.ipac.irsa import Irsa

    table = Irsa.query_sia(pos=(STAR, 1 * u.arcsec), collection="wise_allwise")
    assert len(table) == 30 and len(table.colnames) == 51
    assert Counter(table["energy_bandpassname"]) == {"W1": 7, "W2": 7, "W3": 8, "W4": 8}
    assert list(table["energy_bandpassname"][:9]) == ["W3"] * 8 + ["W4"]
    first = table[0]
    assert first["access_url"] == IBE + "31/3150/3150p772_ac51/3150p772_ac51-w3-int-3.fits"
    assert (first["dataproduct_subtype"], first["access_format"], first["em_min"], first["em_max"]) == (
        "science", "image/fits", 8e-06, 1.6e-05)
    assert first["obs_publisher_did"] == "ivo://irsa.ipac/wise_allwise?3150p772_ac51/3150p772_ac51_W3"
    assert json.loads(first["cloud_access"]) == {"aws": {
        "bucket_name": "nasa-irsa-wise", "region": "us-west-2",
        "key": "wise/allwise/images/p3am_cdd/31/3150/3150p772_ac51/3150p772_ac51-w3-int-3.fits"}}
    assert first["s_region"].startswith("POLYGON ICRS 318.357312127116 76.432402659216 ")
    w3 = table[table["energy_bandpassname"] == "W3"]
    assert sorted(url.rsplit("/", 1)[-1] for url in w3["access_url"]) == [
        f"3150p772_ac51-{name}" for name in ("art-w3-D.tbl", "art-w3-H.tbl", "art-w3-O.tbl", "art-w3-P.tbl",
                                             "mfflag-3.tbl", "w3-cov-3.fits.gz", "w3-int-3.fits", "w3-unc-3.fits.gz")]
    assert {(row["dataproduct_subtype"], row["access_format"]) for row in w3} == {
        ("science", "image/fits"), ("weight", "application/x-gzip"), ("noise", "application/x-gzip"),
        ("auxiliary", "text/plain")}
    assert set(table["upload_row_id"]) == {1}
    assert list(table[table["energy_bandpassname"] == "W1"]["em_max"]) == [4e-06] * 7


def test_sia2_unknown_collection_is_an_empty_table(archive):
    """Recorded in astroquery issue #3213: IRSA answers an unknown collection with the 51 columns and no rows."""
    results = pyvo.dal.SIA2Service(SIA2).search(pos=(STAR, 1 * u.arcsec), collection="foobar")
    assert len(results) == 0 and len(results.to_table().colnames) == 51


def test_uncertainty_and_coverage_maps_are_served_in_s3_and_over_https(archive):
    for kind, filetype in (("unc", "1-sigma uncertainty image"), ("cov", "depth-of-coverage image")):
        rel = f"31/3150/3150p772_ac51/3150p772_ac51-w3-{kind}-3.fits.gz"
        https = requests.get(IBE + rel, timeout=30).content
        s3 = archive.s3.client.get_object(Bucket="nasa-irsa-wise", Key="wise/allwise/images/p3am_cdd/" + rel)
        assert s3["Body"].read() == https
        with fits.open(io.BytesIO(gzip.decompress(https))) as hdul:
            header = hdul[0].header
            assert (header["FILETYPE"], header["NAXIS1"], header["NAXIS2"], header["COADDID"]) == (
                filetype, 4095, 4095, "3150p772_ac51")
            assert (header["CRVAL1"], header["CRVAL2"], header["CTYPE1"]) == (315.021854, 77.236667, "RA---SIN")


def test_sia1_lists_each_tile_with_its_unc_and_cov_urls(archive):
    table = pyvo.dal.SIAService("https://irsa.ipac.caltech.edu/ibe/sia/wise/allwise/p3am_cdd?").search(
        pos=STAR, size=0.01 * u.deg).to_table()
    assert list(table["sia_bp_id"]) == ["W2", "W1", "W3", "W4"] and set(table["coadd_id"]) == {"3150p772_ac51"}
    assert table["unc_url"][0] == IBE + "31/3150/3150p772_ac51/3150p772_ac51-w2-unc-3.fits.gz"
    assert requests.head(table["cov_url"][0], timeout=30).status_code == 200


def test_seip_bucket_holds_the_super_mosaics_at_irsas_keys(archive):
    """Recorded: irsa-tutorials cloud-access-intro (its s3.glob of 4/0019/40019821/9)."""
    fs = s3fs.S3FileSystem(anon=True, skip_instance_cache=True)
    assert {p.rsplit("/", 1)[-1] for p in fs.ls(SEIP)} == {"4", "5", "6"}
    found = fs.glob(SEIP + "4/0019/40019821/9/**/*.mosaic.fits")
    stem = SEIP + "4/0019/40019821/9/40019821-"
    assert found == [stem + "19/40019821.40019821-19.MIPS.1.mosaic.fits"] + [
        stem + f"9/40019821.40019821-9-short.IRAC.{ch}.mosaic.fits" for ch in (1, 2, 3, 4)] + [
        stem + f"9/40019821.40019821-9.IRAC.{ch}.mosaic.fits" for ch in (1, 2, 3, 4)] + [
        stem + "9/40019821.40019821-9.MIPS.1.mosaic.fits"]
    assert archive.s3.client.get_bucket_location(Bucket="nasa-irsa-spitzer")["LocationConstraint"] == "us-west-2"


def test_sia2_spitzer_seip_rows_point_at_the_bucket_and_cut_out_from_s3(archive):
    """Recorded: cloud-access-intro's first five cloud_access values for RA 150.01, Dec 2.2."""
    results = pyvo.dal.SIA2Service(SIA2).search((COSMOS, 0.01 * u.deg), collection="spitzer_seip")
    stem = "spitzer/seip/seip_science/images/6/0095/60095931/4/60095931-14/60095931.60095931-14.IRAC.4."
    assert [json.loads(v)["aws"]["key"] for v in results["cloud_access"][:5]] == [
        stem + kind + ".fits" for kind in ("std", "brightmask", "extmask", "unc", "mosaic")]
    table = results.to_table()
    assert set(table["obs_collection"]) == {"spitzer_seip"} and set(table["facility_name"]) == {
        "Spitzer Space Telescope"}
    science = table[table["dataproduct_subtype"] == "science"]
    assert [url.rsplit("/", 1)[-1] for url in science["access_url"][:2]] == [
        "60095931.60095931-14.IRAC.4.mosaic.fits", "60095931.60095931-14.IRAC.4.median_mosaic.fits"]
    assert science["access_url"][0] == (
        "https://irsa.ipac.caltech.edu/data/SPITZER/Enhanced/SEIP/images/6/0095/60095931/4/60095931-14/"
        "60095931.60095931-14.IRAC.4.mosaic.fits")
    aws = json.loads(next(v for v in table["cloud_access"] if ".mosaic.fits" in v))["aws"]
    with fits.open(f"s3://{aws['bucket_name']}/{aws['key']}", fsspec_kwargs={"anon": True}) as hdul:
        cutout = Cutout2D(hdul[0].section, position=COSMOS, size=0.01 * u.deg, wcs=WCS(hdul[0].header))
    assert cutout.data.shape == (60, 60) and np.isfinite(cutout.data).all()
    assert len(pyvo.dal.SIA2Service(SIA2).search((COSMOS, 0.01 * u.deg), collection="wise_allwise")) == 0


def test_irsa_tap_lists_the_documented_collections(archive):
    """The ADQL astroquery sends (caom.observation / caom.plane) against IRSA's TAP."""
    from astroquery.ipac.irsa import Irsa

    assert list(Irsa.list_collections(filter="allwise")["collection"]) == ["wise_allwise"]
    images = list(Irsa.list_collections(servicetype="SIA")["collection"])
    assert images[:2] == ["akari_allskymaps", "blast"] and {"spitzer_seip", "wise_allwise"} <= set(images)
    spectra = list(Irsa.list_collections(servicetype="SSA")["collection"])
    assert len(spectra) == 35 and spectra[0] == "champ" and spectra[-1] == "spitzer_ssgss"
    assert Irsa.list_catalogs(filter="allwise") == {"allwise_p3as_psd": "AllWISE Source Catalog"}


def test_irsa_tap_cone_search_of_the_allwise_catalog(archive):
    from astroquery.ipac.irsa import Irsa

    crab = SkyCoord(*CRAB, unit="deg")
    table = Irsa.query_region(crab, catalog="allwise_p3as_psd", spatial="Cone", radius=3 * u.arcmin,
                              columns="designation,ra,dec,w1mpro")
    assert table.colnames == ["designation", "ra", "dec", "w1mpro"] and len(table) > 0
    assert table["ra"].unit == u.deg
    assert SkyCoord(table["ra"], table["dec"]).separation(crab).max() <= 3 * u.arcmin
    fs = s3fs.S3FileSystem(anon=True, skip_instance_cache=True)
    catalog = ds.dataset("nasa-irsa-wise/wise/allwise/catalogs/p3as_psd/healpix_k5/wise-allwise.parquet/",
                         filesystem=fs, format="parquet", partitioning="hive").to_table(columns=["ra", "dec"])
    near = SkyCoord(catalog["ra"].to_numpy(), catalog["dec"].to_numpy(), unit="deg").separation(crab) <= 3 * u.arcmin
    assert len(table) == int(near.sum())


def test_irsa_tap_point_source_catalogs_list_one_star_across_surveys(archive):
    """SEDs_in_Firefly's recorded phot_tbl: one match within 1" of 05h27m36.37s +34d49m40.6s in each catalog."""
    tap = pyvo.dal.TAPService("https://irsa.ipac.caltech.edu/TAP")
    target = SkyCoord(ra="05h27m36.37s", dec="+34d49m40.6s")
    where = (f"WHERE CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', {target.ra.deg}, {target.dec.deg}, "
             f"{1 / 3600}))=1")
    expected = {
        "fp_psc": ("ra,dec,j_m,j_msigcom,h_m,k_m,ph_qual", (81.901542, 34.827953), {"j_m": 15.455, "k_m": 14.246}),
        "allwise_p3as_psd": ("ra,dec,w1mpro,w4sigmpro,ph_qual", (81.9014998, 34.8279561),
                             {"w1mpro": 13.374, "w4sigmpro": 0.186}),
        "gaia_dr3_source": ("designation,ra,dec,phot_g_mean_mag,phot_g_mean_flux_over_error",
                            (81.90155029515, 34.82794419355), {"phot_g_mean_mag": 18.415817}),
        "catwise_2020": ("ra,dec,w1mpro,w1sigmpro,w2mpro,w2sigmpro", (81.9015322, 34.8279704), {"w2mpro": 12.661}),
        "unwise_2019": ("ra,dec,flux_1,dflux_1,flux_2,dflux_2,fluxlbs_1", (81.90154795, 34.82797708),
                        {"flux_1": 4388.7}),
    }
    for table, (columns, (ra, dec), values) in expected.items():
        result = tap.search(f"SELECT {columns} FROM {table} {where}").to_table()
        assert len(result) == 1, table
        assert (result["ra"][0], result["dec"][0]) == (ra, dec)
        for name, value in values.items():
            assert abs(result[name][0] - value) < 1e-4, (table, name)
    # A wider cone: every 2MASS star has its AllWISE counterpart within 1".
    cone = where.replace(f"{1 / 3600})", "0.05)")
    psc = tap.search(f"SELECT ra,dec FROM fp_psc {cone}").to_table()
    allwise = tap.search(f"SELECT ra,dec FROM allwise_p3as_psd {cone}").to_table()
    assert len(psc) >= 3
    idx, sep, _ = SkyCoord(psc["ra"], psc["dec"], unit="deg").match_to_catalog_sky(
        SkyCoord(allwise["ra"], allwise["dec"], unit="deg"))
    assert sep.max() < 1 * u.arcsec


def test_sia2_seip_rows_give_pyvo_their_data_url_at_the_seip_tutorial_star(archive):
    """Recorded (siav2_seip): the 40019821-10 short IRAC.3 mosaic covers RA 314.30417, Dec 77.595559."""
    results = pyvo.dal.SIA2Service(SIA2).search((STAR.ra.deg, STAR.dec.deg, 10 * u.arcsec), collection="spitzer_seip")
    urls = [record.getdataurl() for record in results]
    wanted = ("https://irsa.ipac.caltech.edu/data/SPITZER/Enhanced/SEIP/images/4/0019/40019821/0/40019821-10/"
              "40019821.40019821-10-short.IRAC.3.mosaic.fits")
    assert wanted in urls
    with fits.open(io.BytesIO(requests.get(wanted, timeout=30).content)) as hdul:
        cutout = Cutout2D(hdul[0].data, STAR, (60, 60), wcs=WCS(hdul[0].header))
    assert cutout.data.shape == (60, 60)
