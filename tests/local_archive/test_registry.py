"""The stand-in RegTAP registry answers pyvo's registry searches as GAVO's does: records, order, serialization."""

from __future__ import annotations

import pyvo
import requests
from astropy.io.votable import parse_single_table

REGTAP_SYNC = "http://reg.g-vo.org/tap/sync"


def test_registry_finds_heasarc_chandra_sia_first(archive):
    services = pyvo.registry.search(servicetype="sia", keywords="chandra heasarc")
    # ivoid order, as GAVO answers (service_formats.md section 3.1): chanmaster sorts before skyview/*.
    assert [s.ivoid for s in services] == ["ivo://nasa.heasarc/chanmaster", "ivo://nasa.heasarc/skyview/goodsacisfb"]
    assert services[0].access_url == "https://heasarc.gsfc.nasa.gov/xamin/vo/sia?table=chanmaster&"


def test_chandra_x_ray_image_services_in_the_recorded_order(archive):
    # NAVO's recorded regsearch(servicetype='sia', keywords=['chandra'], waveband='x-ray'): punctuation-blind order.
    services = pyvo.regsearch(servicetype="sia", keywords=["chandra"], waveband="x-ray")
    assert [(s.short_name, s.ivoid) for s in services] == [
        ("CDA", "ivo://cxc.harvard.edu/cda.siap"), ("CSCR1", "ivo://cxc.harvard.edu/cscr1.siap"),
        ("CSC", "ivo://cxc.harvard.edu/cscr2.1.siap"), ("CSCR2", "ivo://cxc.harvard.edu/cscr2.siap"),
        ("CSC", "ivo://cxc.harvard.edu/csc.siap"), ("Chandra", "ivo://nasa.heasarc/chanmaster"),
        ("GOODSACISFB", "ivo://nasa.heasarc/skyview/goodsacisfb")]


def test_xray_spectral_services(archive):
    services = pyvo.regsearch(servicetype="ssa", waveband="x-ray")
    assert [(s.ivoid, s.short_name) for s in services] == [
        ("ivo://nasa.heasarc/chanmaster", "Chandra"), ("ivo://nasa.heasarc/halomaster", "HALOMASTER"),
        ("ivo://nasa.heasarc/hitomaster", "HITOMASTER"), ("ivo://nasa.heasarc/xrismmastr", "XRISMMASTR"),
        ("ivo://nasa.heasarc/xtemaster", "RXTE")]
    assert services[0].access_url == "https://heasarc.gsfc.nasa.gov/xamin/vo/ssa?table=chanmaster&"


def test_heasarc_tap_record(archive):
    services = pyvo.regsearch(servicetype="tap", keywords=["heasarc"])
    xamin = [s for s in services if s.ivoid == "ivo://nasa.heasarc/services/xamin"][0]
    assert (xamin.res_title, xamin.short_name) == ("HEASARC Xamin Catalog Interface", "HEASARC")
    assert xamin.access_url == "https://heasarc.gsfc.nasa.gov/xamin/vo/tap"
    master = [s for s in pyvo.regsearch(keywords=["XMM-Newton"]) if s.ivoid == "ivo://nasa.heasarc/xmmmaster"][0]
    assert master.res_title == "XMM-Newton Master Log & Public Archive"
    assert set(master.access_modes()) == {"conesearch", "tap#aux", "web"}


def test_registry_tap_search_for_panstarrs(archive):
    services = pyvo.regsearch(keywords=["panstarrs"], servicetype="tap")
    assert [s.ivoid for s in services] == ["ivo://archive.stsci.edu/caomtap", "ivo://archive.stsci.edu/ps1dr2"]
    assert services[0].access_url == "https://mast.stsci.edu/vo-tap/api/v0.1/caom"


def test_answers_are_binary_votables_with_regtap_utypes(archive):
    query = "SELECT ivoid, res_title, created, region_of_regard FROM rr.resource WHERE ivoid LIKE '%chanmaster'"
    answer = requests.post(REGTAP_SYNC, data={"REQUEST": "doQuery", "LANG": "ADQL", "QUERY": query}, timeout=10)
    assert b'<STREAM encoding="base64">' in answer.content and b"<TABLEDATA>" not in answer.content
    table = parse_single_table(__import__("io").BytesIO(answer.content))
    fields = {f.name: f for f in table.fields}
    assert (fields["res_title"].datatype, fields["res_title"].utype) == ("unicodeChar", "xpath:title")
    assert (fields["created"].xtype, fields["region_of_regard"].datatype) == ("timestamp", "float")
    assert list(table.to_table()["res_title"]) == ["Chandra Observations"]


def test_zcat_cone_services_and_the_cosmos_image_service(archive):
    import pyvo

    zcat = pyvo.regsearch(servicetype="scs", keywords=["zcat"])
    assert [r.ivoid for r in zcat] == ["ivo://cds.vizier/j/mnras/339/652", "ivo://cds.vizier/vii/259",
                                       "ivo://nasa.heasarc/sixdfgs", "ivo://nasa.heasarc/uzc",
                                       "ivo://nasa.heasarc/zcat", "ivo://wfau.roe.ac.uk/twompz-dsa"]
    cfaz = [r for r in zcat if "CFAZ" in r.short_name][0]
    assert cfaz.access_url == "https://heasarc.gsfc.nasa.gov/xamin/vo/cone?showoffsets&table=zcat&"
    cosmos = pyvo.regsearch(servicetype="sia", keywords=["cosmos", "irsa"])
    assert [(r.short_name, r.res_title) for r in cosmos] == [("COSMOS", "Cosmic Evolution Survey with HST")]


def test_the_reversed_registry_answers_the_same_records_the_other_way_round():
    """What the notebook harness runs our tutorials against (conftest.py): no order may be relied on."""
    import io

    import pytest

    from local_archive.services.registry import registry_service

    query = "SELECT ivoid FROM rr.resource WHERE ivoid LIKE 'ivo://cxc.harvard.edu/%'"
    usual, reversed_ = (parse_single_table(io.BytesIO(registry_service(order).run(query))).to_table()
                        for order in ("production", "reversed"))
    assert list(usual["ivoid"]) == ["ivo://cxc.harvard.edu/cda.siap", "ivo://cxc.harvard.edu/cscr1.siap",
                                    "ivo://cxc.harvard.edu/cscr2.1.siap", "ivo://cxc.harvard.edu/cscr2.siap",
                                    "ivo://cxc.harvard.edu/csc.siap"]
    assert list(reversed_["ivoid"]) == list(usual["ivoid"])[::-1]
    # an explicit ORDER BY is honoured either way
    ordered = "SELECT ivoid FROM rr.resource WHERE ivoid LIKE 'ivo://cxc.harvard.edu/%' ORDER BY ivoid"
    assert list(parse_single_table(io.BytesIO(registry_service("reversed").run(ordered))).to_table()["ivoid"]) \
        == sorted(usual["ivoid"])
    with pytest.raises(ValueError, match="registry order must be 'production' or 'reversed', got 'random'"):
        registry_service("random")
