"""A digest of the complete build output and of every file the server reads: the key of every ETag.

build/ (the database's bytes, so a changed view or anything else the loader writes counts, not only the CSVs; the
generated metadata.json with the saved questions; inspect.json), the site's files (plugins, templates, settings,
charts.yml, publication.yaml, datapackage.yaml, queries/, loaders/), the base URL and the installed versions.
"""

from __future__ import annotations

import hashlib
import json
import os
import weakref
from pathlib import Path
from typing import Any

from datasette import __version__ as datasette_version

from .publication import BASE_URL_ENV
from .schema import PROJECT_ROOT
from .site_files import site_file_paths

# Files outside build/, plugins and templates that the server reads and that change what a page says.
SITE_FILES = ("charts.yml", "publication.yaml", "datapackage.yaml")
# Folders the plugins read at serve time: the saved questions' labels, the views' column headings.
SITE_FOLDERS = ("queries", "loaders")
_fingerprints: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def _files_digest(digest: Any, folder: str | None) -> None:
    if not folder or not Path(folder).is_dir():
        return
    for path in sorted(Path(folder).rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(path.name.encode())
            digest.update(path.read_bytes())


def _file_digest(digest: Any, path: Path) -> None:
    digest.update(path.name.encode())
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)


def _compute(datasette: Any) -> str:
    digest = hashlib.sha256(datasette_version.encode())
    for _name, db in sorted(datasette.databases.items()):
        if db.path and not db.is_mutable:
            _file_digest(digest, Path(db.path))
            for generated in site_file_paths(Path(db.path)):
                if generated.is_file():
                    _file_digest(digest, generated)
    for name in SITE_FILES:
        if (PROJECT_ROOT / name).is_file():
            _file_digest(digest, PROJECT_ROOT / name)
    digest.update(os.environ.get(BASE_URL_ENV, "").encode())
    digest.update(json.dumps(datasette.settings_dict(), sort_keys=True, default=str).encode())
    _files_digest(digest, datasette.plugins_dir)
    for folder in SITE_FOLDERS:
        _files_digest(digest, str(PROJECT_ROOT / folder))
    _files_digest(digest, datasette.template_dir)
    for plugin in datasette._plugins():  # installed plugins and their versions
        digest.update(f"{plugin['name']}={plugin.get('version')}".encode())
    return digest.hexdigest()[:8]


def site_fingerprint(datasette: Any) -> str:
    """What besides the data version decides what a page says: each immutable database with the metadata and
    inspect data the build wrote next to it, and the site's files. Computed once per Datasette (it reads the
    database's bytes) and shared by plugins/http_caching.py and the chart images' own ETags."""
    if datasette not in _fingerprints:
        _fingerprints[datasette] = _compute(datasette)
    return _fingerprints[datasette]
