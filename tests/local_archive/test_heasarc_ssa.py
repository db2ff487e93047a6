"""HEASARC's SSA in the local archive answers as production: spectra, DataLink, the pha2 file and its cloud copy.

Expected values are production's December 2025 answer for delta Ori (service_formats.md §3.2(c); NASA-NAVO/
navo-workshop gh-pages @ c6e66534b4b4, spectral_access.ipynb) and the Jan 2025 cloud_access (§3.2(b)).
"""

from __future__ import annotations

import gzip
import io
import json

import numpy as np
import pytest
import pyvo
import requests
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.io.votable import parse

from local_archive.holdings.common import CRAB

SSA = "https://heasarc.gsfc.nasa.gov/xamin/vo/ssa?table=chanmaster&"
DATALINK_MIME = "application/x-votable+xml;content=datalink"
FTP = "https://heasarc.gsfc.nasa.gov/FTP/"
DELTA_ORI = SkyCoord(83.00167, -0.299092, unit="deg")  # Mintaka, as the stand-in Sesame resolves it
COLUMNS = [
    "obsid", "status", "name", "ra", "dec", "time", "detector", "grating", "exposure", "type", "pi", "public_date",
    "SSA_start_time", "SSA_tmid", "SSA_stop_time", "SSA_duration", "SSA_coord_obs", "SSA_ra", "SSA_dec", "SSA_fov",
    "SSA_title", "SSA_reference", "SSA_datalength", "SSA_datamodel", "SSA_instrument", "SSA_publisher",
    "SSA_format", "SSA_wavelength_min", "SSA_wavelength_max", "SSA_bandwidth", "SSA_bandpass"]
PHA2_COLUMNS = ["SPEC_NUM", "TG_M", "TG_PART", "TG_SRCID", "X", "Y", "CHANNEL", "COUNTS", "STAT_ERR",
                "BACKGROUND_UP", "BACKGROUND_DOWN", "BIN_LO", "BIN_HI"]


def _link(obsid: int) -> str:
    return f"https://heasarc.gsfc.nasa.gov/xamin/vo/datalink?datalink_key&id=ivo://nasa.heasarc/chanmaster?{obsid}" \
           "/chandra.obs.pha"


def _delta_ori():
    return pyvo.dal.SSAService(SSA).search(pos=DELTA_ORI, diameter=0.1)


def test_delta_ori_spectra_in_the_december_2025_form(archive):
    results = _delta_ori()
    table = results.to_table()
    assert table.colnames == COLUMNS
    assert list(table["obsid"]) == ["7416", "14567", "14568", "14569", "14570", "639"]
    row = table[0]
    assert (row["name"], row["detector"], row["grating"], row["exposure"], row["pi"], row["public_date"]) == (
        "delta Ori (HD 36486)", "HRC-S", "LETG", 97080, "Raassen", 54783)
    assert (row["ra"], row["dec"], row["time"], row["SSA_start_time"], row["SSA_duration"]) == (
        83.00167, -0.29908, 54413.427, 54413.4270486111, 97080.0)
    assert row["SSA_title"] == "hrcf07416N004_pha2.fits"
    assert row["SSA_reference"] == _link(7416)
    assert row["SSA_publisher"] == "ivo://nasa.heasarc/chanmaster?7416/chandra.obs.pha"
    assert (row["SSA_format"], row["SSA_instrument"], row["SSA_datamodel"], row["SSA_datalength"]) == (
        DATALINK_MIME, "CHANDRA HRC-S", "Spectrum-1.0", "2")
    assert (row["SSA_fov"], row["SSA_wavelength_min"], row["SSA_wavelength_max"], row["SSA_bandwidth"],
            row["SSA_bandpass"]) == (0.81, 1.2398e-10, 6.1992e-09, 6.07522e-09, 3.16159e-09)
    assert np.ma.is_masked(row["SSA_tmid"]) and np.ma.is_masked(row["SSA_stop_time"])
    assert np.ma.is_masked(row["SSA_coord_obs"])
    last = table[-1]
    assert (last["name"], last["SSA_title"], last["SSA_datalength"], last["SSA_instrument"], last["time"]) == (
        "DELTA ORI", "acisf00639N005_pha2.fits", "12", "CHANDRA ACIS-S", 51556.1364)
    assert str(table["SSA_wavelength_min"].unit) == "m" and str(table["SSA_duration"].unit) == "s"
    # pyvo's SSARecord reads these by SSA utype; basic_reference.ipynb printed the first two.
    record = results[0]
    assert (record.title, record.format) == ("hrcf07416N004_pha2.fits", DATALINK_MIME)
    assert record.acref == record.getdataurl() == _link(7416)


def test_the_registry_leads_to_the_same_service(archive):
    services = pyvo.regsearch(servicetype="ssa", waveband="x-ray")
    chandra = [s for s in services if "Chandra" in s.short_name][0]
    assert chandra.access_url == SSA
    assert len(chandra.search(pos=DELTA_ORI, diameter=0.1)) == 6


def test_datalink_gives_the_pha2_file_and_its_cloud_copy(archive):
    record = next(r for r in _delta_ori() if r["obsid"] == "639")
    links = record.getdatalink()
    table = links.to_table()
    key = "chandra/data/byobsid/9/639/primary/acisf00639N005_pha2.fits.gz"
    assert list(table["ID"]) == ["ivo://nasa.heasarc/chanmaster?639/chandra.obs.pha"]
    assert links.getvalue("access_url", 0) == f"{FTP}chandra/data/byobsid/9//639/primary/acisf00639N005_pha2.fits.gz"
    assert (table["semantics"][0], table["content_type"][0]) == ("#this", "application/fits")
    # The cloud_access production gave this very file (Jan 2025, §3.2(b)), compact JSON with "policy".
    assert table["cloud_access"][0] == ('{"aws":{"bucket_name":"nasa-heasarc","region":"us-east-1","policy":"open",'
                                        f'"key":"{key}"}}}}')
    https = requests.get(links.getvalue("access_url", 0), timeout=30).content
    s3 = archive.s3.client.get_object(Bucket=json.loads(table["cloud_access"][0])["aws"]["bucket_name"],
                                      Key=key)["Body"].read()
    assert https == s3 and len(s3) == table["content_length"][0]
    product = next(p for p in archive.products if p.key == key)
    assert s3 == product.path.read_bytes()


def test_pha2_files_are_type_ii_spectra(archive):
    hetg = requests.get(f"{FTP}chandra/data/byobsid/9/639/primary/acisf00639N005_pha2.fits.gz", timeout=30).content
    with fits.open(io.BytesIO(gzip.decompress(hetg))) as hdul:
        assert [hdu.name for hdu in hdul] == ["PRIMARY", "SPECTRUM"]
        spectrum = hdul["SPECTRUM"]
        assert spectrum.columns.names == PHA2_COLUMNS
        assert spectrum.columns.formats == ["I", "I", "I", "I", "E", "E", "8192I", "8192I", "8192E", "8192I",
                                            "8192I", "8192D", "8192D"]
        data = spectrum.data
        assert list(data["TG_PART"]) == [1] * 6 + [2] * 6
        assert list(data["TG_M"]) == [-3, -2, -1, 1, 2, 3] * 2
        assert (data["X"][0], data["Y"][0]) == (np.float32(4094.9138), np.float32(4132.076))
        assert data["BIN_LO"][2][0] == pytest.approx(21.4775) and data["BIN_HI"][2][-1] == pytest.approx(1.0025)
        assert data["BIN_LO"][8][0] == pytest.approx(41.955) and data["BIN_LO"][6][-1] == pytest.approx(1 / 3)
        assert list(data["CHANNEL"][0][[0, -1]]) == [1, 8192]
        assert data["STAT_ERR"][0] == pytest.approx(1 + np.sqrt(data["COUNTS"][0] + 0.75))
        assert data["COUNTS"][2].sum() > 1000
        header = spectrum.header
        assert (header["HDUCLASS"], header["HDUCLAS1"], header["HDUCLAS4"], header["DETCHANS"]) == (
            "OGIP", "SPECTRUM", "TYPE:II", 8192)
        assert (header["OBS_ID"], header["GRATING"], header["EXPOSURE"]) == ("639", "HETG", 49680.0)
    letg = requests.get(f"{FTP}chandra/data/byobsid/6//7416/primary/hrcf07416N004_pha2.fits.gz", timeout=30).content
    with fits.open(io.BytesIO(gzip.decompress(letg))) as hdul:
        data = hdul["SPECTRUM"].data
        assert list(data["TG_PART"]) == [3, 3] and list(data["TG_M"]) == [-1, 1]
        assert data["CHANNEL"].shape == (2, 16384)
        assert data["BIN_LO"][0][0] == pytest.approx(205.7875) and data["BIN_HI"][0][-1] == pytest.approx(1.0125)


def test_the_crab_has_one_real_letg_spectrum(archive):
    table = pyvo.dal.SSAService(SSA).search(pos=SkyCoord(*CRAB, unit="deg"), diameter=0.1).to_table()
    assert list(table["obsid"]) == ["14684"]
    assert (table["detector"][0], table["grating"][0], table["SSA_title"][0]) == (
        "HRC-S", "LETG", "hrcf14684N002_pha2.fits")
    links = pyvo.dal.adhoc.DatalinkResults.from_result_url(table["SSA_reference"][0])
    assert json.loads(links.getvalue("cloud_access", 0))["aws"]["key"] == (
        "chandra/data/byobsid/4/14684/primary/hrcf14684N002_pha2.fits.gz")


def test_nothing_near_is_an_empty_well_formed_table(archive):
    results = pyvo.dal.SSAService(SSA).search(pos=(10.0, 10.0), diameter=0.1)
    assert len(results) == 0 and results.to_table().colnames == COLUMNS
    assert results.status[0] == "OK"


def test_band_time_and_maxrec_constrain_the_answer(archive):
    service = pyvo.dal.SSAService(SSA)
    assert len(service.search(pos=DELTA_ORI, diameter=0.1, band=(1e-6, 2e-6))) == 0
    assert len(service.search(pos=DELTA_ORI, diameter=0.1, band=(1e-9, 2e-9))) == 6
    one = service.search(pos=DELTA_ORI, diameter=0.1, TIME="2012-12-19/2012-12-20")
    assert [r["obsid"] for r in one] == ["14567"]
    with pytest.warns(pyvo.dal.exceptions.DALOverflowWarning):
        two = service.search(pos=DELTA_ORI, diameter=0.1, MAXREC=2)
    assert len(two) == 2 and two.status[0] == "OVERFLOW"


def test_bad_or_missing_pos_is_a_query_status_error(archive):
    for pos in ("nowhere", "83.0", "400,0"):
        with pytest.raises(pyvo.DALQueryError, match="Invalid parameter"):
            pyvo.dal.SSAQuery(SSA, POS=pos, SIZE=0.1).execute()
    answer = requests.get(SSA, params={"REQUEST": "queryData", "SIZE": "0.1"}, timeout=30)
    status = parse(io.BytesIO(answer.content)).resources[0].infos[0]
    assert (status.name, status.value) == ("QUERY_STATUS", "ERROR")
    assert status.content == "Invalid parameter: POS is required"


def test_format_metadata_describes_inputs_and_columns(archive):
    answer = requests.get(SSA, params={"REQUEST": "queryData", "FORMAT": "METADATA"}, timeout=30)
    votable = parse(io.BytesIO(answer.content))
    resource = votable.resources[0]
    assert [(i.name, i.value) for i in resource.infos] == [("QUERY_STATUS", "OK"), ("SERVICE_PROTOCOL", "1.1")]
    assert [p.name for p in resource.params] == ["INPUT:POS", "INPUT:SIZE", "INPUT:BAND", "INPUT:TIME",
                                                 "INPUT:FORMAT", "INPUT:MAXREC", "INPUT:REQUEST"]
    table = resource.tables[0]
    assert [f.name for f in table.fields] == COLUMNS and len(table.array) == 0
    utypes = {f.name: f.utype for f in table.fields}
    assert (utypes["SSA_reference"], utypes["SSA_format"], utypes["SSA_title"]) == (
        "ssa:Access.Reference", "ssa:Access.Format", "ssa:DataID.Title")
    names = [c.name for c in pyvo.dal.SSAService(SSA).columns]
    assert "INPUT:POS" in names and names[-len(COLUMNS):] == COLUMNS


@pytest.mark.parametrize("table", ["xtemaster", "hitomaster", "halomaster", "xrismmastr"])
def test_the_other_advertised_ssa_tables_answer_empty(archive, table):
    results = pyvo.dal.SSAService(f"https://heasarc.gsfc.nasa.gov/xamin/vo/ssa?table={table}&").search(
        pos=DELTA_ORI, diameter=1.0)
    assert len(results) == 0 and results.status[0] == "OK"
    assert results.to_table().colnames == COLUMNS[12:]


def test_a_table_without_ssa_is_an_error(archive):
    with pytest.raises(pyvo.DALQueryError, match="No SSA service for table 'numaster'"):
        pyvo.dal.SSAService("https://heasarc.gsfc.nasa.gov/xamin/vo/ssa?table=numaster&").search(
            pos=DELTA_ORI, diameter=0.1)
