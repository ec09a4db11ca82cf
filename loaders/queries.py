"""The saved questions: one `queries/<name>.sql` each, the file name is the question's URL (/<database>/<name>).

A file opens with a header of `-- ` comment lines holding YAML (title, description, params, labels, labels_from);
the SQL follows. Being comments, the header does not stop the file from running as it is in any SQLite tool
(with the parameters filled in). `${database}` in the header or SQL becomes the database name (loaders/site.py).

A piece of SQL that several questions share is written once, as `queries/parts/<part>.sql`, and a question says
`${part}` where it goes (a part is not a question of its own and has no header). So the rule for, say, which
partners a `:partner` parameter names is one file, not a copy in every question that filters on a partner.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from string import Template
from typing import Any

import yaml

from .schema import PROJECT_ROOT
from .site import DATABASE, settings
from .yaml_files import load_yaml

QUERIES_DIR = "queries"
PARTS_DIR = "parts"
PREFIX = "-- "
# The keys a header may hold, in the order a written header lists them.
HEADER_KEYS = ("title", "description", "params", "labels_from", "labels")


def parse_query(text: str, source: str = "query") -> dict[str, Any]:
    """A query file's text as Datasette's canned-query mapping (header keys plus `sql`)."""
    lines = text.splitlines()
    header: list[str] = []
    while lines and lines[0].startswith("--"):
        header.append(lines.pop(0)[2:].removeprefix(" "))
    try:
        meta = load_yaml("\n".join(header)) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        reason = getattr(error, "problem", None) or error
        raise ValueError(f"{source}{line}: the `-- ` header is not valid YAML: {reason}") from None
    if not isinstance(meta, dict):
        raise ValueError(f"{source}: the `-- ` header must be YAML keys (title: ..., description: ...)")
    unknown = sorted(set(meta) - set(HEADER_KEYS))
    if unknown:
        raise ValueError(f"{source}: unknown header key(s) {', '.join(unknown)}; use {', '.join(HEADER_KEYS)}")
    sql = "\n".join(lines).strip()
    if not sql:
        raise ValueError(f"{source}: no SQL after the header")
    return {**meta, "sql": sql}


def format_query(query: dict[str, Any]) -> str:
    """The text of a query file for `query` (parse_query's inverse)."""
    meta = {k: query[k] for k in HEADER_KEYS if query.get(k) not in (None, "", [], {})}
    header = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=112, default_flow_style=False)
    commented = "\n".join(f"{PREFIX}{line}".rstrip() for line in header.splitlines())
    return f"{commented}\n{query['sql'].strip()}\n"


def load_parts(root: Path = PROJECT_ROOT) -> dict[str, str]:
    """part name -> its SQL (comment lines dropped, `${database}` filled in), from queries/parts/."""
    parts: dict[str, str] = {}
    for path in sorted((root / QUERIES_DIR / PARTS_DIR).glob("*.sql")):
        if path.stem == "database":
            raise ValueError(f"{QUERIES_DIR}/{PARTS_DIR}/{path.name}: `database` is the database name, not a part; "
                             "rename the file")
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("--")]
        parts[path.stem] = Template("\n".join(lines).strip()).safe_substitute(database=DATABASE)
    return parts


def fill_in(text: str, names: dict[str, str], source: str) -> str:
    """`text` with each `${name}` replaced (the database name, a part); an unknown one is an error naming `source`."""
    filled = Template(text).safe_substitute(names)
    left = [m.group("braced") for m in Template.pattern.finditer(filled) if m.group("braced")]
    if left:
        parts = ", ".join(sorted(set(names) - {"database", "page_rows"}))
        raise ValueError(f"{source}: ${{{left[0]}}} is not the database, page_rows or a part in "
                         f"{QUERIES_DIR}/{PARTS_DIR}/ (parts: {parts})")
    return filled


def _substituted(value: Any, names: dict[str, str], source: str) -> Any:
    if isinstance(value, str):
        return fill_in(value, names, source)
    if isinstance(value, list):
        return [_substituted(v, names, source) for v in value]
    if isinstance(value, dict):
        return {k: _substituted(v, names, source) for k, v in value.items()}
    return value


def page_rows(root: Path = PROJECT_ROOT) -> int:
    """The rows a saved question's page can show (max_returned_rows in settings.json) and one more: Datasette asks
    for that many to know whether the answer goes on."""
    return int(settings(root)["max_returned_rows"]) + 1


def load_queries(root: Path = PROJECT_ROOT) -> dict[str, dict[str, Any]]:
    """name -> canned query, in file-name order, with `${database}` and the parts filled in."""
    folder = root / QUERIES_DIR
    # `${page_rows}`, for a question that stops each of its ways in once a page is full.
    names = {**load_parts(root), "database": DATABASE, "page_rows": str(page_rows(root))}
    queries = {}
    for path in sorted(folder.glob("*.sql")):
        source = f"{QUERIES_DIR}/{path.name}"
        queries[path.stem] = _substituted(parse_query(path.read_text(encoding="utf-8"), source), names, source)
    return queries


@cache
def served_queries() -> dict[str, dict[str, Any]]:
    """The project's saved questions, read once per process (for plugins: titles, labels, params)."""
    return load_queries(PROJECT_ROOT)
