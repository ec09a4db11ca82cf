"""How the dataset is published: base URL, publisher, contact point, spatial coverage and the citation.

Everything here is read from publication.yaml (and the dataset's title and licence from datapackage.yaml),
so the DCAT description, the data package, CITATION.cff, the home page and the docs cite the dataset in
one wording. The base URL comes from PRESTATIEAFSPRAKEN_BASE_URL when set, else from publication.yaml;
never from a request.

`python -m loaders.publication` rewrites CITATION.cff from these definitions.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from .schema import PROJECT_ROOT, Package
from .yaml_files import load_yaml

PUBLICATION_FILE = "publication.yaml"
BASE_URL_ENV = "PRESTATIEAFSPRAKEN_BASE_URL"
CITATION_FILE = "CITATION.cff"
CFF_VERSION = "1.2.0"
# The citation, in one wording everywhere. Static documents (README, LICENSE-DATA.md, CITATION.cff's
# message) show it with the two placeholders below, since they cannot know the release or the address.
CITATION_FORMAT = "{author}, “{title}”, dataversie {version}, {url}, {licence}."
VERSION_PLACEHOLDER = "<dataversie>"
URL_PLACEHOLDER = "<adres van de site>/"


class PublicationError(ValueError):
    """publication.yaml or the base URL is unusable; the message names the file or variable and the fix."""


def check_base_url(value: str, origin: str) -> str:
    """An absolute http(s) address without query or fragment, returned without a trailing slash."""
    url = value.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise PublicationError(f"{origin}: base URL {value!r} must be an absolute http(s) address such as "
                               "https://data.example.nl, without query or fragment")
    return url


@dataclass(frozen=True)
class Publication:
    base_url: str
    publisher: str
    contact_email: str | None
    contact_url: str | None
    country: str
    municipalities: tuple[tuple[str, str], ...]  # (name, TOOI URI) of each municipality the data covers
    themes: tuple[str, ...]

    @classmethod
    def load(cls, root: Path = PROJECT_ROOT, environ: dict[str, str] | None = None) -> Publication:
        # publication.yaml next to datapackage.yaml; a data folder without one uses the project's own.
        path = root / PUBLICATION_FILE
        if not path.exists():
            path = PROJECT_ROOT / PUBLICATION_FILE
        with path.open(encoding="utf-8") as f:
            raw: dict[str, Any] = load_yaml(f) or {}
        env = os.environ if environ is None else environ
        if env.get(BASE_URL_ENV):
            base = check_base_url(env[BASE_URL_ENV], BASE_URL_ENV)
        else:
            base = check_base_url(str(raw.get("base_url") or ""), f"{path}: base_url")
        contact = raw.get("contact") or {}
        spatial = raw.get("spatial") or {}
        try:
            return cls(
                base_url=base,
                publisher=str(raw["publisher"]["name"]),
                contact_email=contact.get("email") or None,
                contact_url=contact.get("url") or None,
                country=str(spatial["country"]),
                municipalities=tuple((str(m["name"]), str(m["uri"])) for m in spatial["municipalities"]),
                themes=tuple(raw["themes"]),
            )
        except (KeyError, TypeError) as error:
            raise PublicationError(f"{path}: missing or malformed entry {error}") from None

    def url(self, path: str = "/") -> str:
        """An absolute address on the published site; `path` starts with a slash."""
        return self.base_url + path

    @property
    def landing_page(self) -> str:
        return self.url("/")

    @property
    def catalog_uri(self) -> str:
        return self.url("/-/dcat.jsonld")

    @property
    def dataset_uri(self) -> str:
        return self.catalog_uri + "#dataset"

    @property
    def publisher_uri(self) -> str:
        return self.catalog_uri + "#publisher"


def licence_label(package: Package) -> str:
    """The licence as people write it (spaces for the hyphens of CC-BY-…), from its SPDX name in datapackage.yaml."""
    name = package.license.get("name", "")
    return name.replace("CC-BY-", "CC BY ") if name.startswith("CC-BY-") else name


def citation(package: Package, publication: Publication, version: str | None = None,
             url: str | None = None) -> str:
    """The citation of the dataset. Without a version and url it is the template the static documents show."""
    return CITATION_FORMAT.format(author=publication.publisher, title=package.title,
                                  version=version or VERSION_PLACEHOLDER, url=url or URL_PLACEHOLDER,
                                  licence=licence_label(package))


def citation_cff(package: Package, publication: Publication, version: str | None = None) -> str:
    """CITATION.cff (Citation File Format 1.2.0). With a version (in the zip) it names the data release
    and the site's address; without (the repository's copy) it says where the data version is shown."""
    doc: dict[str, Any] = {
        "cff-version": CFF_VERSION,
        "type": "dataset",
        "title": package.title,
        "message": ("Cite this dataset with its data version, as: "
                    + citation(package, publication, version, publication.landing_page if version else None)),
        "authors": [{"name": publication.publisher}],
        "abstract": " ".join(str(package.raw.get("description_en", "")).split()),
        "keywords": list(package.raw.get("keywords", [])),
        "license": package.license.get("name", ""),
    }
    if version:
        doc["version"] = version
        doc["url"] = publication.landing_page
    header = ("# Generated from datapackage.yaml and publication.yaml by `python -m loaders.publication`;"
              " do not edit.\n")
    return header + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=100)


def main() -> None:
    package = Package.load(PROJECT_ROOT)
    target = PROJECT_ROOT / CITATION_FILE
    target.write_text(citation_cff(package, Publication.load(PROJECT_ROOT, environ={})), encoding="utf-8")
    sys.stdout.write(f"Wrote {target}.\n")


@lru_cache(maxsize=8)
def _served_publication(base_url_setting: str | None) -> Publication:
    return Publication.load(PROJECT_ROOT)


def served_publication() -> Publication:
    """The project's own publication.yaml, read once per process (and per base URL setting, which the
    environment may change): parsing it cost about 6 ms on every row page."""
    return _served_publication(os.environ.get(BASE_URL_ENV))


if __name__ == "__main__":
    main()
