"""Shared fixtures: the project root, a database built from csv/, and a Datasette like `make serve` runs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from datasette.app import Datasette

from loaders.build import build
from loaders.datapackage_zip import ZIP_NAME, write_zip
from loaders.schema import PROJECT_ROOT, Package

ROOT = PROJECT_ROOT
DB_NAME = "prestatieafspraken"


@pytest.fixture(scope="session")
def package() -> Package:
    return Package.load(ROOT)


@pytest.fixture(scope="session")
def db_path(tmp_path_factory: pytest.TempPathFactory, package: Package) -> Path:
    path = tmp_path_factory.mktemp("db") / f"{DB_NAME}.db"
    build(package, path, progress=lambda _m: None)
    write_zip(package, path.parent / ZIP_NAME)
    return path


def make_datasette(db_path: Path) -> Datasette:
    """A Datasette configured exactly as `prestatieafspraken serve` configures it."""
    settings = json.loads((ROOT / "settings.json").read_text(encoding="utf-8"))
    metadata = yaml.safe_load((ROOT / "metadata.yml").read_text(encoding="utf-8"))
    return Datasette(
        immutables=[str(db_path)],
        metadata=metadata,
        plugins_dir=str(ROOT / "plugins"),
        template_dir=str(ROOT / "templates"),
        settings=settings,
    )


@pytest.fixture(scope="session")
def ds(db_path: Path) -> Datasette:
    return make_datasette(db_path)


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """A writable copy of the data package, for tests that break it on purpose."""
    root = tmp_path / "project"
    root.mkdir()
    shutil.copy(ROOT / "datapackage.yaml", root / "datapackage.yaml")
    shutil.copytree(ROOT / "csv", root / "csv")
    return root
