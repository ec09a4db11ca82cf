"""Downloads for partners and portals: the data package zip, the DCAT description and the home page."""

from __future__ import annotations

import io
import json
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

from datasette.app import Datasette
from rdflib import RDF, Graph, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF

from loaders.datapackage_zip import ZIP_NAME, write_zip
from loaders.publication import Publication
from loaders.schema import PROJECT_ROOT, Package

DB = "prestatieafspraken"
BIN = Path(sys.executable).parent


def base_url() -> str:
    return Publication.load(PROJECT_ROOT).base_url


async def test_home_page_tells_a_first_time_visitor_everything(ds: Datasette, db_path: Path) -> None:
    page = (await ds.client.get("/")).text
    conn = sqlite3.connect(db_path)
    for (part,) in conn.execute("select part_nl from coverage where status = 'ontbreekt'"):
        assert part in page, part
    for href in (f"/{DB}.db", f"/-/downloads/{ZIP_NAME}", "/-/dcat.jsonld", "/-/dcat.ttl", "/-/charts",
                 f"/{DB}/coverage_overview", "/-/datamodel", "https://creativecommons.org/licenses/by/4.0/"):
        assert f'href="{href}"' in page, href
    assert f'href="/{DB}/search"' in page
    version = dict(conn.execute("select key, value from build_info"))["data_version"]
    assert "dataversie" in page and version in page
    assert "How complete is it?" in page and "Hoe volledig is het?" in page


async def test_sqlite_file_downloads_as_sqlite(ds: Datasette, db_path: Path) -> None:
    response = await ds.client.get(f"/{DB}.db")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.sqlite3"
    assert f'filename="{DB}.db"' in response.headers["content-disposition"]
    assert response.content == db_path.read_bytes()


async def test_only_the_database_download_is_relabelled(ds: Datasette) -> None:
    assert (await ds.client.get(f"/{DB}.json")).headers["content-type"].startswith("application/json")
    assert (await ds.client.get(f"/{DB}/sources.csv")).headers["content-type"].startswith("text/plain")


async def test_data_package_zip_downloads_and_validates(ds: Datasette, tmp_path: Path, package: Package) -> None:
    response = await ds.client.get(f"/-/downloads/{ZIP_NAME}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert ZIP_NAME in response.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        names = set(archive.namelist())
        archive.extractall(tmp_path)
    assert {"datapackage.json", "README.md", "LICENSE-DATA.md", "CITATION.cff"} <= names
    assert {r.path for r in package.resources} <= names
    descriptor = json.loads((tmp_path / "datapackage.json").read_text(encoding="utf-8"))
    assert descriptor["licenses"][0]["name"] == "CC-BY-4.0"
    proc = subprocess.run([str(BIN / "frictionless"), "validate", "datapackage.json"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:]


async def test_unknown_download_is_a_clean_404(ds: Datasette) -> None:
    for name in ("nope.zip", "prestatieafspraken.db", "datapackage.yaml"):
        response = await ds.client.get(f"/-/downloads/{name}")
        assert response.status_code == 404, name
        assert "Traceback" not in response.text
    traversal = await ds.client.get("/-/downloads/..%2F..%2Fdatapackage.yaml", follow_redirects=True)
    assert traversal.status_code == 404


def test_zip_is_reproducible(package: Package, tmp_path: Path) -> None:
    first = write_zip(package, tmp_path / "a.zip").read_bytes()
    second = write_zip(package, tmp_path / "b.zip").read_bytes()
    assert first == second


async def dcat_graph(ds: Datasette, suffix: str, fmt: str) -> Graph:
    response = await ds.client.get(f"/-/dcat.{suffix}")
    assert response.status_code == 200
    return Graph().parse(data=response.text, format=fmt)


async def test_dcat_has_the_mandatory_properties(ds: Datasette, package: Package) -> None:
    graph = await dcat_graph(ds, "jsonld", "json-ld")
    datasets = list(graph.subjects(RDF.type, DCAT.Dataset))
    assert len(datasets) == 1
    dataset = datasets[0]
    titles = {str(t) for t in graph.objects(dataset, DCTERMS.title)}
    assert package.title in titles
    assert {t.language for t in graph.objects(dataset, DCTERMS.description)} == {"nl", "en"}
    publisher = graph.value(dataset, DCTERMS.publisher)
    assert graph.value(publisher, FOAF.name)
    assert graph.value(dataset, DCTERMS.license) == URIRef("http://creativecommons.org/licenses/by/4.0/deed.nl")
    assert graph.value(dataset, DCTERMS.identifier)
    assert graph.value(dataset, DCTERMS.modified)
    assert set(graph.objects(dataset, DCTERMS.language))
    assert set(graph.objects(dataset, DCAT.theme))
    distributions = list(graph.objects(dataset, DCAT.distribution))
    tables = [r.name for r in package.resources]
    assert len(distributions) >= 2 + len(tables)
    for distribution in distributions:
        assert graph.value(distribution, DCAT.accessURL), distribution
        assert graph.value(distribution, DCTERMS["format"]), distribution
        assert graph.value(distribution, DCTERMS.license), distribution
    urls = {str(graph.value(d, DCAT.downloadURL)) for d in distributions}
    assert any(u.endswith(f"/{DB}.db") for u in urls)
    assert any(u.endswith(f"/-/downloads/{ZIP_NAME}") for u in urls)
    for table in tables:
        assert f"{base_url()}/{DB}/{table}.csv?_stream=on&_dl=1" in urls, table


async def test_dcat_download_urls_work(ds: Datasette) -> None:
    graph = await dcat_graph(ds, "jsonld", "json-ld")
    for url in {str(o) for o in graph.objects(None, DCAT.downloadURL)}:
        path = url.split("://", 1)[1].split("/", 1)[1]
        response = await ds.client.get("/" + path)
        assert response.status_code == 200, url


async def test_dcat_turtle_matches_jsonld(ds: Datasette) -> None:
    from rdflib.compare import isomorphic

    assert isomorphic(await dcat_graph(ds, "jsonld", "json-ld"), await dcat_graph(ds, "ttl", "turtle"))

