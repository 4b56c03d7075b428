"""The training panel's form, made from the preset specification itself: every field of the
TOML's tables with its documentation, range, choices and default, grouped as the TOML is
(model, channel, train, render), each marked with the generator kinds it acts on. A field added
to spec.py appears in the form with nothing else changed, and the page sends back a TOML-shaped
table that `spec_from_dict` checks with the CLI's own one-line messages: the TOML, the CLI and
the page cannot drift."""

from __future__ import annotations

import dataclasses
import typing

from ..spec import Spec

TABLES = ("model", "channel", "train", "render")


def describe(spec: Spec) -> dict:
    """The form of `spec`: {name, description, kind, groups: [{table, fields | tables}]}."""
    groups = []
    for table in TABLES:
        part = getattr(spec, table)
        items = fields(type(part), part)
        groups.append({"table": table, "tables" if table == "channel" else "fields": items})
    return {"name": spec.name, "description": spec.description,
            "kind": spec.model.generator, "groups": groups}


def fields(cls, values) -> list[dict]:
    """Each field of a table's dataclass with its value in `values` (an instance, or None:
    the defaults) and its constraints; a nested table ([channel.noise], [model.shapes]) as a
    sub-table, on when present."""
    nested = nested_tables(cls)
    out = []
    for f in dataclasses.fields(cls):
        if f.name == "path":
            continue
        m = f.metadata
        value = getattr(values, f.name) if values is not None else None
        kinds = list(m["kinds"]) if m.get("kinds") else None
        if f.name in nested:
            sub = nested[f.name]
            out.append({"key": f.name, "type": "table", "on": value is not None,
                        "doc": m.get("doc") or (sub.__doc__ or "").strip().split("\n")[0],
                        "kinds": kinds, "fields": fields(sub, value or sub())})
            continue
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        if values is None or (m.get("unset") and value == default):
            value = None if m.get("unset") or values is not None else default
        out.append({"key": f.name, "type": type_name(default), "value": value,
                    "default": default, "doc": m.get("doc", ""), "lo": m.get("lo"),
                    "hi": m.get("hi"), "choices": m.get("choices"),
                    "length": m.get("length"), "unset": m.get("unset", ""), "kinds": kinds})
    return out


def nested_tables(cls) -> dict[str, type]:
    """{field name: dataclass} of a dataclass's fields that are tables of their own."""
    hints = typing.get_type_hints(cls)
    found = {}
    for f in dataclasses.fields(cls):
        for arg in typing.get_args(hints.get(f.name)) or (hints.get(f.name),):
            if dataclasses.is_dataclass(arg):
                found[f.name] = arg
    return found


def type_name(default) -> str:
    for kind in (bool, int, float, str, list):
        if isinstance(default, kind):
            if kind is list:  # a list of integers or of numbers
                return "ints" if all(isinstance(v, int) for v in default) else "floats"
            return kind.__name__
    return "str"


def applies(field: dict, kind: str) -> bool:
    return not field.get("kinds") or kind in field["kinds"]
