"""The site search index (/-/zoeken, plugins/search_page.py), built into the database once.

One FTS5 table `site_search` over every resource of the package, guided by datapackage.yaml:

- every row of every resource is one entry: its label (the resource's `labelColumn`, else the labels of the rows
  it links), the text of its descriptive string columns (not keys, dates, URLs or enum codes), and the labels of
  the rows it refers to (a project's place and partner, a figure's document) or that refer to it through a link
  table (a village is found by its projects' names), so "Ezinge" finds the projects in Ezinge as well;
- the tokenizer folds case and diacritics and splits on hyphens (loaders/fts.py makes every word a prefix);
- `tbl` and `path` say where the row's page is: /<database>/<tbl>/<path>; `document` and `source` are the keys of
  the document and the source the row refers to (the saved question `search` shows their title and address).

A common word or a short beginning matches a large share of 3.4 million entries (bench scale 1000), and FTS5
reads the whole match list of a prefix query before any LIMIT applies. So the build also writes what keeps every
search bounded (loaders/search_match.py reads it):

- `site_search_terms`: every word of the index with the number of entries it is in, so a beginning typed by a
  visitor becomes an OR of at most a few dozen whole words, which FTS5 reads lazily and stops after a LIMIT;
- `site_search_tables`: each table's title and its entries' rowid range (a table's entries are consecutive), so
  a search is bounded per table by a rowid range that FTS5 seeks to.

The rows stream from SQLite to SQLite (the labels come from joins, not from Python dictionaries), so memory does
not grow with the data; the server no longer builds an index per process. `site_search_vocab` (FTS5's own view
of the words, which counts them by reading the index) is read once, here, into `site_search_terms`, which also
gives the suggestions when a search finds nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from datasette.utils import tilde_encode
from sqlite_utils.db import Database, quote_identifier

from .schema import Package, Resource

TABLE = "site_search"
VOCAB = "site_search_vocab"
TERMS = "site_search_terms"
TABLES = "site_search_tables"
SKIPPED_NAMES = {"id", "url", "website"}
SEP = "\x1f"  # between the labels one correlated subquery concatenates


def text_columns(resource: Resource) -> list[str]:
    """The columns whose words a visitor would search for: descriptive strings, not codes, keys or dates."""
    return [f.name for f in resource.fields
            if f.type == "string" and not f.enum and not f.partial_date and f.name not in SKIPPED_NAMES
            and not f.name.endswith("_id") and not f.name.endswith("_on")]


def labelled(package: Package) -> dict[str, Resource]:
    """Resources whose rows have a label and a one-column key, so other rows can name them."""
    return {r.name: r for r in package.resources if r.label_column and len(r.primary_key) == 1}


def _label_of(target: Resource, key_sql: str) -> str:
    label, key = quote_identifier(target.label_column or ""), quote_identifier(target.primary_key[0])
    return f"(select {label} from {quote_identifier(target.name)} where {key} = {key_sql})"


def _related_sql(package: Package, resource: Resource) -> list[str]:
    """SQL expressions, one per kind of related row, each giving labels separated by SEP (or NULL)."""
    labels = labelled(package)
    table = quote_identifier(resource.name)
    out = [_label_of(labels[fk.resource], f"{table}.{quote_identifier(fk.fields[0])}")
           for fk in resource.foreign_keys
           if len(fk.fields) == 1 and fk.resource not in ("sources", resource.name) and fk.resource in labels]
    if len(resource.primary_key) != 1:
        return out
    key = f"{table}.{quote_identifier(resource.primary_key[0])}"
    # A link table (no label of its own) tells each side the labels of the other.
    for link in package.resources:
        if link.label_column:
            continue
        sides = [(fk.fields[0], fk.resource) for fk in link.foreign_keys
                 if len(fk.fields) == 1 and fk.resource != "sources" and fk.resource in labels]
        for column, target in sides:
            if target != resource.name:
                continue
            for other_column, other_target in sides:
                if other_column != column:
                    other = _label_of(labels[other_target], "x." + quote_identifier(other_column))
                    out.append(f"(select group_concat({other}, char(31)) from {quote_identifier(link.name)} x "
                               f"where x.{quote_identifier(column)} = {key})")
    return out


def _reference(resource: Resource, target: str) -> str | None:
    """The column naming the row's `target` row: the key of a row of that resource, else its reference to one."""
    if resource.name == target and len(resource.primary_key) == 1:
        return resource.primary_key[0]
    return next((fk.fields[0] for fk in resource.foreign_keys if len(fk.fields) == 1 and fk.resource == target),
                None)


# The characters tilde encoding leaves as they are: a key made of only these is its own path.
URL_SAFE = re.compile(r"[A-Za-z0-9_-]*")


def row_path(keys: list[str]) -> str:
    """The row's path in a URL, as Datasette writes it (path_from_row_pks: each key tilde-encoded, joined by
    commas), without encoding the keys that need none, which most do not."""
    return ",".join(key if URL_SAFE.fullmatch(key) else tilde_encode(key) for key in keys)


Entry = tuple[str, str, str, str, str, Any, Any]


def entries(db: Database, package: Package, resource: Resource) -> Iterator[Entry]:
    """(label, body, related, table, row path, document key, source key) for every row of the resource."""
    body_columns = [c for c in text_columns(resource) if c != resource.label_column]
    related = _related_sql(package, resource)
    table = quote_identifier(resource.name)
    label = f"{table}.{quote_identifier(resource.label_column)}" if resource.label_column else "NULL"
    pks = list(resource.primary_key)
    references = [f"{table}.{quote_identifier(c)}" if c else "NULL"
                  for c in (_reference(resource, "documents"), _reference(resource, "sources"))]
    select = ", ".join([*references, label, *(f"{table}.{quote_identifier(c)}" for c in body_columns),
                        *(f"{table}.{quote_identifier(k)}" for k in pks), *related])
    cursor = db.conn.execute(f"select {select} from {table}")
    n_body, n_keys = len(body_columns), len(pks)
    for row in cursor:
        document, source, *values = row
        body = [str(v) for v in values[1:1 + n_body] if v not in (None, "")]
        keys = [str(k) for k in values[1 + n_body:1 + n_body + n_keys]]
        names = [n for part in values[1 + n_body + n_keys:] if part for n in str(part).split(SEP) if n]
        names = list(dict.fromkeys(names))
        if resource.label_column:
            title, linked = str(values[0]), " · ".join(names)
        else:
            # A link table has no label of its own: it is named by the rows it links, so those labels are its label
            # and not repeated as its linked labels (the same words, tokenised twice: 850,000 agreement partners at
            # bench scale 1000; a search finds and ranks the entry by its label, and the snippet took the label).
            title, linked = " – ".join(names) or ", ".join(keys), ""
        yield (title, "\n".join(body), linked, resource.name, row_path(keys), document, source)


def create_site_search(db: Database, package: Package) -> None:
    # detail=none: the index records which entries hold a word, not where. The searches ask only that (whole words
    # joined by AND and OR; ranking and snippets come from the entry's text, loaders/search_match.py), and it
    # makes the index about a quarter smaller and quicker to build.
    db.execute(f"CREATE VIRTUAL TABLE {TABLE} USING fts5(label, body, related, tbl UNINDEXED, path UNINDEXED, "
               "document UNINDEXED, source UNINDEXED, tokenize = 'unicode61 remove_diacritics 2', detail = none)")
    db.execute(f"CREATE TABLE {TABLES} (tbl TEXT PRIMARY KEY, title TEXT NOT NULL, first_rowid INTEGER NOT NULL, "
               "last_rowid INTEGER NOT NULL)")
    insert = f"INSERT INTO {TABLE} (rowid, label, body, related, tbl, path, document, source) " \
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    rowid = 0

    def numbered(resource: Resource) -> Iterator[tuple[Any, ...]]:
        nonlocal rowid
        for entry in entries(db, package, resource):
            rowid += 1
            yield (rowid, *entry)

    for resource in package.resources:
        first = rowid + 1
        # Streamed into the index one entry at a time: a partner's entry holds the titles of all its agreements,
        # so even a batch of entries could take tens of MB at national scale.
        db.conn.executemany(insert, numbered(resource))
        if rowid >= first:
            db.execute(f"INSERT INTO {TABLES} VALUES (?, ?, ?, ?)", [resource.name, resource.title, first, rowid])
    db.execute(f"INSERT INTO {TABLE}({TABLE}) VALUES ('optimize')")
    db.execute(f"CREATE VIRTUAL TABLE {VOCAB} USING fts5vocab({TABLE}, row)")
    db.execute(f"CREATE TABLE {TERMS} (term TEXT PRIMARY KEY, entries INTEGER NOT NULL) WITHOUT ROWID")
    db.execute(f"INSERT INTO {TERMS} SELECT term, doc FROM {VOCAB}")
