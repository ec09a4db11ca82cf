"""Deterministic synthetic data at a scale factor, generated from datapackage.yaml alone.

    .venv/bin/python -m bench.generate --scale 100          # writes bench/data/100/

Every resource in the descriptor gets rows, so a table added to the schema just works. The generator
knows nothing about particular tables; it reads each field's type and constraints (required, enum,
pattern, minimum/maximum, maxLength, partialDate, trueValues/falseValues) and the foreign keys, and it
learns realistic distributions from today's CSVs in csv/: the share of empty cells, text lengths, how
often a value repeats (so facets keep few distinct values and summaries stay unique), enum frequencies,
numbers and years. Words for text come from the real text too (Dutch and English, with diacritics).

Scale 1 is today's data (the real rows themselves). At a larger scale the real rows stay (saved queries
that name a real document still find it) and synthetic rows are added up to the target row count:
`base rows x scale` by default, with a few fact tables grown to the shape of a national data set
(~340 municipalities x 10 years x ~100 agreements = ~340k agreements and millions of figures at 1000),
see GROWTH. Keys are enumerated from their pattern (any pattern of classes, groups, alternatives and
repeats); a key whose pattern allows only so many values stops there.

The output is a complete package directory (datapackage.yaml + csv/) under bench/data/<scale>/, which
is git-ignored; nothing here writes to csv/ or the published database.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import datetime as dt
import itertools
import random
import re
import shutil
import sys
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

from loaders.provenance import INFERENCE_WORDS, provenance, source_column
from loaders.schema import PROJECT_ROOT, Field, Package, Resource

SEED = 20240225
BENCH_DIR = Path(__file__).resolve().parent
DATA_DIR = BENCH_DIR / "data"
# Rows per unit of scale for tables that grow faster or slower than linearly; every other table gets
# `base rows x scale`. At scale 1000: ~7,000 documents (340 municipalities x 10 years x 2), 6 themes each,
# 340,000 agreements (~100 per yearly agreement), 2.5 partners per agreement and 2,000,000 figures.
GROWTH: dict[str, float] = {
    "partners": 3,
    "documents": 7,
    "themes": 42,
    "agreements": 340,
    "agreement_partners": 850,
    "document_partners": 28,
    "specifications": 2000,
}
TEXT_POOL = 4000  # distinct texts generated per column; rows draw from the pool
WORD = re.compile(r"[A-Za-zÀ-ÿ0-9][\w'’-]*", re.UNICODE)
FALLBACK_WORDS = ["woningen", "huurders", "gemeente", "corporatie", "afspraak", "sloop", "leefbaarheid"]


@dataclass
class Profile:
    """What today's CSV says about one column."""

    values: list[str] = field(default_factory=list)

    @property
    def present(self) -> list[str]:
        return [v for v in self.values if v != ""]

    @property
    def empty_share(self) -> float:
        return 1 - len(self.present) / len(self.values) if self.values else 0.3

    @property
    def distinct_share(self) -> float:
        present = self.present
        return len(set(present)) / len(present) if present else 1.0

    @property
    def lengths(self) -> list[int]:
        return [len(v) for v in self.present] or [40]


def read_real(package: Package, resource: Resource) -> tuple[list[dict[str, str]], dict[str, Profile]]:
    path = PROJECT_ROOT / resource.path
    rows: list[dict[str, str]] = []
    if path.exists():
        with path.open(encoding="utf-8", newline="") as f:
            rows = [dict(r) for r in csv.DictReader(f)]
    profiles = {name: Profile([r.get(name) or "" for r in rows]) for name in resource.field_names}
    return rows, profiles


def vocabulary(package: Package) -> list[str]:
    words: list[str] = []
    for resource in package.resources:
        path = PROJECT_ROOT / resource.path
        if not path.exists():
            continue
        text_fields = [f.name for f in resource.fields if f.type == "string" and not f.enum
                       and "pattern" not in (f.raw.get("constraints") or {}) and f.raw.get("format") != "uri"]
        with path.open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                for name in text_fields:
                    words.extend(WORD.findall(row.get(name) or ""))
    # Inference wording belongs in a sentence marked AFLEIDING: only; random text must not carry it.
    words = [w for w in words if not INFERENCE_WORDS.search(w)]
    return sorted(set(words)) or FALLBACK_WORDS


# --- values from a regular expression (keys and coded values) -------------------------------------

# Characters tried for a class written as a category or a negation (\w, \d, [^-]): keys stay plain ASCII.
ALPHABET = [chr(c) for c in range(0x21, 0x7F)]
INFINITE = float("inf")


class Language:
    """The strings a regular expression matches, numbered: nth(0), nth(1), ... are distinct matches.

    Built from the parsed pattern, so any pattern of literals, classes, groups, alternatives and
    repeats (bounded or not, such as S[0-9]{3,}) can be counted and enumerated; shortest strings come
    first. Lookarounds and back-references have no such numbering and are refused with the pattern."""

    def __init__(self, pattern: str):
        self.pattern = pattern
        self.root = self._node(list(sre_parse.parse(pattern)))

    @property
    def count(self) -> float:
        return self.root[0]

    def nth(self, i: int) -> str:
        return self.root[1](i)

    def _refuse(self, what: str) -> ValueError:
        return ValueError(f"bench/generate.py cannot enumerate pattern {self.pattern!r}: {what}")

    def _chars(self, op: Any, av: Any) -> list[str] | None:
        """The characters one single-character item matches, or None if the item is not one."""
        if op is sre_parse.LITERAL:
            return [chr(av)]
        if op is sre_parse.NOT_LITERAL:
            return [c for c in ALPHABET if ord(c) != av]
        if op is sre_parse.ANY:
            return ALPHABET
        if op is sre_parse.CATEGORY:
            return [c for c in ALPHABET if re.fullmatch(_CATEGORIES[av], c)]
        if op is sre_parse.IN:
            negate = bool(av) and av[0][0] is sre_parse.NEGATE
            chosen: set[str] = set()
            for sub_op, sub_av in av[1:] if negate else av:
                if sub_op is sre_parse.RANGE:
                    chosen.update(chr(c) for c in range(sub_av[0], sub_av[1] + 1))
                else:
                    found = self._chars(sub_op, sub_av)
                    if found is None:
                        raise self._refuse(f"class item {sub_op}")
                    chosen.update(found)
            return [c for c in ALPHABET if c not in chosen] if negate else sorted(chosen)
        return None

    def _node(self, items: list[Any]) -> tuple[float, Any]:
        """(count, nth) for a sequence of parsed items."""
        parts = [self._item(op, av) for op, av in items]
        infinite = [k for k, (count, _) in enumerate(parts) if count == INFINITE]

        def nth(i: int) -> str:
            if infinite:
                # The first unbounded part carries the number; every other part takes its first string.
                return "".join(f(i if k == infinite[0] else 0) for k, (_, f) in enumerate(parts))
            out = []
            for count, f in reversed(parts):
                i, r = divmod(i, int(count))
                out.append(f(r))
            return "".join(reversed(out))

        total: float = 1
        for count, _ in parts:
            total *= count
        return (INFINITE if infinite else total), nth

    def _item(self, op: Any, av: Any) -> tuple[float, Any]:
        chars = self._chars(op, av)
        if chars is not None:
            if not chars:
                raise self._refuse("a class that matches no printable ASCII character")
            return len(chars), chars.__getitem__
        if op is sre_parse.AT:
            return 1, lambda _i: ""
        if op is sre_parse.SUBPATTERN:
            return self._node(list(av[-1]))
        if op is sre_parse.BRANCH:
            options = [self._node(list(b)) for b in av[1]]
            unbounded = [f for count, f in options if count == INFINITE]
            if unbounded:
                return INFINITE, unbounded[0]

            def branch(i: int) -> str:
                for count, f in options:
                    if i < count:
                        return f(i)
                    i -= int(count)
                raise IndexError(i)

            return sum(count for count, _ in options), branch
        if op in _REPEATS:
            low, high, sub = av
            high = INFINITE if high is sre_parse.MAXREPEAT else high
            count, f = self._node(list(sub))
            if count == INFINITE:
                times = max(low, 1) if high >= 1 else 0
                return INFINITE, lambda i: f(i) + f(0) * (times - 1) if times else ""

            def repeat(i: int) -> str:
                k = low
                while k <= high:
                    block = int(count) ** k
                    if i < block:
                        out = []
                        for _ in range(k):
                            i, r = divmod(i, int(count))
                            out.append(f(r))
                        return "".join(reversed(out))
                    i -= block
                    k += 1
                raise IndexError(i)

            if high == INFINITE:
                return INFINITE, repeat
            return sum(count**k for k in range(low, int(high) + 1)), repeat
        raise self._refuse(f"{op} has no list of matching strings")


_CATEGORIES = {
    sre_parse.CATEGORY_DIGIT: r"\d", sre_parse.CATEGORY_NOT_DIGIT: r"\D",
    sre_parse.CATEGORY_WORD: r"\w", sre_parse.CATEGORY_NOT_WORD: r"\W",
    sre_parse.CATEGORY_SPACE: r"\s", sre_parse.CATEGORY_NOT_SPACE: r"\S",
}
_REPEATS = tuple(getattr(sre_parse, name) for name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT")
                 if hasattr(sre_parse, name))


class KeyMaker:
    """Unique values for a key column that match its pattern, never one of the real values."""

    def __init__(self, resource: Resource, f: Field, taken: set[str]):
        self.pattern = (f.raw.get("constraints") or {}).get("pattern")
        self.regex = re.compile(self.pattern) if self.pattern else None
        self.taken = taken
        self.stem = re.sub(r"[^a-z0-9]+", "", resource.name.lower())[:4] or "row"
        self.language = Language(self.pattern) if self.pattern else None
        self.counter = itertools.count()

    @property
    def capacity(self) -> float:
        if self.language is None:
            return INFINITE
        return self.language.count - len(self.taken)

    def __next__(self) -> str:
        while True:
            i = next(self.counter)
            if self.language is not None and i >= self.language.count:
                raise ValueError(f"pattern {self.pattern!r} allows no more keys")
            value = self.language.nth(i) if self.language is not None else f"{self.stem}-x{i:07d}"
            if value in self.taken:
                continue
            if self.regex and not self.regex.fullmatch(value):
                raise ValueError(f"cannot make keys for pattern {self.pattern!r}: made {value!r}")
            self.taken.add(value)
            return value


# --- one column ---------------------------------------------------------------------------------

class Column:
    """Draws values for one non-key column with the distribution of today's column."""

    def __init__(self, f: Field, profile: Profile, rng: random.Random, words: list[str]):
        self.f, self.rng, self.words = f, rng, words
        self.constraints = f.raw.get("constraints") or {}
        self.real = profile.present
        self.empty = 0.0 if f.required else profile.empty_share
        self.distinct = profile.distinct_share
        self.lengths = profile.lengths
        self.pool: list[str] = []
        if f.enum:
            counts = Counter(v for v in self.real if v in f.enum)
            self.enum_values = list(f.enum)
            weights = [counts.get(v, 0) + 1 for v in self.enum_values]  # +1: every allowed value appears
            self.enum_cum = list(itertools.accumulate(weights))

    def _text(self, length: int) -> str:
        max_len = self.constraints.get("maxLength")
        length = max(1, min(length, max_len or length))
        words = []
        n = 0
        while n < length:
            w = self.rng.choice(self.words)
            if words and INFERENCE_WORDS.search(f"{words[-1]} {w}"):
                continue  # two harmless words can make one hedge ("vrijwel" + "zeker"), which the loader refuses
            words.append(w)
            n += len(w) + 1
        text = " ".join(words)[:length].rstrip()
        text = text[0].upper() + text[1:] if text else "x"
        if not text[0].isalnum():
            text = "A" + text[1:]
        return text

    def _partial_date(self) -> str:
        precision = len(self.rng.choice(self.real)) if self.real else 10
        day = dt.date(2015, 1, 1) + dt.timedelta(days=self.rng.randrange(11 * 365))
        return day.isoformat()[: 4 if precision <= 4 else 7 if precision <= 7 else 10]

    def _fresh(self) -> Any:
        f, rng, c = self.f, self.rng, self.constraints
        if f.enum:
            x = rng.random() * self.enum_cum[-1]
            return self.enum_values[bisect.bisect_right(self.enum_cum, x)]
        if f.type == "boolean":
            if self.real:
                return rng.choice(self.real)
            return rng.choice([*f.true_values[:1], *f.false_values[:1]])
        if f.type == "integer":
            lo, hi = c.get("minimum", 0), c.get("maximum", 1000)
            if self.real and rng.random() < 0.9:
                base = int(rng.choice(self.real))
                value = base + rng.randint(-3, 3) if base > 1900 else round(base * rng.uniform(0.5, 1.5))
            else:
                value = rng.randint(lo, min(hi, lo + 1000))
            return str(max(lo, min(hi, value)))
        if f.type == "number":
            lo, hi = c.get("minimum", 0), c.get("maximum")
            if self.real:
                value = float(rng.choice(self.real)) * rng.uniform(0.8, 1.2)
            else:
                value = rng.uniform(lo, hi if hi is not None else lo + 1000)
            value = max(lo, value if hi is None else min(hi, value))
            return str(round(value)) if value > 100 else f"{value:.2f}"
        if f.partial_date:
            return self._partial_date()
        if c.get("pattern"):
            # A coded value such as theme_key: a real value or a new slug-like code.
            if self.real and rng.random() < 0.5:
                return rng.choice(self.real)
            code = f"code-{rng.randrange(10**6)}"
            return code if re.fullmatch(c["pattern"], code) else (rng.choice(self.real) if self.real else code)
        if f.raw.get("format") == "uri":
            return f"https://example.org/bron/{rng.randrange(10**7)}"
        return self._text(rng.choice(self.lengths))

    def draw(self) -> Any:
        if self.empty and self.rng.random() < self.empty:
            return ""
        if self.f.enum or self.f.type != "string" or self.f.partial_date:
            return self._fresh()
        # Text: reuse as often as today's column does (facets repeat, summaries do not), from a pool.
        if self.pool and (len(self.pool) >= TEXT_POOL or self.rng.random() > self.distinct):
            return self.rng.choice(self.pool)
        value = self._fresh()
        self.pool.append(value)
        return value


# --- tables -------------------------------------------------------------------------------------

def target_rows(resource: Resource, base: int, scale: int) -> int:
    if scale <= 1:
        return base
    per_unit = GROWTH.get(resource.name, max(base, 1))
    return max(base, round(per_unit * scale))


def generate(scale: int, out: Path, seed: int = SEED, log: Any = print) -> dict[str, int]:
    package = Package.load(PROJECT_ROOT)
    words = vocabulary(package)
    if out.exists():
        shutil.rmtree(out)
    (out / "csv").mkdir(parents=True)
    shutil.copy(PROJECT_ROOT / "datapackage.yaml", out / "datapackage.yaml")
    keys: dict[tuple[str, str], list[str]] = {}  # (resource, column) -> every value of a referenced key
    counts: dict[str, int] = {}
    referenced = {(fk.resource, fk.reference_fields[0]) for r in package.resources for fk in r.foreign_keys}
    for resource in package.load_order():
        started = time.monotonic()
        rng = random.Random(seed ^ zlib.crc32(resource.name.encode()))
        real_rows, profiles = read_real(package, resource)
        n_target = target_rows(resource, len(real_rows), scale)
        pk = list(resource.primary_key)
        fk_of = {fk.fields[0]: fk for fk in resource.foreign_keys if len(fk.fields) == 1}
        single_key = pk[0] if len(pk) == 1 and pk[0] not in fk_of else None
        key_maker = None
        if single_key:
            key_maker = KeyMaker(resource, resource.field(single_key), {r[single_key] for r in real_rows})
            n_target = min(n_target, len(real_rows) + int(min(key_maker.capacity, 10**9)))
        columns = {f.name: Column(f, profiles[f.name], rng, words) for f in resource.fields}
        empty_fk = {name: (0.0 if resource.field(name).required else profiles[name].empty_share)
                    for name in fk_of}
        seen_pk = {tuple(r[c] for c in pk) for r in real_rows} if pk and not single_key else set()
        own: dict[str, list[str]] = {}  # self-referencing keys generated so far (acyclic: only earlier rows)
        # A value stated by a source needs that source on its row (loaders/provenance.py).
        sourced = {f.name: source_column(package, resource, f) for f in resource.fields
                   if provenance(f) == "source"}
        path = out / resource.path
        path.parent.mkdir(parents=True, exist_ok=True)
        written = 0
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(resource.field_names)
            for row in real_rows:
                writer.writerow([row.get(n, "") for n in resource.field_names])
                written += 1
            for name in resource.field_names:
                if (resource.name, name) in referenced:
                    keys.setdefault((resource.name, name), []).extend(r[name] for r in real_rows)
                    own[name] = list(keys[(resource.name, name)])
            attempts = 0
            while written < n_target and attempts < n_target * 20:
                attempts += 1
                row: dict[str, Any] = {}
                for name in resource.field_names:
                    if name == single_key:
                        assert key_maker is not None
                        row[name] = next(key_maker)
                    elif name in fk_of:
                        fk = fk_of[name]
                        if empty_fk[name] and rng.random() < empty_fk[name]:
                            row[name] = ""
                            continue
                        pool = (own.get(fk.reference_fields[0]) if fk.resource == resource.name
                                else keys.get((fk.resource, fk.reference_fields[0])))
                        if fk.resource == resource.name and not resource.field(name).required:
                            # A self-reference (successor, part of) is rare and points back, never round.
                            row[name] = rng.choice(pool) if pool and rng.random() < 0.05 else ""
                        else:
                            row[name] = rng.choice(pool) if pool else ""
                    else:
                        row[name] = columns[name].draw()
                for name, source in sourced.items():
                    if row[name] != "" and row.get(source) == "" and source in fk_of:
                        fk = fk_of[source]
                        pool = keys.get((fk.resource, fk.reference_fields[0]))
                        row[source] = rng.choice(pool) if pool else ""
                        if row[source] == "" and not resource.field(name).required:
                            row[name] = ""
                if seen_pk is not None and pk and not single_key:
                    ident = tuple(row[c] for c in pk)
                    if ident in seen_pk:
                        continue
                    seen_pk.add(ident)
                writer.writerow([row[n] for n in resource.field_names])
                written += 1
                for name in own:
                    own[name].append(row[name])
                for name in resource.field_names:
                    if (resource.name, name) in referenced and name not in own:
                        keys.setdefault((resource.name, name), []).append(row[name])
            for name, values in own.items():
                keys[(resource.name, name)] = values
        counts[resource.name] = written
        log(f"{resource.name}: {written:,} rows ({time.monotonic() - started:.1f} s)")
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, required=True)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", type=Path, help="default: bench/data/<scale>")
    args = parser.parse_args(argv)
    out = args.out or DATA_DIR / str(args.scale)
    started = time.monotonic()
    counts = generate(args.scale, out, args.seed, log=lambda m: print(m, file=sys.stderr))
    print(f"Wrote {out}: {sum(counts.values()):,} rows in {len(counts)} tables "
          f"in {time.monotonic() - started:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
