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
from typing import Any

from .fts import MAX_WORDS
from .site_search import TERMS

TOKEN = re.compile(r"[^\W_]+")
COMBINING = re.compile("[\u0300-\u036f]")  # the accents NFKD splits off Latin letters
TERMS_PER_WORD = 24
# The word itself if the index has it, then the commonest words that start with it.
TERMS_SQL = f"select term from {TERMS} where term >= :low and term < :high " \
    "order by term = :low desc, entries desc, term limit :n"
MATCHES_NOTHING = '""'
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
