"""One value of a JSON column (custom fields) read in SQL, right on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Boolean, String, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.roles import ExpressionElementRole


class custom_text(FunctionElement[str]):
    """The key's value as text (None when absent); any key, Chinese names included."""

    type = String()
    inherit_cache = True
    name = "custom_text"

    def __init__(self, column: ExpressionElementRole[Any], key: str) -> None:
        # The JSON column is stored with ASCII escapes (`{"\u79ef\u5206": ...}`) and SQLite
        # (before 3.45) matches a path's key against the stored text as it is, so SQLAlchemy's
        # raw-key path `$."积分"` never matched a Chinese key. Both spellings are bound, the
        # escaped one for rows written so and the raw one for rows written unescaped; all
        # three values are parameters, so one cached statement is right for every key.
        raw = "$." + json.dumps(key, ensure_ascii=False)
        escaped = "$." + json.dumps(key)
        super().__init__(
            column, literal(key, String()), literal(raw, String()), literal(escaped, String())
        )


class custom_bool(custom_text):
    """The key's value as a yes/no."""

    type = Boolean()  # type: ignore[assignment]
    inherit_cache = True
    name = "custom_bool"


@compiles(custom_text)
def _default(element: custom_text, compiler: Any, **kw: Any) -> str:
    column, key, _raw, _escaped = element.clauses.clauses
    text = f"({compiler.process(column, **kw)} ->> {compiler.process(key, **kw)})"
    return f"CAST({text} AS BOOLEAN)" if isinstance(element, custom_bool) else text


@compiles(custom_text, "sqlite")
def _sqlite(element: custom_text, compiler: Any, **kw: Any) -> str:
    column, _key, raw, escaped = element.clauses.clauses
    col = compiler.process(column, **kw)
    return (
        f"COALESCE(JSON_EXTRACT({col}, {compiler.process(raw, **kw)}), "
        f"JSON_EXTRACT({col}, {compiler.process(escaped, **kw)}))"
    )
