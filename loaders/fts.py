"""Whatever a visitor types, as a safe FTS5 query: the saved search question and the site search share it.

Every word is quoted (so a lone quote, NEAR( or a minus sign is text, not syntax) and may be a prefix
("huurder" finds "huurders"); at most 32 different words. A repeated word adds nothing to the match, only
another pass over its whole match list ("e e e ..." cost half a second on today's data), so it counts once.
Empty input matches nothing instead of raising an FTS5 syntax error. (Datasette's escape_fts quotes words
too, but gives no prefix matching.)
"""

from __future__ import annotations

import re
from typing import Any

WORD = re.compile(r"\w+", re.UNICODE)
MAX_WORDS = 32


def fts_query(q: Any) -> str:
    # Lower case changes nothing for the tokenizer, which folds case; it makes "E" and "e" one word.
    words = list(dict.fromkeys(w.lower() for w in WORD.findall(str(q or ""))))[:MAX_WORDS]
    return " ".join(f'"{w}"*' for w in words) if words else '""'
