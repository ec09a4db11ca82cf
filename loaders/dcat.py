"""A DCAT-AP-NL 3.0 description of the dataset and its distributions, as JSON-LD.

Generated from datapackage.yaml (title, description, licence, keywords, publisher,
spatial coverage, tables) and the build (data version, build date), so portals
such as data.overheid.nl can harvest the same facts the site shows.
"""

from __future__ import annotations

from typing import Any

from .datapackage_zip import ZIP_NAME
from .schema import Package
from .site import DATABASE
from .views import view_definitions

EU = "http://publications.europa.eu/resource/authority"
FILE_TYPES = {"csv": f"{EU}/file-type/CSV", "json": f"{EU}/file-type/JSON", "html": f"{EU}/file-type/HTML",
              "zip": f"{EU}/file-type/ZIP",
              "sqlite": "https://www.iana.org/assignments/media-types/application/vnd.sqlite3"}
MEDIA_TYPES = {"csv": "text/csv", "json": "application/json", "html": "text/html", "zip": "application/zip",
               "sqlite": "application/vnd.sqlite3"}
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


def _distribution(base: str, key: str, kind: str, title_nl: str, title_en: str, access: str,
                  download: str | None, license_uri: str, modified: str) -> dict[str, Any]:
    node: dict[str, Any] = {
        "@id": f"{base}/-/dcat.jsonld#distribution-{key}",
        "@type": "dcat:Distribution",
        "dct:title": _text(title_nl, title_en),
        "dcat:accessURL": {"@id": access},
        "dct:format": {"@id": FILE_TYPES[kind]},
        "dcat:mediaType": {"@id": f"https://www.iana.org/assignments/media-types/{MEDIA_TYPES[kind]}"},
        "dct:license": {"@id": license_uri},
        "dct:modified": {"@value": modified, "@type": "xsd:dateTime"},
    }
    if download:
        node["dcat:downloadURL"] = {"@id": download}
    return node


def dcat_document(package: Package, base: str, build_info: dict[str, str],
                  years: tuple[int, int] | None) -> dict[str, Any]:
    """The catalogue, the dataset and one distribution per download, as a JSON-LD document."""
    raw = package.raw
    license_uri = package.license.get("path", "")
    modified = build_info.get("built_at", "")
    publisher = next((c for c in raw.get("contributors", []) if c.get("role") == "publisher"), {})
    dataset_id = f"{base}/-/dcat.jsonld#dataset"
    db = f"{base}/{DATABASE}"
    distributions = [
        _distribution(base, "site", "html", "Website (Datasette)", "Web site (Datasette)", f"{base}/", None,
                      license_uri, modified),
        _distribution(base, "sqlite", "sqlite", "SQLite-database", "SQLite database", f"{db}.db", f"{db}.db",
                      license_uri, modified),
        _distribution(base, "datapackage", "zip", "Frictionless datapakket (CSV + schema)",
                      "Frictionless data package (CSV + schema)", f"{base}/-/downloads/{ZIP_NAME}",
                      f"{base}/-/downloads/{ZIP_NAME}", license_uri, modified),
    ]
    for name in [r.name for r in package.resources] + list(view_definitions()):
        distributions.append(_distribution(
            base, f"{name}-csv", "csv", f"Tabel {name} als CSV (alle rijen)", f"Table {name} as CSV (all rows)",
            f"{db}/{name}", f"{db}/{name}.csv?_stream=on", license_uri, modified))
        distributions.append(_distribution(
            base, f"{name}-json", "json", f"Tabel {name} als JSON", f"Table {name} as JSON",
            f"{db}/{name}", f"{db}/{name}.json?_shape=array&_size=max", license_uri, modified))
    dataset: dict[str, Any] = {
        "@id": dataset_id,
        "@type": "dcat:Dataset",
        "dct:title": _text(raw["title"], raw.get("title_en", raw["title"])),
        "dct:description": _text(raw["description"], raw.get("description_en", raw["description"])),
        "dct:identifier": dataset_id,
        "dct:language": [{"@id": f"{EU}/language/NLD"}, {"@id": f"{EU}/language/ENG"}],
        "dct:modified": {"@value": modified, "@type": "xsd:dateTime"},
        "dct:license": {"@id": license_uri},
        "dct:accessRights": {"@id": f"{EU}/access-right/PUBLIC"},
        "dct:accrualPeriodicity": {"@id": f"{EU}/frequency/IRREG"},
        "dcat:theme": [{"@id": f"{EU}/data-theme/SOCI"}],
        "dcat:keyword": [{"@value": k, "@language": "nl"} for k in raw.get("keywords", [])],
        "dcat:landingPage": {"@id": f"{base}/"},
        "foaf:page": {"@id": f"{base}/-/datamodel"},
        "dct:conformsTo": {"@id": "https://specs.frictionlessdata.io/data-package/"},
        "adms:versionNotes": {"@value": f"data version {build_info.get('data_version', '')}", "@language": "en"},
        "dct:publisher": {"@id": f"{base}/-/dcat.jsonld#publisher", "@type": "foaf:Agent",
                          "foaf:name": publisher.get("title", "")},
        "dcat:contactPoint": {"@id": f"{base}/-/dcat.jsonld#contact", "@type": "vcard:Organization",
                              "vcard:fn": publisher.get("title", ""), "vcard:hasURL": {"@id": f"{base}/"}},
        "dct:spatial": [{"@id": s["uri"], "@type": "dct:Location", "skos:prefLabel": s["name"]}
                        for s in raw.get("spatial", [])],
        "dcat:distribution": [{"@id": d["@id"]} for d in distributions],
    }
    if years:
        dataset["dct:temporal"] = {"@type": "dct:PeriodOfTime",
                                   "dcat:startDate": {"@value": str(years[0]), "@type": "xsd:gYear"},
                                   "dcat:endDate": {"@value": str(years[1]), "@type": "xsd:gYear"}}
    catalog = {
        "@id": f"{base}/-/dcat.jsonld",
        "@type": "dcat:Catalog",
        "dct:title": _text("Catalogus prestatieafspraken volkshuisvesting",
                           "Catalogue of performance agreements on social housing"),
        "dct:description": _text("De datasets van deze site.", "The datasets of this site."),
        "dct:publisher": {"@id": f"{base}/-/dcat.jsonld#publisher"},
        "dcat:dataset": {"@id": dataset_id},
    }
    return {"@context": CONTEXT, "@graph": [catalog, dataset, *distributions]}
