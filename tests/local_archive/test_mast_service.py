"""MAST's portal API on the local archive: CAOM column configuration, cone and filtered queries, products,
path_lookup and the Hubble files in ``stpubdata``, through the real HTTP and S3 servers."""

from __future__ import annotations

import json
import warnings

import astropy.units as u
import pytest
import requests
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.wcs import WCS

INVOKE = "https://mast.stsci.edu/api/v0/invoke"
COLUMNS_CONFIG = "https://mast.stsci.edu/portal/Mashup/Mashup.asmx/columnsconfig"
PATH_LOOKUP = "https://mast.stsci.edu/api/v0.1/path_lookup/"
CRAB = SkyCoord(83.63308333, 22.0145, unit="deg")
CAOM = ["intentType", "obs_collection", "provenance_name", "instrument_name", "project", "filters",
        "wavelength_region", "target_name", "target_classification", "obs_id", "s_ra", "s_dec", "dataproduct_type",
        "proposal_pi", "calib_level", "t_min", "t_max", "t_exptime", "em_min", "em_max", "obs_title",
        "t_obs_release", "proposal_id", "proposal_type", "sequence_number", "s_region", "jpegURL", "dataURL",
        "dataRights", "mtFlag", "srcDen", "obsid"]
PS1_IDS = [f"rings.v3.skycell.1784.059.stk.{b}" for b in "grizy"]
DRZ = "mast:HST/product/jc6801010_drz.fits"


def _invoke(service: str, params: dict, **extra) -> dict:
    request = {"service": service, "params": params, "format": "json", "pagesize": 50000, "page": 1, **extra}
    answer = requests.post(INVOKE, data={"request": json.dumps(request)}, timeout=30)
    assert answer.status_code == 200
    return answer.json()


def _ids(answer: dict) -> list[str]:
    return [row["obs_id"] for row in answer["data"]]


def test_columnsconfig_holds_the_caom_columns_and_the_filter_only_names(archive):
    config = requests.post(COLUMNS_CONFIG, data={"colConfigId": "Mast.Caom.Cone"}, timeout=30).json()
    assert list(config)[:6] == ["_selected_", "intentType", "obs_collection", "provenance_name", "instrument_name",
                                "project"]
    assert set(CAOM) <= set(config)
    assert config["provenance_name"]["text"] == "Provenance Name"
    assert config["s_ra"]["vot.datatype"] == "double"
    assert config["wave_region"] == {"text": "Waveband", "remove": True, "separator": ";", "vot.datatype": "char",
                                     "vot.description": "Energy Band"}
    filtered = requests.post(COLUMNS_CONFIG, data={"colConfigId": "Mast.Caom.Filtered.Position"}, timeout=30).json()
    assert filtered == config
    products = requests.post(COLUMNS_CONFIG, data={"colConfigId": "Mast.Caom.Products"}, timeout=30).json()
    assert list(products)[:3] == ["obs_id", "obsID", "obs_collection"]
    assert products["obs_id"]["text"] == "Observation ID" and "parent_obsid" in products
    assert requests.post(COLUMNS_CONFIG, data={"colConfigId": "Mast.Nothing"}, timeout=30).json() == {}


def test_cone_answers_every_observation_whose_footprint_meets_the_circle(archive):
    answer = _invoke("Mast.Caom.Cone", {"ra": 83.63308333, "dec": 22.0145, "radius": 0.001})
    assert answer["status"] == "COMPLETE"
    assert [f["name"] for f in answer["fields"]] == [*CAOM, "distance"]
    assert [f["type"] for f in answer["fields"]][9:12] == ["string", "float", "float"]
    assert _ids(answer) == [*PS1_IDS, "jc6801010", "icb902010"]
    assert {row["distance"] for row in answer["data"]} == {0.0}  # each footprint holds the position
    assert answer["paging"] == {"page": 1, "pageSize": 50000, "pagesFiltered": 1, "rows": 7, "rowsFiltered": 7,
                                "rowsTotal": 7}
    # 2.5 arcmin north-east of the Crab: outside both Hubble fields, the distance is to their nearest edge
    near = _invoke("Mast.Caom.Cone", {"ra": 83.665, "dec": 22.045, "radius": 0.05})
    distances = {row["obs_id"]: round(row["distance"], 1) for row in near["data"]}
    assert distances == {**dict.fromkeys(PS1_IDS, 0.0), "jc6801010": 124.7, "icb902010": 113.7}
    assert _ids(_invoke("Mast.Caom.Cone", {"ra": 83.665, "dec": 22.045, "radius": 0.03})) == PS1_IDS
    assert _ids(_invoke("Mast.Caom.Cone", {"ra": 10.0, "dec": -40.0, "radius": 0.2})) == []


@pytest.mark.parametrize(("filters", "expected"), [
    ([{"paramName": "t_exptime", "values": [{"min": 1000, "max": 2000}]}], ["jc6801010"]),  # a range
    ([{"paramName": "filters", "values": ["F160W", "g"], "separator": ";"}], [PS1_IDS[0], "icb902010"]),  # a list
    ([{"paramName": "obs_id", "values": [], "freeText": "jc68%"}], ["jc6801010"]),  # a wildcard
    ([{"paramName": "obs_id", "values": ["JC6801010"]}], ["jc6801010"]),  # case as MAST's SQL ignores it
    ([{"paramName": "obs_id", "values": [], "freeText": "%"}, {"paramName": "project", "values": ["HST"]},
      {"paramName": "wave_region", "values": ["OPTICAL"]}], ["jc6801010"]),
    ([{"paramName": "calib_level", "values": ["3"]}, {"paramName": "instrument_name", "values": ["WFC3/IR"]}],
     ["icb902010"]),
])
def test_filtered_semantics(archive, filters, expected):
    answer = _invoke("Mast.Caom.Filtered", {"columns": "*", "filters": filters})
    assert [f["name"] for f in answer["fields"]] == [*CAOM, "objID"]
    assert _ids(answer) == expected


def test_filtered_position_unknown_columns_count_and_pages(archive):
    position = "83.63308333, 22.0145, 0.0333"
    answer = _invoke("Mast.Caom.Filtered.Position",
                     {"columns": "*", "filters": [{"paramName": "obs_collection", "values": ["HST"]}],
                      "position": position})
    assert [f["name"] for f in answer["fields"]][-4:] == ["obsid", "objID", "objID1", "distance"]
    assert _ids(answer) == ["jc6801010", "icb902010"]
    assert answer["data"][0]["objID1"] == answer["data"][0]["objID"] == "144510232"
    bad = _invoke("Mast.Caom.Filtered", {"columns": "*", "filters": [{"paramName": "wave_regio", "values": ["X"]}]})
    assert bad == {"status": "ERROR", "msg": "Invalid column name 'wave_regio'.", "data": [], "fields": []}
    count = _invoke("Mast.Caom.Filtered", {"columns": "COUNT_BIG(*)",
                                           "filters": [{"paramName": "obs_collection", "values": ["PS1"]}]})
    assert count["data"] == [{"Column1": 5}] and count["fields"] == [{"name": "Column1", "type": "string"}]
    second = _invoke("Mast.Caom.Cone", {"ra": 83.63308333, "dec": 22.0145, "radius": 0.001}, pagesize=3, page=2)
    assert _ids(second) == PS1_IDS[3:] + ["jc6801010"]
    assert second["paging"]["pagesFiltered"] == 3 and second["paging"]["rowsFiltered"] == 7


def test_hubble_through_astroquery_down_to_the_drizzled_image(archive):
    from astroquery.mast import Observations

    Observations.enable_cloud_dataset(provider="AWS", verbose=False)
    obs = Observations.query_criteria(coordinates=CRAB, obs_collection="HST", project="HST", dataproduct_type="image",
                                      obs_id="*", wave_region="OPTICAL", intentType="science", dataRights="PUBLIC",
                                      radius=2 * u.arcmin)
    assert list(obs["obs_id"]) == ["jc6801010"]
    assert obs[0]["instrument_name"] == "ACS/WFC" and obs[0]["filters"] == "F550M" and obs[0]["t_exptime"] == 1380
    products = Observations.get_unique_product_list(obs[0])
    assert list(products["productFilename"][:4]) == ["jc6801010_asn.fits", "jc6801010_drz.fits",
                                                      "jc6801010_drc.fits", "jc6801010_trl.fits"]
    assert len(products) == 14 and set(products["parent_obsid"]) == {"24140851"}
    drizzled = Observations.filter_products(products, productType="SCIENCE",
                                            productSubGroupDescription=["DRC", "DRZ"], mrp_only=True)
    assert list(drizzled["dataURI"]) == [DRZ, "mast:HST/product/jc6801010_drc.fits"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exposures MAST lists are not held: astroquery warns per file
        uris = Observations.get_cloud_uris(products)
    assert uris == [f"s3://stpubdata/hst/public/jc68/jc6801010/jc6801010_{s}.fits" for s in ("asn", "drz", "drc")]
    key = "hst/public/jc68/jc6801010/jc6801010_drz.fits"
    assert int(drizzled["size"][0]) == archive.s3.client.head_object(Bucket="stpubdata", Key=key)["ContentLength"]
    with fits.open(Observations.get_cloud_uri(DRZ), use_fsspec=True, fsspec_kwargs={"anon": True}) as hdul:
        assert [h.name for h in hdul] == ["PRIMARY", "SCI", "WHT", "CTX", "HDRTAB"]
        assert hdul[0].header["ROOTNAME"] == "jc6801010" and hdul[0].header["INSTRUME"] == "ACS"
        assert hdul["SCI"].data.dtype == ">f4" and hdul["CTX"].data.dtype == ">i4"
        x, y = WCS(hdul["SCI"].header).world_to_pixel(CRAB)
        assert 400 < x < 600 and 400 < y < 600  # the Crab pulsar near the middle of the 1000 x 1000 field
        assert abs(WCS(hdul["SCI"].header).proj_plane_pixel_scales()[0].to_value(u.arcsec) - 0.05) < 1e-6


@pytest.mark.parametrize("use_cloud_path", [None, "True"])
def test_path_lookup_answers_hst_paths(archive, use_cloud_path):
    params = {"uri": [DRZ, "mast:HST/product/jc6801i4q_flt.fits", "mast:HST/product/does_not_exist.fits"]}
    if use_cloud_path:
        params["use_cloud_path"] = use_cloud_path
    assert requests.get(PATH_LOOKUP, params=params, timeout=30).json() == {
        DRZ: {"status_code": 200, "path": "/hst/public/jc68/jc6801010/jc6801010_drz.fits"},
        "mast:HST/product/jc6801i4q_flt.fits": {"status_code": 200,
                                                "path": "/hst/public/jc68/jc6801i4q/jc6801i4q_flt.fits"},
        "mast:HST/product/does_not_exist.fits": {"status_code": 404, "path": None},
    }


def test_pan_starrs_as_our_tutorials_query_it(archive):
    from astroquery.mast import Observations

    obs = Observations.query_criteria(coordinates=CRAB, radius=0.004445 * u.deg, instrument_name="GPC1",
                                      obs_collection="PS1")
    assert list(obs["obs_id"]) == PS1_IDS and obs.colnames[-3:] == ["objID", "objID1", "distance"]
    products = Observations.filter_products(Observations.get_product_list(obs), extension="fits",
                                            productType="SCIENCE")
    assert list(products["productFilename"]) == [f"{i}.unconv.fits" for i in PS1_IDS]
    assert Observations.query_region(CRAB, radius=0.001, pagesize=2)["obs_id"].tolist() == [
        *PS1_IDS, "jc6801010", "icb902010"]
