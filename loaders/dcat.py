"""A DCAT-AP-NL 3.0 description of the catalogue, the dataset and its distributions, as JSON-LD.

Generated from datapackage.yaml (title, description, licence, keywords, tables), publication.yaml
(base URL, publisher, contact point, spatial coverage, themes) and the build (data version, build
time), so portals such as data.overheid.nl harvest the same facts the site shows. Every URI starts
with the configured base URL; nothing comes from the request.

Controlled values come from the lists the profile names: EU file types, data themes, languages,
access rights and frequencies, IANA media types, and the licence list of data.overheid.nl. Each such
value carries the typing triples the vocabularies themselves state (its class and skos:inScheme), as
the profile's own examples do, so that a closed-world SHACL run sees what a harvester knows.
"""

from __future__ import annotations

import re
from typing import Any

from .datapackage_zip import TABULAR_PROFILE_V1, ZIP_NAME
from .publication import Publication, citation
from .schema import Package
from .site import DATABASE
from .views import view_definitions

EU = "http://publications.europa.eu/resource/authority"
IANA = "https://www.iana.org/assignments/media-types"
DONL_LICENCES = "https://dcat.overheid.nl/application-profile/donl/taxonomy/licenses"
# The data.overheid.nl licence list names a Creative Commons licence by its Dutch deed: the licence's own address
# (datapackage.yaml `path`, the one place it is written) over http, followed by `deed.nl`.
CREATIVE_COMMONS = re.compile(r"^https?://(creativecommons\.org/(?:licenses|publicdomain)/[a-z-]+/[0-9.]+/)$")
# EU file type and IANA media type of each kind of download. The EU list has no SQLite entry: BIN
# (binary data) is its closest value; the media type says exactly what the file is.
FORMATS = {"csv": ("CSV", "text/csv"), "zip": ("ZIP", "application/zip"),
           "sqlite": ("BIN", "application/vnd.sqlite3")}
LANGUAGES = ("NLD", "ENG")
# English labels of the EU data-theme list, for the themes publication.yaml may name.
THEME_LABELS = {"SOCI": "Population and society", "GOVE": "Government and public sector"}
CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "adms": "http://www.w3.org/ns/adms#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
}


def _text(nl: str, en: str) -> list[dict[str, str]]:
    return [{"@value": " ".join(nl.split()), "@language": "nl"}, {"@value": " ".join(en.split()), "@language": "en"}]


def _ref(uri: str) -> dict[str, str]:
    return {"@id": uri}


def _coded(scheme: str, code: str, cls: str) -> dict[str, Any]:
    """A value of an EU authority list with its class and its scheme, as the list itself states them."""
    return {"@id": f"{EU}/{scheme}/{code}", "@type": cls, "skos:inScheme": _ref(f"{EU}/{scheme}")}


def _theme(code: str) -> dict[str, Any]:
    """A data theme is a skos:Concept, so it carries its label from the EU data-theme list."""
    return {"@id": f"{EU}/data-theme/{code}", "@type": "skos:Concept", "skos:prefLabel": THEME_LABELS[code],
            "skos:inScheme": _ref(f"{EU}/data-theme")}


def licence_uri(package: Package) -> str:
    """The licence's value in the data.overheid.nl licence list, derived from its address in datapackage.yaml."""
    name, path = package.license.get("name", ""), package.license.get("path", "")
    found = CREATIVE_COMMONS.match(path)
    if not found:
        raise ValueError(f"datapackage.yaml: licence {name!r} ({path or 'no path'}) has no value in the "
                         "data.overheid.nl licence list; use a Creative Commons licence with its address as `path`, "
                         "or teach loaders/dcat.py its URI")
    return f"http://{found.group(1)}deed.nl"


def _vocabulary_nodes(package: Package, publication: Publication) -> list[dict[str, Any]]:
    """The typing of every controlled value used, stated once."""
    nodes = [
        {"@id": licence_uri(package), "@type": "dct:LicenseDocument", "dct:title": package.license.get("title", ""),
         "skos:inScheme": _ref(DONL_LICENCES)},
        _coded("access-right", "PUBLIC", "dct:RightsStatement"),
        _coded("frequency", "IRREG", "dct:Frequency"),
        _coded("country", publication.country, "dct:Location"),
        {"@id": f"{EU}/data-theme", "@type": "skos:ConceptScheme", "dct:title": {"@value": "Data theme",
                                                                                  "@language": "en"}},
        *[{"@id": uri, "@type": "dct:Location", "skos:prefLabel": name} for name, uri in publication.municipalities],
        {"@id": "https://specs.frictionlessdata.io/tabular-data-package/", "@type": "dct:Standard",
         "dct:title": "Tabular Data Package 1.0"},
    ]
    nodes += [_coded("language", code, "dct:LinguisticSystem") for code in LANGUAGES]
    nodes += [_theme(code) for code in publication.themes]
    for eu_type, media_type in FORMATS.values():
        nodes.append(_coded("file-type", eu_type, "dct:MediaTypeOrExtent"))
        nodes.append({"@id": f"{IANA}/{media_type}", "@type": "dct:MediaType"})
    for page in (publication.landing_page, publication.url("/-/datamodel")):
        nodes.append({"@id": page, "@type": "foaf:Document"})
    return nodes


def _distribution(publication: Publication, key: str, kind: str, title: tuple[str, str],
                  description: tuple[str, str], url: str, licence: str, modified: str) -> dict[str, Any]:
    eu_type, media_type = FORMATS[kind]
    return {
        "@id": f"{publication.catalog_uri}#distribution-{key}",
        "@type": "dcat:Distribution",
        "dct:title": _text(*title),
        "dct:description": _text(*description),
        # Every distribution is a direct download: the access URL is the download URL itself.
        "dcat:accessURL": _ref(url),
        "dcat:downloadURL": _ref(url),
        "dct:format": _ref(f"{EU}/file-type/{eu_type}"),
        "dcat:mediaType": _ref(f"{IANA}/{media_type}"),
        "dct:language": [_ref(f"{EU}/language/{code}") for code in LANGUAGES],
        "dct:license": _ref(licence),
        "dct:modified": {"@value": modified, "@type": "xsd:dateTime"},
    }


def csv_download_path(name: str) -> str:
    """Datasette's CSV of a table or view: all rows streamed (`_stream=on`), as a text/csv attachment (`_dl=1`)."""
    return f"/{DATABASE}/{name}.csv?_stream=on&_dl=1"


def distributions(package: Package, publication: Publication, modified: str) -> list[dict[str, Any]]:
    licence = licence_uri(package)
    out = [
        _distribution(publication, "sqlite", "sqlite", ("SQLite-database", "SQLite database"),
                      ("Alle tabellen en views in één SQLite-bestand.",
                       "Every table and view in one SQLite file."),
                      publication.url(f"/{DATABASE}.db"), licence, modified),
        _distribution(publication, "datapackage", "zip",
                      ("Frictionless datapakket (CSV + schema)", "Frictionless data package (CSV + schema)"),
                      ("De CSV-bestanden met datapackage.json (schema, bronnen, licentie, hashes), README en "
                       "CITATION.cff.", "The CSV files with datapackage.json (schema, sources, licence, hashes), "
                       "README and CITATION.cff."),
                      publication.url(f"/-/downloads/{ZIP_NAME}"), licence, modified),
    ]
    out[1]["dct:conformsTo"] = _ref(TABULAR_PROFILE_V1)
    for name in [r.name for r in package.resources] + list(view_definitions()):
        out.append(_distribution(
            publication, f"{name}-csv", "csv", (f"Tabel {name} als CSV", f"Table {name} as CSV"),
            (f"Alle rijen van {name}, UTF-8, komma-gescheiden.", f"Every row of {name}, UTF-8, comma-separated."),
            publication.url(csv_download_path(name)), licence, modified))
    return out


def _agent(publication: Publication) -> dict[str, Any]:
    return {"@id": publication.publisher_uri, "@type": ["foaf:Agent", "foaf:Organization"],
            "foaf:name": publication.publisher}


def _contact(publication: Publication) -> dict[str, Any]:
    node: dict[str, Any] = {"@id": f"{publication.catalog_uri}#contact",
                            "@type": ["vcard:Kind", "vcard:Organization"], "vcard:fn": publication.publisher,
                            "vcard:hasURL": _ref(publication.contact_url or publication.landing_page)}
    if publication.contact_email:
        node["vcard:hasEmail"] = _ref(f"mailto:{publication.contact_email}")
    return node


def dcat_document(package: Package, publication: Publication, build_info: dict[str, str],
                  years: tuple[int, int] | None) -> dict[str, Any]:
    """The catalogue, the dataset, one distribution per download and the typing of their values."""
    raw = package.raw
    licence = licence_uri(package)
    modified = build_info.get("built_at", "")
    version = build_info.get("data_version", "")
    languages = [_ref(f"{EU}/language/{code}") for code in LANGUAGES]
    contact = _ref(f"{publication.catalog_uri}#contact")
    dists = distributions(package, publication, modified)
    dataset: dict[str, Any] = {
        "@id": publication.dataset_uri,
        "@type": "dcat:Dataset",
        "dct:title": _text(raw["title"], raw.get("title_en", raw["title"])),
        "dct:description": _text(raw["description"], raw.get("description_en", raw["description"])),
        "dct:identifier": publication.dataset_uri,
        "dct:language": languages,
        "dct:modified": {"@value": modified, "@type": "xsd:dateTime"},
        "dct:license": _ref(licence),
        "dct:accessRights": _ref(f"{EU}/access-right/PUBLIC"),
        "dct:accrualPeriodicity": _ref(f"{EU}/frequency/IRREG"),
        "dcat:theme": [_ref(f"{EU}/data-theme/{code}") for code in publication.themes],
        "dcat:keyword": [{"@value": k, "@language": "nl"} for k in raw.get("keywords", [])],
        "dcat:landingPage": _ref(publication.landing_page),
        "foaf:page": _ref(publication.url("/-/datamodel")),
        "dcat:version": version,
        "adms:versionNotes": {"@value": f"dataversie / data version {version}", "@language": "nl"},
        "dct:bibliographicCitation": citation(package, publication, version, publication.landing_page),
        "dct:publisher": _ref(publication.publisher_uri),
        "dct:creator": _ref(publication.publisher_uri),
        "dcat:contactPoint": contact,
        "dct:spatial": _ref(f"{EU}/country/{publication.country}"),
        "dct:coverage": [_ref(uri) for _name, uri in publication.municipalities],
        "dcat:distribution": [_ref(d["@id"]) for d in dists],
    }
    if years:
        dataset["dct:temporal"] = {"@type": "dct:PeriodOfTime",
                                   "dcat:startDate": {"@value": str(years[0]), "@type": "xsd:gYear"},
                                   "dcat:endDate": {"@value": str(years[1]), "@type": "xsd:gYear"}}
    catalog = {
        "@id": publication.catalog_uri,
        "@type": "dcat:Catalog",
        "dct:title": _text("Catalogus prestatieafspraken volkshuisvesting",
                           "Catalogue of performance agreements on social housing"),
        "dct:description": _text("De datasets van deze site.", "The datasets of this site."),
        "dct:publisher": _ref(publication.publisher_uri),
        "dct:creator": _ref(publication.publisher_uri),
        "dcat:contactPoint": contact,
        "dct:language": languages,
        "dct:license": _ref(licence),
        "dct:modified": {"@value": modified, "@type": "xsd:dateTime"},
        "dct:spatial": _ref(f"{EU}/country/{publication.country}"),
        "foaf:homepage": _ref(publication.landing_page),
        "dcat:themeTaxonomy": _ref(f"{EU}/data-theme"),
        "dcat:dataset": _ref(publication.dataset_uri),
    }
    return {"@context": CONTEXT, "@graph": [catalog, dataset, _agent(publication), _contact(publication), *dists,
                                            *_vocabulary_nodes(package, publication)]}
