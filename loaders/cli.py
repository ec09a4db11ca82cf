"""Command line: `prestatieafspraken validate | build | docs | serve`."""

from __future__ import annotations

import os
import sqlite3
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path

import click
import yaml

from .build import build as build_database
from .datapackage_zip import ZIP_NAME, write_zip
from .problems import Problem, ValidationFailed, visible
from .schema import DESCRIPTOR_NAME, Package
from .site import DATABASE
from .site_files import write_site_files
from .site_metadata import site_metadata
from .validate import validate as validate_package

# The commands that need Datasette (serve), agate and openpyxl (import-excel) or the docs template import them
# when they run: at the top they cost every other command about 0.4 s of start-up, and the tests start many.

DEFAULT_DB = Path("build") / f"{DATABASE}.db"


def _load(root: Path) -> Package:
    descriptor = root / DESCRIPTOR_NAME
    try:
        package = Package.load(root)
        package.resources  # noqa: B018 - parse every table now, so a broken one fails here
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line, column = (mark.line + 1, f"column {mark.column + 1}") if mark else (1, "(file)")
        reason = getattr(error, "problem", None) or str(error)
        raise click.ClickException(visible(f"{descriptor}:{line}: {column}: not valid YAML: {reason}")) from None
    except (OSError, UnicodeError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise click.ClickException(visible(f"{descriptor}:1: (file): cannot read the descriptor: {error}")) from None
    return package


def _progress(message: str) -> None:
    click.echo(message, err=True)


def _refuse(problems: list[Problem]) -> None:
    for problem in problems:
        click.echo(str(problem), err=True)
    click.echo(f"{len(problems)} problem(s) found; nothing was written.", err=True)
    sys.exit(1)


def _check(package: Package) -> None:
    problems = validate_package(package, progress=_progress)
    if problems:
        _refuse(problems)


class _OneLineErrors(click.Group):
    """Whatever goes wrong ends in one line and exit code 1, never a traceback. An exception that
    reaches here is a bug in the loader, not in the data; PRESTATIEAFSPRAKEN_DEBUG=1 shows the traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as error:  # the last line of defence, reported below
            if os.environ.get("PRESTATIEAFSPRAKEN_DEBUG"):
                raise
            click.echo(visible(f"internal error: {type(error).__name__}: {error}; this is a bug in the loader, "
                               "not in the data: please report it with the command you ran"), err=True)
            ctx.exit(1)


@click.group(cls=_OneLineErrors)
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Folder holding datapackage.yaml and the CSVs.")
@click.pass_context
def cli(ctx: click.Context, root: Path) -> None:
    """Validate and build the prestatieafspraken database."""
    ctx.obj = root


@cli.command()
@click.pass_obj
def validate(root: Path) -> None:
    """Check every CSV against datapackage.yaml; report every problem as file:line: column: text."""
    package = _load(root)
    _check(package)
    click.echo(f"OK: {len(package.resources)} tables valid.")


@cli.command()
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_DB,
              show_default=True, help="Where to write the SQLite database.")
@click.pass_obj
def build(root: Path, output: Path) -> None:
    """Validate while loading, then write the SQLite database atomically (the old one stays if anything fails), the
    data package zip, and next to them the site's generated metadata and inspect data (build/ is then all Datasette
    needs)."""
    package = _load(root)
    started = time.monotonic()
    archive = output.parent / ZIP_NAME
    # The zip is written under a temporary name while the database is built (it reads only the files, and
    # compresses on the other core: at bench scale 1000 that took 13 s off the build), and put in place once the
    # data is known valid and before the new database replaces the old, so that a failure in either step leaves
    # both the previous database and zip as they were.
    pending = archive.with_name(f".{archive.name}.pending")
    cancelled = threading.Event()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="zip") as pool:
        zipping = pool.submit(write_zip, package, pending, cancelled=cancelled)
        try:
            metadata = site_metadata(package)  # the hand-written site files are checked before anything is replaced
            counts = build_database(package, output, progress=_progress,
                                    before_replace=lambda: zipping.result() and None)
            os.replace(pending, archive)
            site_files = write_site_files(package, output, metadata=metadata)
        except ValidationFailed as failed:
            _refuse(failed.problems)
        except (OSError, ValueError, RuntimeError, ArithmeticError, sqlite3.Error) as error:
            raise click.ClickException(visible(f"{output}: build failed, previous database kept: {error}")) from None
        finally:
            cancelled.set()
            wait([zipping])
            pending.unlink(missing_ok=True)
    total = sum(counts.values())
    click.echo(f"Built {output}: {total:,} rows in {len(counts)} tables in {time.monotonic() - started:.1f} s.")
    click.echo(f"Wrote {archive}, {', '.join(str(p) for p in site_files)}.")


@cli.command("import-excel")
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--table", required=True, help="The table the file holds, e.g. agreements.")
@click.pass_obj
def import_excel_command(root: Path, source: Path, table: str) -> None:
    """Convert a CSV or .xlsx workbook saved by (Dutch) Excel or LibreOffice into csv/<table>.csv, if the result
    validates."""
    from .excel_import import import_excel

    package = _load(root)
    if table not in {r.name for r in package.resources}:
        names = ", ".join(r.name for r in package.resources)
        raise click.ClickException(f"unknown table '{table}'; use one of {names}")
    result = import_excel(package, table, source)
    for change in result.changes:
        click.echo(f"changed: {change}", err=True)
    if result.problems:
        for problem in result.problems:
            click.echo(str(problem), err=True)
        click.echo(f"{len(result.problems)} problem(s) found; csv/{table}.csv was not changed.", err=True)
        sys.exit(1)
    click.echo(f"Wrote {package.resource(table).path} from {source}.")


@cli.command()
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("docs/data-model.md"), show_default=True)
@click.pass_obj
def docs(root: Path, output: Path) -> None:
    """Write the data model documentation generated from datapackage.yaml."""
    from .docs import render_data_model

    output.write_text(render_data_model(_load(root)), encoding="utf-8")
    click.echo(f"Wrote {output}.")


@cli.command()
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_DB, show_default=True)
@click.option("--host", default=lambda: os.environ.get("HOST", "127.0.0.1"), show_default="127.0.0.1")
@click.option("--port", default=lambda: int(os.environ.get("PORT", "8001")), type=int, show_default="8001")
@click.pass_obj
def serve(root: Path, db: Path, host: str, port: int) -> None:
    """Serve the database read-only with the project's metadata, plugins and settings."""
    from .server import run as run_server

    try:
        run_server(root, db, host, port)
    except FileNotFoundError as error:
        raise click.ClickException(str(error)) from None


def serve_command(root: Path, db: Path, host: str, port: int) -> list[str]:
    """The command line of `prestatieafspraken serve` (for tests and benchmarks that start a server)."""
    return [sys.executable, "-m", "loaders", "--root", str(root), "serve", "--db", str(db),
            "--host", host, "--port", str(port)]


if __name__ == "__main__":
    cli()
