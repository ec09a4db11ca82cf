"""Read the data package descriptor: the one place where tables and columns are defined."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import yaml

from .files import read_input
from .yaml_files import SAFE_LOADER

DESCRIPTOR_NAME = "datapackage.yaml"
DESCRIPTOR_MAX_BYTES = 10 << 20
# The repository root: the loader package lives in it (installed editable).
PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    description_nl: str
    description_en: str
    # The short Dutch label shown as the column's heading (Table Schema `title`); the name stays the technical one.
    title: str = ""
    required: bool = False
    enum: tuple[str, ...] = ()
    partial_date: bool = False
    facet: bool = False
    # A column a table page offers to sort on besides its keys, facets and label (each gets an index).
    sortable: bool = False
    searchable: bool = False
    true_values: tuple[str, ...] = ("true",)
    false_values: tuple[str, ...] = ("false",)
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def description(self) -> str:
        """The bilingual description shown to users: Dutch, then English."""
        return f"{self.description_nl} — {self.description_en}"

    @property
    def label(self) -> str:
        """The heading people see: the Dutch title, or the technical name when a descriptor has none."""
        return self.title or self.name


@dataclass(frozen=True)
class ForeignKey:
    fields: tuple[str, ...]
    resource: str
    reference_fields: tuple[str, ...]


@dataclass(frozen=True)
class Resource:
    name: str
    path: str
    title: str
    description_nl: str
    description_en: str
    fields: tuple[Field, ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[ForeignKey, ...]
    label_column: str | None = None
    min_rows: int = 0

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def description(self) -> str:
        return f"{self.description_nl} — {self.description_en}"

    @property
    def self_links(self) -> list[tuple[str, str]]:
        """(referenced key, referring column) of every one-column foreign key into this same table."""
        return [(fk.reference_fields[0], fk.fields[0]) for fk in self.foreign_keys
                if fk.resource == self.name and len(fk.fields) == 1 and len(fk.reference_fields) == 1]


def _field(raw: dict[str, Any]) -> Field:
    constraints = raw.get("constraints") or {}
    return Field(
        name=raw["name"],
        type=raw.get("type", "string"),
        description_nl=raw.get("description", "").strip(),
        description_en=raw.get("description_en", "").strip(),
        title=" ".join(str(raw.get("title") or "").split()),
        required=bool(constraints.get("required", False)),
        enum=tuple(constraints.get("enum") or ()),
        partial_date=bool(raw.get("partialDate", False)),
        facet=bool(raw.get("facet", False)),
        sortable=bool(raw.get("sortable", False)),
        searchable=bool(raw.get("searchable", False)),
        true_values=tuple(raw.get("trueValues") or ("true",)),
        false_values=tuple(raw.get("falseValues") or ("false",)),
        raw=raw,
    )


def _resource(raw: dict[str, Any]) -> Resource:
    schema = raw["schema"]
    fks = tuple(
        ForeignKey(
            fields=tuple(fk["fields"]),
            resource=fk["reference"]["resource"] or raw["name"],
            reference_fields=tuple(fk["reference"]["fields"]),
        )
        for fk in schema.get("foreignKeys") or ()
    )
    return Resource(
        name=raw["name"],
        path=raw["path"],
        title=raw.get("title", raw["name"]),
        description_nl=" ".join(raw.get("description", "").split()),
        description_en=" ".join(raw.get("description_en", "").split()),
        fields=tuple(_field(f) for f in schema["fields"]),
        primary_key=tuple(schema.get("primaryKey") or ()),
        foreign_keys=fks,
        label_column=raw.get("labelColumn"),
        min_rows=int(raw.get("minRows", 0)),
    )


def _scalar(mapping: yaml.Node, key: str) -> yaml.Node | None:
    if isinstance(mapping, yaml.MappingNode):
        for k, v in mapping.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return v
    return None


def _field_lines(document: yaml.Node | None) -> dict[tuple[str, str], int]:
    """Where each field starts in the descriptor, read from the YAML nodes the descriptor was built from."""
    lines: dict[tuple[str, str], int] = {}
    resources = _scalar(document, "resources") if document is not None else None
    for resource in resources.value if isinstance(resources, yaml.SequenceNode) else ():
        name = _scalar(resource, "name")
        fields = _scalar(_scalar(resource, "schema"), "fields") if _scalar(resource, "schema") else None
        if not isinstance(name, yaml.ScalarNode) or not isinstance(fields, yaml.SequenceNode):
            continue
        for f in fields.value:
            field_name = _scalar(f, "name")
            if isinstance(field_name, yaml.ScalarNode):
                lines[(name.value, field_name.value)] = f.start_mark.line + 1
    return lines


@dataclass(frozen=True)
class Package:
    """The parsed descriptor plus the directory its relative paths start from."""

    root: Path
    raw: dict[str, Any]
    # (resource name, field name) -> the line of datapackage.yaml where that field starts, for messages.
    field_lines: dict[tuple[str, str], int] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def load(cls, root: Path | str = ".") -> Package:
        """Read the descriptor; OSError, UnicodeError or yaml.YAMLError when it cannot be read, ValueError when
        it is not a descriptor at all."""
        root = Path(root)
        text = read_input(root / DESCRIPTOR_NAME, root, DESCRIPTOR_MAX_BYTES).decode("utf-8")
        loader = SAFE_LOADER(text)
        try:
            node = loader.get_single_node()
            raw = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
        if not isinstance(raw, dict) or not isinstance(raw.get("resources"), list):
            raise ValueError("it has no list of resources")
        return cls(root=root, raw=raw, field_lines=_field_lines(node))

    def field_line(self, resource: str, field_name: str) -> int:
        """The line of datapackage.yaml where a field is described (1 when not known)."""
        return self.field_lines.get((resource, field_name), 1)

    @cached_property
    def resources(self) -> tuple[Resource, ...]:
        return tuple(_resource(r) for r in self.raw["resources"])

    def resource(self, name: str) -> Resource:
        for r in self.resources:
            if r.name == name:
                return r
        raise KeyError(name)

    @property
    def title(self) -> str:
        return str(self.raw.get("title", ""))

    @property
    def partial_date_years(self) -> tuple[int, int] | None:
        """The first and last year a partialDate column may hold (package property partialDateYears)."""
        years = self.raw.get("partialDateYears")
        return (int(years["minimum"]), int(years["maximum"])) if years else None

    @property
    def license(self) -> dict[str, str]:
        return dict((self.raw.get("licenses") or [{}])[0])

    def load_order(self) -> list[Resource]:
        """Resources ordered so that every referenced table comes before its referrers."""
        done: list[Resource] = []
        pending = list(self.resources)
        while pending:
            progressed = False
            for r in list(pending):
                deps = {fk.resource for fk in r.foreign_keys} - {r.name}
                if deps <= {d.name for d in done}:
                    done.append(r)
                    pending.remove(r)
                    progressed = True
            if not progressed:
                raise ValueError(f"foreign keys form a cycle among {[r.name for r in pending]}")
        return done


@cache
def served_package() -> Package:
    """The project's own package, read once per process: the site never changes while it is served, and
    parsing datapackage.yaml costs about 14 ms, which the plugins used to spend on every row page and search."""
    return Package.load(PROJECT_ROOT)
