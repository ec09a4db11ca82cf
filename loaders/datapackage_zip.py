"""Write the downloadable data package: CSVs, datapackage.json, README, CITATION.cff and licence in one zip.

The published datapackage.json is datapackage.yaml made self-contained for someone who has only the
zip: profile `tabular-data-package`, the CSV dialect in the form of Data Package 1.0 (which 2.0 and
frictionless-py also read), `version` = the data version the site asks people to cite, the package's
sources (every row of csv/sources.csv), homepage and id under the configured base URL, and per file
its size and SHA-256 hash. It validates against the Data Package 1.0 and 2.0 JSON Schemas and with
`frictionless validate`.

The zip is reproducible (sorted entries, fixed timestamps) and written atomically next to the
database, so the site can offer it and a portal can harvest it.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import hashlib
import io
import json
import os
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from stream_zip import ZIP_32, ZIP_64, MemberFile, stream_zip
from zlib_ng import zlib_ng

from .build import data_version
from .files import CHUNK, UnreadableInput, open_input, read_input
from .publication import Publication, citation, citation_cff
from .schema import Package

ZIP_NAME = "prestatieafspraken-datapackage.zip"
TABULAR_PROFILE_V1 = "https://specs.frictionlessdata.io/tabular-data-package/"
# Copied into the zip as they are; README.md and CITATION.cff are written for the zip.
EXTRA_FILES = ("LICENSE-DATA.md", "docs/data-model.md")
SOURCES_RESOURCE = "sources"
# 1980-01-01 is the earliest time a zip entry can carry; SOURCE_DATE_EPOCH may override it.
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
MEMBER_MODE = 0o100644  # a regular file, rw-r--r--
ZIP_LEVEL = 6  # zlib's default, which the zip was written with before
ZIP32_LIMIT = 0xFFFFFFFF


def _dialect_v1(dialect: dict[str, Any]) -> dict[str, Any]:
    """frictionless-py writes `dialect: {csv: {delimiter: ...}}`; Data Package 1.0 (and 2.0) want the CSV
    properties at the top of the dialect."""
    out = {k: v for k, v in dialect.items() if k != "csv"}
    out.update(dialect.get("csv") or {})
    # The 1.0 Tabular Data Package schema requires doubleQuote; true is the CSV default our files follow.
    out.setdefault("doubleQuote", True)
    return out


def _sources(package: Package) -> list[dict[str, str]]:
    """Every source the rows cite, as the package's `sources` (title and web address)."""
    if SOURCES_RESOURCE not in {r.name for r in package.resources}:
        return []
    resource = package.resource(SOURCES_RESOURCE)
    try:
        with open_input(package.root / resource.path, package.root) as raw, \
                io.TextIOWrapper(raw, encoding="utf-8", newline="") as f:
            return [{"title": f"{row['publisher']}: {row['title']}", "path": row["url"]} for row in csv.DictReader(f)]
    except UnreadableInput as error:
        raise UnreadableInput(f"{resource.path}: {error}") from None


def published_descriptor(package: Package, publication: Publication, version: str) -> dict[str, Any]:
    raw = copy.deepcopy(package.raw)
    descriptor: dict[str, Any] = {
        "profile": "tabular-data-package",
        "name": raw["name"],
        "id": publication.dataset_uri,
        "title": raw["title"],
        "description": raw["description"],
        "homepage": publication.landing_page,
        "version": version,
        "citation": citation(package, publication, version, publication.landing_page),
        "licenses": raw["licenses"],
        "contributors": [{"title": publication.publisher, "role": "publisher", "path": publication.landing_page}],
        "sources": _sources(package),
    }
    descriptor.update({k: v for k, v in raw.items() if k not in descriptor and k != "resources"})
    resources = []
    for resource in raw["resources"]:
        size, digest = _digest(package, resource["path"])
        published = {"profile": "tabular-data-resource", **resource, "format": "csv", "mediatype": "text/csv",
                     "bytes": size, "hash": "sha256:" + digest}
        if "dialect" in published:
            published["dialect"] = _dialect_v1(published["dialect"])
        resources.append(published)
    descriptor["resources"] = resources
    return descriptor


def zip_readme(package: Package, publication: Publication, version: str) -> str:
    """README.md for someone who has only the zip: what it holds, how to cite, how to check, where it comes
    from. Links point only at files in the zip or at the published site and the licence."""
    raw = package.raw
    rows = [f"| [{r.path}]({r.path}) | {r.title} |" for r in sorted(package.resources, key=lambda r: r.path)]
    licence = package.license
    return "\n".join([
        f"# {raw['title']}",
        "",
        " ".join(raw["description"].split()),
        "",
        " ".join(raw.get("description_en", "").split()),
        "",
        f"- Dataversie / data version: `{version}`",
        f"- Website: {publication.landing_page}",
        f"- Uitgever / publisher: {publication.publisher}",
        f"- Licentie / licence: [{licence.get('title', licence.get('name', ''))}]({licence.get('path', '')}), "
        "see [LICENSE-DATA.md](LICENSE-DATA.md)",
        "",
        "## Citeren / How to cite",
        "",
        citation(package, publication, version, publication.landing_page),
        "",
        "Voor één rij: noem ook de tabel, de id van de rij en de bron die de rij noemt (`source_id`, zie "
        "`csv/sources.csv`). For one row, also name the table, the row's id and the source the row cites. "
        "Machine-readable: [CITATION.cff](CITATION.cff).",
        "",
        "## Inhoud / Contents",
        "",
        "| bestand / file | inhoud / contents |",
        "|---|---|",
        "| [datapackage.json](datapackage.json) | beschrijving van elk bestand en elke kolom (Frictionless Tabular "
        "Data Package): types, sleutels, bronnen, licentie, grootte en SHA-256 per bestand / every file and column "
        "described: types, keys, sources, licence, size and SHA-256 of each file |",
        *rows,
        "| [docs/data-model.md](docs/data-model.md) | het datamodel in woorden / the data model in words |",
        "| [LICENSE-DATA.md](LICENSE-DATA.md) | licentie en naamsvermelding / licence and attribution |",
        "| [CITATION.cff](CITATION.cff) | citatie (Citation File Format) / citation |",
        "",
        "## Gebruik / Use",
        "",
        "De CSV's zijn UTF-8 zonder BOM, komma-gescheiden, met een kopregel. Controleer het pakket met "
        "`frictionless validate datapackage.json` (Python-pakket `frictionless`). The CSVs are UTF-8 without BOM, "
        "comma-separated, with a header row. Check the package with `frictionless validate datapackage.json`.",
        "",
        "Elke rij van elke tabel noemt de openbare bron waarop ze berust (kolom `source_id`, tabel "
        "`csv/sources.csv`). Wat ontbreekt staat in `csv/coverage.csv`; het is niet aangevuld met schattingen. "
        "Every row cites the public source it rests on; what is missing is listed in `csv/coverage.csv` and not "
        "filled with guesses.",
        "",
    ])


def _modified_at() -> dt.datetime:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return dt.datetime.fromtimestamp(max(int(epoch), 315532800), dt.UTC).replace(tzinfo=None)
    return dt.datetime(*FIXED_TIME)


def _deflater() -> Any:
    # zlib-ng writes the same Deflate format as the zlib module about three times as fast, within 1 % of its size
    # at the same level: at bench scale 1000 the zip took 39 of the build's 350 CPU seconds with zlib.
    return zlib_ng.compressobj(ZIP_LEVEL, zlib_ng.DEFLATED, -zlib_ng.MAX_WBITS)


def _member(name: str, chunks: Iterable[bytes], size: int) -> MemberFile:
    # Zip64 fields only for a file too large without them, as zipfile did: older unzip tools read plain entries.
    return name, _modified_at(), MEMBER_MODE, ZIP_64 if size >= ZIP32_LIMIT else ZIP_32, chunks


def _digest(package: Package, relative: str) -> tuple[int, str]:
    """Size and SHA-256 of a file, read in chunks (whole, the largest table would set the build's peak memory)."""
    digest = hashlib.sha256()
    size = 0
    try:
        with open_input(package.root / relative, package.root) as f:
            while chunk := f.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
    except UnreadableInput as error:
        raise UnreadableInput(f"{relative}: {error}") from None
    return size, digest.hexdigest()


def _read(package: Package, relative: str) -> bytes:
    try:
        return read_input(package.root / relative, package.root)
    except UnreadableInput as error:
        raise UnreadableInput(f"{relative}: {error}") from None


def _chunks(package: Package, relative: str) -> Iterator[bytes]:
    """A CSV in chunks: read whole, the largest table would set the build's peak memory."""
    try:
        with open_input(package.root / relative, package.root) as f:
            while chunk := f.read(CHUNK):
                yield chunk
    except UnreadableInput as error:
        raise UnreadableInput(f"{relative}: {error}") from None


def descriptor_json(package: Package, publication: Publication, version: str) -> Iterator[bytes]:
    """The published descriptor as JSON (datapackage.json, the form every Frictionless tool reads), encoded piece by
    piece: `json.dumps` of the whole took 88 MB more at bench scale 1000 (the encoder's list of some million
    pieces), while the database was being built beside it."""
    pieces: list[str] = []
    size = 0
    for piece in json.JSONEncoder(ensure_ascii=False, indent=2).iterencode(
            published_descriptor(package, publication, version)):
        pieces.append(piece)
        size += len(piece)
        if size >= CHUNK:
            yield "".join(pieces).encode()
            pieces.clear()
            size = 0
    yield ("".join(pieces) + "\n").encode()


def _members(package: Package, publication: Publication, version: str) -> Iterator[MemberFile]:
    yield _member("datapackage.json", descriptor_json(package, publication, version), 0)  # far below 4 GiB
    for name, text in (("README.md", zip_readme(package, publication, version)),
                       ("CITATION.cff", citation_cff(package, publication, version))):
        data = text.encode()
        yield _member(name, (data,), len(data))
    for resource in sorted(package.resources, key=lambda r: r.path):
        yield _member(resource.path, _chunks(package, resource.path), (package.root / resource.path).stat().st_size)
    for extra in EXTRA_FILES:
        if (package.root / extra).exists():
            data = _read(package, extra)
            yield _member(extra, (data,), len(data))


class ZipCancelled(Exception):
    """The zip was no longer wanted (the build it was written for failed)."""


def write_zip(package: Package, target: Path, publication: Publication | None = None,
              cancelled: threading.Event | None = None) -> Path:
    """The zip at `target`, written under a temporary name and then moved there. With `cancelled`, it stops with
    ZipCancelled (and leaves nothing) once that is set: the build writes it alongside the database."""
    publication = publication or Publication.load(package.root)
    version = data_version(package)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with open(tmp, "wb") as out:
            for piece in stream_zip(_members(package, publication, version), chunk_size=CHUNK,
                                    get_compressobj=_deflater, extended_timestamps=False):
                if cancelled is not None and cancelled.is_set():
                    raise ZipCancelled(str(target))
                out.write(piece)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target
