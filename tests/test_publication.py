"""Harvestable by portals, valid to every profile, citable by anyone.

The DCAT description is checked with pyshacl against the published SHACL shapes of DCAT-AP-NL 3.0 and
DCAT-AP 3.0.1 (vendored in tests/standards/), every distribution URL is fetched, the zip's
datapackage.json is checked against the Data Package 1.0 and 2.0 JSON Schemas, CITATION.cff against the
Citation File Format 1.2.0 schema, and the citation is compared wherever it appears.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import re
import sqlite3
import zipfile
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from datasette.app import Datasette
from pyshacl import validate as shacl_validate
from rdflib import RDF, Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, SH, SKOS

from loaders.datapackage_zip import ZIP_NAME, write_zip
from loaders.dcat import licence_uri
from loaders.publication import (
    BASE_URL_ENV,
    CITATION_FILE,
    Publication,
    PublicationError,
    citation,
    citation_cff,
)
from loaders.schema import PROJECT_ROOT, Package
from loaders.yaml_files import load_yaml

from .conftest import ROOT

DB = "prestatieafspraken"
STANDARDS = Path(__file__).parent / "standards"
EVIL = {"host": "evil.example", "x-forwarded-host": "evil2.example", "x-forwarded-proto": "https"}

# Every shape file, with the results each may still give. Mandatory, range and vocabulary shapes: none
# but the one warning docs/dcat.md explains (the publisher is not an EU body). Recommended shapes: the
# properties docs/dcat.md lists with the reason they are not given.
SHAPES: dict[str, set[str]] = {
    "dcat-ap-nl-3.0/dcat-ap-nl-SHACL.ttl": set(),
    "dcat-ap-nl-3.0/dcat-ap-nl-SHACL-klassebereik.ttl": set(),
    "dcat-ap-nl-3.0/dcat-ap-nl-SHACL-klassebereik-codelijsten.ttl": set(),
    "dcat-ap-nl-3.0/dcat-ap-SHACL.ttl": set(),
    "dcat-ap-3.0.1/shapes.ttl": set(),
    "dcat-ap-3.0.1/range.ttl": set(),
    "dcat-ap-3.0.1/mdr-vocabularies.shape.ttl": {"dct:publisher"},
    "dcat-ap-nl-3.0/dcat-ap-nl-SHACL-aanbevolen.ttl": {"dct:conformsTo", "dcat:accessService"},
    "dcat-ap-3.0.1/shapes_recommended.ttl": {"dcatap:availability", "dcat:bbox", "dcat:centroid", "dct:issued",
                                            "dct:type"},
}
PREFIXES = {str(DCAT): "dcat:", str(DCTERMS): "dct:", "http://data.europa.eu/r5r/": "dcatap:"}


@cache
def shapes(name: str) -> Graph:
    """Each shape file parsed once per test session."""
    return Graph().parse(STANDARDS / name, format="turtle")


@cache
def json_schema(name: str) -> Any:
    schema = json.loads((STANDARDS / name).read_text(encoding="utf-8"))
    return jsonschema.validators.validator_for(schema)(schema)


def curie(uri: str) -> str:
    for namespace, prefix in PREFIXES.items():
        if uri.startswith(namespace):
            return prefix + uri[len(namespace):]
    return uri


async def dcat_graph(ds: Datasette, suffix: str = "jsonld", headers: dict[str, str] | None = None) -> Graph:
    response = await ds.client.get(f"/-/dcat.{suffix}", headers=headers or {})
    assert response.status_code == 200
    return Graph().parse(data=response.text, format="json-ld" if suffix == "jsonld" else "turtle")


def build_version(db_path: Path) -> str:
    with sqlite3.connect(db_path) as conn:
        return str(conn.execute("select value from build_info where key = 'data_version'").fetchone()[0])


# --- DCAT against the profiles -------------------------------------------------------------------------------

@pytest.mark.parametrize("shape_file", list(SHAPES))
async def test_dcat_validates_against_the_profile_shapes(ds: Datasette, shape_file: str) -> None:
    graph = await dcat_graph(ds)
    _conforms, report, text = shacl_validate(graph, shacl_graph=shapes(shape_file), inference="none")
    results = list(report.objects(None, SH.result))
    violations = [r for r in results if report.value(r, SH.resultSeverity) == SH.Violation]
    assert not violations, text[:4000]
    remaining = {curie(str(report.value(r, SH.resultPath))) for r in results}
    assert remaining == SHAPES[shape_file], text[:4000]


def test_every_remaining_recommendation_is_explained_in_the_docs() -> None:
    doc = (ROOT / "docs" / "dcat.md").read_text(encoding="utf-8")
    for remaining in set().union(*SHAPES.values()):
        assert f"`{remaining}`" in doc, remaining


async def test_turtle_validates_like_the_jsonld(ds: Datasette) -> None:
    graph = await dcat_graph(ds, "ttl")
    conforms, _report, text = shacl_validate(graph, shacl_graph=shapes("dcat-ap-nl-3.0/dcat-ap-nl-SHACL.ttl"))
    assert conforms, text[:3000]


async def test_licence_publisher_creator_and_contact_are_what_the_profile_asks(ds: Datasette,
                                                                           package: Package) -> None:
    graph = await dcat_graph(ds)
    donl = shapes("dcat-ap-nl-3.0/donl-licenses.ttl")
    dataset = next(graph.subjects(RDF.type, DCAT.Dataset))
    catalog = next(graph.subjects(RDF.type, DCAT.Catalog))
    licence = graph.value(dataset, DCTERMS.license)
    assert licence == URIRef(licence_uri(package))
    assert (None, SKOS.hasTopConcept, licence) in donl, "not a value of the data.overheid.nl licence list"
    for distribution in graph.objects(dataset, DCAT.distribution):
        assert graph.value(distribution, DCTERMS.license) == licence
    foaf_org = URIRef("http://xmlns.com/foaf/0.1/Organization")
    for node in (dataset, catalog):
        for agent in (graph.value(node, DCTERMS.publisher), graph.value(node, DCTERMS.creator)):
            assert isinstance(agent, URIRef) and (agent, RDF.type, foaf_org) in graph
        contact = graph.value(node, DCAT.contactPoint)
        vcard = "http://www.w3.org/2006/vcard/ns#"
        assert graph.value(contact, URIRef(vcard + "hasURL")) or graph.value(contact, URIRef(vcard + "hasEmail"))


def test_an_unlisted_licence_is_refused_with_a_clear_message(package: Package) -> None:
    other = Package(root=package.root, raw={**package.raw, "licenses": [{"name": "ODbL-1.0"}]})
    with pytest.raises(ValueError, match=r"ODbL-1.0.*data.overheid.nl"):
        licence_uri(other)
    cc0 = Package(root=package.root, raw={**package.raw, "licenses": [
        {"name": "CC0-1.0", "path": "https://creativecommons.org/publicdomain/zero/1.0/"}]})
    listed = {str(o) for o in shapes("dcat-ap-nl-3.0/donl-licenses.ttl").objects(None, SKOS.hasTopConcept)}
    assert {licence_uri(package), licence_uri(cc0)} <= listed


# --- Persistent identifiers --------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/-/dcat.jsonld", "/-/dcat.ttl", f"/-/downloads/{ZIP_NAME}", "/"])
async def test_host_headers_change_nothing(ds: Datasette, path: str) -> None:
    plain = await ds.client.get(path)
    forged = await ds.client.get(path, headers=EVIL)
    assert plain.status_code == forged.status_code == 200
    assert plain.content == forged.content
    assert b"evil" not in forged.content


# Namespaces of the vocabularies and lists the description refers to; every other URI is the site's own.
EXTERNAL = ("http://publications.europa.eu/resource/authority/", "https://www.iana.org/assignments/media-types/",
            "http://creativecommons.org/licenses/", "https://dcat.overheid.nl/", "https://identifier.overheid.nl/",
            "https://specs.frictionlessdata.io/", "http://www.w3.org/", "http://xmlns.com/foaf/",
            "http://purl.org/dc/terms/", "http://www.w3.org/2004/02/skos/core#")


async def test_every_identifier_starts_with_the_base_url(ds: Datasette, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(BASE_URL_ENV, "https://data.example.nl/")
    graph = await dcat_graph(ds, headers=EVIL)
    ours = {str(t) for triple in graph for t in triple if isinstance(t, URIRef) and not str(t).startswith(EXTERNAL)}
    assert len(ours) > 20
    assert all(u.startswith("https://data.example.nl/") for u in ours), sorted(ours)[:10]
    dataset = next(graph.subjects(RDF.type, DCAT.Dataset))
    assert graph.value(dataset, DCTERMS.identifier) == Literal("https://data.example.nl/-/dcat.jsonld#dataset")
    assert graph.value(dataset, DCAT.landingPage) == URIRef("https://data.example.nl/")


def test_the_zip_uses_the_base_url_of_its_build(package: Package, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(BASE_URL_ENV, "https://data.example.nl")
    with zipfile.ZipFile(write_zip(package, tmp_path / ZIP_NAME)) as archive:
        descriptor = json.loads(archive.read("datapackage.json"))
        readme = archive.read("README.md").decode()
    assert descriptor["homepage"] == "https://data.example.nl/"
    assert descriptor["id"] == "https://data.example.nl/-/dcat.jsonld#dataset"
    assert "https://data.example.nl/" in descriptor["citation"] and "https://data.example.nl/" in readme


@pytest.mark.parametrize("bad", ["data.example.nl", "ftp://data.example.nl", "https://data.example.nl/?a=1"])
def test_a_bad_base_url_is_refused_naming_the_variable(bad: str) -> None:
    with pytest.raises(PublicationError, match=BASE_URL_ENV):
        Publication.load(PROJECT_ROOT, environ={BASE_URL_ENV: bad})


async def test_links_for_the_visitor_follow_x_forwarded_host(ds: Datasette) -> None:
    response = await ds.client.get(f"/{DB}/agreements.json?_size=1", headers={"x-forwarded-host": "data.example"})
    assert response.json()["next_url"].startswith("http://data.example/")


# --- Downloads served as described -------------------------------------------------------------------------

def distribution_urls(graph: Graph) -> list[tuple[str, str]]:
    """(URL, declared media type) for every access and download URL of every distribution."""
    out = []
    for distribution in graph.subjects(RDF.type, DCAT.Distribution):
        media_type = str(graph.value(distribution, DCAT.mediaType)).split("/media-types/", 1)[1]
        for prop in (DCAT.accessURL, DCAT.downloadURL):
            out += [(str(url), media_type) for url in graph.objects(distribution, prop)]
    return out


def csv_rows(body: bytes) -> int:
    return sum(1 for _ in csv.reader(io.StringIO(body.decode("utf-8")))) - 1


async def test_every_distribution_url_serves_its_media_type_and_all_rows(db_path: Path) -> None:
    # Pages of 2 rows and at most 5 rows a request: a URL that served one page, or one capped answer, instead
    # of every row would fail here.
    settings = {**json.loads((ROOT / "settings.json").read_text(encoding="utf-8")), "max_returned_rows": 5,
                "default_page_size": 2}
    ds = Datasette(immutables=[str(db_path)], metadata=load_yaml((ROOT / "metadata.yml").read_text()),
                   plugins_dir=str(ROOT / "plugins"), template_dir=str(ROOT / "templates"), settings=settings)
    graph = await dcat_graph(ds)
    base = Publication.load(PROJECT_ROOT).base_url
    urls = distribution_urls(graph)
    assert len(urls) >= 2 * 3
    conn = sqlite3.connect(db_path)
    largest = 0
    for url, media_type in urls:
        assert url.startswith(base + "/"), url
        response = await ds.client.get(url[len(base):])
        assert response.status_code == 200, url
        assert response.headers["content-type"].split(";")[0].strip() == media_type, url
        assert "attachment" in response.headers.get("content-disposition", ""), url
        if media_type == "text/csv":
            assert response.headers["content-type"] == "text/csv; charset=utf-8"
            match = re.search(rf"/{DB}/([^/?]+)\.csv\?", url)
            assert match, url
            assert f'filename="{match.group(1)}.csv"' in response.headers["content-disposition"]
            (count,) = conn.execute(f'select count(*) from "{match.group(1)}"').fetchone()
            assert csv_rows(response.content) == count, url
            largest = max(largest, count)
        elif media_type == "application/vnd.sqlite3":
            assert response.content == db_path.read_bytes()
        else:
            assert response.content == (db_path.parent / ZIP_NAME).read_bytes()
    assert largest > 5, "no table is larger than a page; the test would not notice a capped download"


async def test_no_distribution_is_a_capped_json_page(ds: Datasette) -> None:
    for url, _media_type in distribution_urls(await dcat_graph(ds)):
        assert "_size=max" not in url and ".json" not in url, url


# --- The data package in the zip ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
async def unzipped(ds: Datasette, tmp_path_factory: pytest.TempPathFactory) -> Path:
    response = await ds.client.get(f"/-/downloads/{ZIP_NAME}")
    assert response.status_code == 200
    folder = tmp_path_factory.mktemp("unzipped")
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        archive.extractall(folder)
    return folder


@pytest.mark.parametrize("schema", ["datapackage/data-package-1.0.json", "datapackage/tabular-data-package-1.0.json",
                                    "datapackage/datapackage-2.0.json"])
def test_descriptor_is_valid_against_the_data_package_schemas(unzipped: Path, schema: str) -> None:
    descriptor = json.loads((unzipped / "datapackage.json").read_text(encoding="utf-8"))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in json_schema(schema).iter_errors(descriptor)]
    assert not errors, errors[:10]


def test_descriptor_states_version_sources_licence_and_file_hashes(unzipped: Path, db_path: Path) -> None:
    descriptor = json.loads((unzipped / "datapackage.json").read_text(encoding="utf-8"))
    assert descriptor["version"] == build_version(db_path)
    assert descriptor["licenses"][0]["name"] == "CC-BY-4.0"
    with sqlite3.connect(db_path) as conn:
        urls = {url for (url,) in conn.execute("select url from sources")}
    assert {s["path"] for s in descriptor["sources"]} == urls
    for resource in descriptor["resources"]:
        content = (unzipped / resource["path"]).read_bytes()
        assert resource["bytes"] == len(content)
        assert resource["hash"] == "sha256:" + hashlib.sha256(content).hexdigest()


def test_zip_readme_and_docs_have_no_dead_links(unzipped: Path, package: Package) -> None:
    readme = (unzipped / "README.md").read_text(encoding="utf-8")
    assert "frictionless validate datapackage.json" in readme
    base = Publication.load(PROJECT_ROOT).base_url
    allowed = {package.license["path"]}
    for doc in unzipped.rglob("*.md"):
        text = doc.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if not target.startswith(("http://", "https://")):
                assert (doc.parent / target.split("#")[0]).is_file(), (doc.name, target)
        for target in re.findall(r"https?://[^\s)<>\]`]+", text):
            target = target.rstrip(".,;")
            assert target in allowed or target.startswith(base + "/"), (doc.name, target)
    for resource in package.resources:
        assert f"]({resource.path})" in readme


async def test_site_links_in_the_zip_readme_answer(ds: Datasette, unzipped: Path) -> None:
    base = Publication.load(PROJECT_ROOT).base_url
    for target in set(re.findall(re.escape(base) + r"(/[^\s)]*)", (unzipped / "README.md").read_text())):
        assert (await ds.client.get(target.rstrip(".,"))).status_code == 200, target


# --- One citation everywhere -------------------------------------------------------------------------------

def test_citation_cff_is_current_and_valid(package: Package) -> None:
    committed = (ROOT / CITATION_FILE).read_text(encoding="utf-8")
    assert committed == citation_cff(package, Publication.load(PROJECT_ROOT, environ={})), \
        "run `.venv/bin/python -m loaders.publication` and commit CITATION.cff"
    errors = list(json_schema("citation-file-format/schema-1.2.0.json").iter_errors(load_yaml(committed)))
    assert not errors, [e.message for e in errors]


def test_zip_citation_cff_names_the_data_version(unzipped: Path, db_path: Path, package: Package) -> None:
    cff = load_yaml((unzipped / "CITATION.cff").read_text(encoding="utf-8"))
    assert not list(json_schema("citation-file-format/schema-1.2.0.json").iter_errors(cff))
    assert cff["version"] == build_version(db_path)
    assert cff["title"] == package.title


async def test_the_citation_is_identical_wherever_it_appears(ds: Datasette, db_path: Path, unzipped: Path,
                                                             package: Package) -> None:
    publication = Publication.load(PROJECT_ROOT)
    expected = citation(package, publication, build_version(db_path), publication.landing_page)
    assert build_version(db_path) in expected and package.title in expected
    home = html.unescape((await ds.client.get("/")).text)
    assert expected in home
    graph = await dcat_graph(ds)
    dataset = next(graph.subjects(RDF.type, DCAT.Dataset))
    assert str(graph.value(dataset, DCTERMS.bibliographicCitation)) == expected
    assert package.title in {str(t) for t in graph.objects(dataset, DCTERMS.title)}
    assert json.loads((unzipped / "datapackage.json").read_text(encoding="utf-8"))["citation"] == expected
    assert expected in (unzipped / "README.md").read_text(encoding="utf-8")
    assert expected in load_yaml((unzipped / "CITATION.cff").read_text(encoding="utf-8"))["message"]
    template = citation(package, Publication.load(PROJECT_ROOT, environ={}))
    for static in ("README.md", "LICENSE-DATA.md"):
        assert template in (ROOT / static).read_text(encoding="utf-8"), static
    assert template in load_yaml((ROOT / CITATION_FILE).read_text(encoding="utf-8"))["message"]


async def test_dcat_coverage_names_every_municipality_the_data_holds(ds: Datasette, db_path: Path) -> None:
    """Every municipality with 2024 agreements in the data is in dct:coverage, by name, and coverage names
    no place the documents do not."""
    with sqlite3.connect(db_path) as conn:
        held = {name for (name,) in conn.execute("select distinct municipality from documents")}
        current = {name for (name,) in conn.execute(
            "select distinct d.municipality from documents d join agreements a on a.document_id = d.id "
            "where d.period_start like '2024%'")}
    graph = Graph().parse(data=(await ds.client.get("/-/dcat.jsonld")).text, format="json-ld")
    dataset = next(graph.subjects(RDF.type, DCAT.Dataset))
    named = {str(graph.value(place, SKOS.prefLabel)) for place in graph.objects(dataset, DCTERMS.coverage)}
    assert current and current <= named <= held
