"""What a visitor types, as a bounded FTS5 query over the site search index (loaders/site_search.py).

loaders/fts.py makes every word a prefix (`"huurder"*`), which is right for a table's own small index but not for
the site search index at national scale: FTS5 builds the whole match list of a prefix (every entry with any word
that starts so) before a LIMIT applies, over a second for 'e' or 'de' at bench scale 1000. Here each word becomes
the OR of whole words of the index that start with it: the word itself first, then the ones in most entries, at
most TERMS_PER_WORD. FTS5 reads an OR of whole words lazily, in rowid order, so a query with a LIMIT or a rowid
range stops early. The words are folded like the tokenizer folds them (case, accents; hyphens and underscores
split words). A beginning shared by more words than that finds the rows of its commonest words only.
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from functools import lru_cache
from typing import Any

from .fts import MAX_WORDS, fts_query
from .site_search import TABLE, TABLES, TERMS

TOKEN = re.compile(r"[^\W_]+")
COMBINING = re.compile("[\u0300-\u036f]")  # the accents NFKD splits off Latin letters
TERMS_PER_WORD = 24
# The word itself if the index has it, then the commonest words that start with it.
TERMS_SQL = f"select term from {TERMS} where term >= :low and term < :high " \
    "order by term = :low desc, entries desc, term limit :n"
MATCHES_NOTHING = '""'
# What /-/zoeken runs per table (plugins/search_page.py; bench/plans.py checks their plans): the table's first
# matching entries, in the order of its rows, with the label that ranks them; the text of the best ones, for their
# snippets (a lookup by rowid, no second pass over the index); how many entries match, up to a bound.
TABLES_SQL = f"select tbl, first_rowid, last_rowid from {TABLES} order by first_rowid"
CANDIDATES_SQL = f"""
select rowid, label, path from {TABLE}
where {TABLE} match :q and rowid between :first and :last limit :n
"""
TEXT_SQL = f"select body, related from {TABLE} where rowid = :rowid"
COUNT_SQL = f"""
select count(*) from (select 1 from {TABLE} where {TABLE} match :q and rowid between :first and :last limit :n)
"""
RANK_STEP = 100_000  # rank = kind of match * RANK_STEP + label length
SNIPPET_TOKENS = 14
LAST_CHARACTER = "\U0010ffff"


def words(q: Any) -> list[str]:
    """The words of q as the index has them: lower case, accents removed, at most MAX_WORDS different ones."""
    text = str(q or "").lower()
    if not text.isascii():
        text = COMBINING.sub("", unicodedata.normalize("NFKD", text))
    return list(dict.fromkeys(TOKEN.findall(text)))[:MAX_WORDS]


def bounded_match(conn: sqlite3.Connection, q: Any) -> str:
    """An FTS5 query for site_search: every word (as the beginning of whole words) must occur."""
    parts = []
    for word in words(q):
        terms = [t for (t,) in conn.execute(TERMS_SQL, {"low": word, "high": word + LAST_CHARACTER,
                                                         "n": TERMS_PER_WORD})]
        if not terms:  # no word of the index starts like this, so no entry has them all
            return MATCHES_NOTHING
        parts.append("(" + " OR ".join('"' + t.replace('"', '""') + '"' for t in terms) + ")")
    return " AND ".join(parts) or MATCHES_NOTHING


def _folded_tokens(text: str) -> tuple[list[re.Match[str]], list[str]]:
    """The words of a text (where they are) and each folded like the tokenizer folds it."""
    found = list(TOKEN.finditer(text))
    return found, [t.lower() if t.isascii() else (words(t) or [""])[0] for t in (m.group() for m in found)]


def rank(typed: list[str], label: str) -> int:
    """Lower is better: every typed word whole in the label, then every one beginning a word of the label, then a
    match in the text or the linked labels only; shorter labels first within each. Ranking a bounded set of
    candidates this way replaces bm25, which first counts every entry with each word a beginning stands for."""
    label_words = set(words(label))
    if all(w in label_words for w in typed):
        kind = 0
    elif all(any(lw.startswith(w) for lw in label_words) for w in typed):
        kind = 1
    else:
        kind = 2
    return kind * RANK_STEP + min(len(label), RANK_STEP - 1)


def snippet(typed: list[str], texts: list[str], start: str, end: str, tokens: int = SNIPPET_TOKENS) -> str:
    """Like FTS5's snippet(): of the texts (label, body, related) the one with most words that begin like a typed
    word, about `tokens` words of it around its first match, each match between `start` and `end`, '…' where the
    text goes on. Made from the entry's text, so a snippet costs no second pass over the index."""
    best: tuple[int, str, list[re.Match[str]], list[bool]] | None = None
    for text in texts:
        found, folded = _folded_tokens(text or "")
        prefixes = tuple(typed)
        hits = [f.startswith(prefixes) for f in folded]
        if best is None or sum(hits) > best[0]:
            best = (sum(hits), text or "", found, hits)
    if best is None or not best[2]:
        return ""
    _count, text, found, hits = best
    first = hits.index(True) if any(hits) else 0
    lo = max(0, min(first - 2, len(found) - tokens))
    hi = min(len(found), lo + tokens)
    out = ["…" if lo > 0 else ""]
    position = found[lo].start()
    for m, hit in zip(found[lo:hi], hits[lo:hi], strict=True):
        out.append(text[position:m.start()])
        out.append(f"{start}{m.group()}{end}" if hit else m.group())
        position = m.end()
    out.append("…" if hi < len(found) else text[position:])
    return "".join(out)


@lru_cache(maxsize=256)
def _typed(q: Any) -> list[str]:
    """The words of a search, worked out once per search instead of once per row a query ranks."""
    return words(q)


def _snippet(q: Any, start: str, end: str, *texts: Any) -> str:
    return snippet(_typed(q), [str(t or "") for t in texts], start, end)


def register_functions(conn: sqlite3.Connection) -> None:
    """The SQL functions of the saved questions: fts_query(q) for a table's own index (loaders/fts.py); for the site
    search index site_search_query(q) (bounded_match, reading the word list through this connection),
    site_search_rank(q, label) and site_search_snippet(q, start, end, label, body, related)."""
    conn.create_function("fts_query", 1, fts_query, deterministic=True)
    conn.create_function("site_search_query", 1, lambda q: bounded_match(conn, q))
    conn.create_function("site_search_rank", 2, lambda q, label: rank(_typed(q), str(label or "")),
                         deterministic=True)
    conn.create_function("site_search_snippet", 6, _snippet, deterministic=True)
