"""Write the downloadable data package: CSVs, datapackage.json, README and licence in one zip.

The zip is reproducible (sorted entries, fixed timestamps) and written atomically
next to the database, so the site can offer it and a portal can harvest it.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path

from .files import UnreadableInput, read_input
from .schema import Package

ZIP_NAME = "prestatieafspraken-datapackage.zip"
EXTRA_FILES = ("README.md", "LICENSE-DATA.md", "docs/data-model.md")
# 1980-01-01 is the earliest time a zip entry can carry; SOURCE_DATE_EPOCH may override it.
FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def descriptor_json(package: Package) -> str:
    """The descriptor as JSON, the form every Frictionless tool reads."""
    return json.dumps(package.raw, ensure_ascii=False, indent=2) + "\n"


def _entry(name: str) -> zipfile.ZipInfo:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    stamp = FIXED_TIME
    if epoch:
        import time

        stamp = time.gmtime(max(int(epoch), 315532800))[:6]
    info = zipfile.ZipInfo(name, date_time=stamp)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def _read(package: Package, relative: str) -> bytes:
    try:
        return read_input(package.root / relative, package.root)
    except UnreadableInput as error:
        raise UnreadableInput(f"{relative}: {error}") from None


def write_zip(package: Package, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with zipfile.ZipFile(tmp, "w") as archive:
            archive.writestr(_entry("datapackage.json"), descriptor_json(package))
            for resource in sorted(package.resources, key=lambda r: r.path):
                archive.writestr(_entry(resource.path), _read(package, resource.path))
            for extra in EXTRA_FILES:
                path = package.root / extra
                if path.exists():
                    archive.writestr(_entry(extra), _read(package, extra))
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target
