"""Parameters in force for a run: catalogue values, optionally overridden by a YAML file.

Finance writes overrides in the unit the catalogue states (`M02.rate: 1.5` means
1.5 %); rules read them converted (`params.amount("M02.cap")` in 元,
`params.ratio("M02.rate")` as 0.015). A category parameter (`M21.activity_types:
[新品发布会, 产品订货会]`) may be overridden too, with values among its `choices` (the values
docs/contract/FEEDS.md allows for the column it is compared with); rules bind one text as
VARCHAR and a list as VARCHAR[].
"""

from __future__ import annotations

import difflib
import hashlib
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import yaml

from .catalogue import UNIT_FACTORS, Catalogue, CatalogueError, Parameter, check_value


class _OverridesLoader(yaml.SafeLoader):
    """YAML as finance types it. PyYAML reads YAML 1.1: a key given twice keeps the last value
    without a word (`M02.rate: 1.5` … `M02.rate: 1` dropped the 1.5), `050` is octal 40, `0200`
    128, `0x64` 100 and `1:30` sexagesimal 90. Here a key twice is an error, and such numbers are
    refused as ambiguous; plain numbers, decimals and `.nan`/`.inf` (refused later as not finite)
    read as before."""

    def construct_mapping(self, node, deep=False):
        seen: set = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, str) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"{key!r} is given twice (line {key_node.start_mark.line + 1}): keep one", key_node.start_mark)
            if isinstance(key, str):
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


_INT, _FLOAT, _AMBIGUOUS = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "!ambiguous-number"
_OverridesLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (_INT, _FLOAT)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_OverridesLoader.add_implicit_resolver(  # tried first: a leading 0, 0x/0o/0b, or a colon between digits
    _AMBIGUOUS, re.compile(r"^[-+]?(?:0[0-9_]+|0[xXoObB][0-9a-fA-F_]+|[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?)$"),
    list("-+0123456789"))
_OverridesLoader.add_implicit_resolver(_INT, re.compile(r"^[-+]?(?:0|[1-9][0-9_]*)$"), list("-+0123456789"))
_OverridesLoader.add_implicit_resolver(
    _FLOAT, re.compile(r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
                      |\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
                      |[-+]?\.(?:inf|Inf|INF)
                      |\.(?:nan|NaN|NAN))$""", re.X), list("-+0123456789."))


def _ambiguous_number(loader: yaml.SafeLoader, node: yaml.Node):
    raise yaml.constructor.ConstructorError(
        None, None, f"{node.value!r} is an ambiguous number (YAML 1.1 reads a leading 0 as octal, 0x as hex and "
        "a colon as base 60): write it in plain decimal digits, 50 for 050", node.start_mark)


_OverridesLoader.add_constructor(_AMBIGUOUS, _ambiguous_number)


def load_overrides(text: str) -> object:
    """A parameter override file's YAML, strictly (`_OverridesLoader`)."""
    return yaml.load(text, Loader=_OverridesLoader)  # noqa: S506 — a SafeLoader subclass


@dataclass(frozen=True)
class ParameterInForce:
    parameter: Parameter
    value: Decimal | int | str | tuple[str, ...] | None  # in the parameter's unit (a category: its text or texts)
    origin: str  # "catalogue" or "override: <file>"

    @property
    def text(self) -> str | None:
        """The value as stored in marts.policy_parameters and shown in the 参数 sheet."""
        if isinstance(self.value, tuple):
            return "、".join(self.value)
        return None if self.value is None else str(self.value)

    @property
    def display(self) -> str:
        if self.value is None:
            return "无上限" if self.parameter.id.endswith("cap") else "—"
        if self.parameter.type == "category":
            return self.text
        unit = self.parameter.unit
        return f"{_plain(self.value)}{unit}" if unit not in ("年月", "年") else str(self.value)


class Parameters:
    def __init__(self, catalogue: Catalogue, overrides: dict[str, object] | None = None, origin: str = "") -> None:
        self.catalogue = catalogue
        known = catalogue.parameters
        self._in_force = {pid: ParameterInForce(p, p.value, "catalogue") for pid, p in known.items()}
        for pid, value in (overrides or {}).items():
            if pid not in known:
                near = difflib.get_close_matches(str(pid), known, n=3)
                hint = f" (did you mean {', '.join(near)}?)" if near else " (the ids are listed on the 参数 sheet)"
                raise CatalogueError(f"{origin or 'override'}: unknown parameter id {pid!r}{hint}")
            value = _coerce(known[pid], value)
            try:
                check_value(known[pid], value)
            except ValueError as exc:
                raise CatalogueError(f"{origin or 'override'}: {exc}") from None
            self._in_force[pid] = ParameterInForce(known[pid], value, f"override: {origin}")

    @classmethod
    def from_file(cls, catalogue: Catalogue, path: Path | None) -> Parameters:
        if path is None:
            return cls(catalogue)
        try:
            data = load_overrides(Path(path).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise CatalogueError(f"{path}: cannot read parameter overrides: {exc}") from None
        if not isinstance(data, dict):
            raise CatalogueError(f"{path}: expected a mapping `parameter id: value`")
        return cls(catalogue, data, Path(path).name)

    def __iter__(self):
        return iter(self._in_force.values())

    def get(self, pid: str) -> ParameterInForce:
        try:
            return self._in_force[pid]
        except KeyError:
            raise CatalogueError(f"the rules need parameter {pid!r}, which the catalogue lacks") from None

    def base(self, pid: str) -> Decimal | int | str | None:
        """The value converted for computation: money in 元, % and 百分点 as fractions."""
        entry = self.get(pid)
        if entry.value is None:
            return None
        factor = UNIT_FACTORS[entry.parameter.unit]
        if isinstance(entry.value, tuple):
            return list(entry.value)  # DuckDB binds a list as VARCHAR[]
        if factor is None:
            return entry.value
        return Decimal(entry.value) * factor

    def display(self, pid: str) -> str:
        return self.get(pid).display

    def fingerprint(self) -> str:
        text = "\n".join(f"{p.parameter.id}={p.text}" for p in sorted(self, key=lambda p: p.parameter.id))
        return hashlib.sha256(text.encode()).hexdigest()[:12]


def _coerce(param: Parameter, value: object) -> object:
    """YAML gives floats and ints; decimals are taken from their shortest text form."""
    if param.type == "decimal" and isinstance(value, float):
        return Decimal(repr(value))
    if param.type == "decimal" and isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    if param.type == "month" and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if param.type == "category" and isinstance(value, list):
        return tuple(value)
    return value


def _plain(value: object) -> str:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)
