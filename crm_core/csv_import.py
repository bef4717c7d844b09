"""CSV import with a TOML column mapping: CSV rows become exchange records, imported at once.

The mapping (documented in the README; `examples/maven-crm/mapping.toml` is one) names the
files and says which column gives which field. Rows become the same records as the JSON Lines
format and go through `import_jsonl`: all or nothing, idempotent, audited. Everything wrong
with the mapping or the data is reported as `file:line` with the column, and nothing is written.
"""

from __future__ import annotations

import contextlib
import csv
import json
import re
import tomllib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from crm_core.exchange import ImportFailed, ImportReport, import_jsonl
from crm_core.stages import Stage
from crm_core.text import fold

# Keys each section accepts; anything else is a typo the mapping's author must hear about.
SECTIONS: dict[str, set[str]] = {
    "regions": {"file", "name"},
    "teams": {"file", "key", "name", "region", "manager"},
    "users": {"file", "name", "team", "role", "email"},
    "products": {"file", "name", "family", "price"},
    "customers": {"file", "name", "owner", "industry", "city", "custom"},
    "deals": {
        "file",
        "custom",
        "id",
        "title",
        "owner",
        "customer",
        "product",
        "stage",
        "stages",
        "opened",
        "closed",
        "expected_close",
        "amount",
        "amount_fallback",
        "zero_means_missing_in",
        "opened_stage",
        "missing_customer",
        "no_customer_name",
    },
    "notes": {"file", "id", "customer", "author", "kind", "occurred", "text"},
    "fixes": set(),
}
TOP = {"id_prefix", "currency", "date_format", *SECTIONS}
MOST_DEALS = "most_deals"
_FIELD = re.compile(r"\{([^{}]+)\}")
MAX_PROBLEMS = 50


class MappingFailed(Exception):
    """The mapping or the data is wrong; nothing was imported. Each problem names file:line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems

    def __str__(self) -> str:
        return "\n".join(self.problems)


@dataclass
class CsvImportReport:
    """What the import wrote, and every row it repaired or left out, with file:line."""

    written: ImportReport
    rows: Counter[str] = field(default_factory=Counter)
    # Description -> the rows it applies to ("sales_pipeline.csv:3").
    repaired: dict[str, list[str]] = field(default_factory=dict)
    skipped: dict[str, list[str]] = field(default_factory=dict)

    def lines(self) -> list[str]:
        """The report as text lines (every repaired or skipped row listed)."""
        out = [str(self.written)]
        for title, rows in (("repaired", self.repaired), ("not taken", self.skipped)):
            for what, where in rows.items():
                out.append(f"{title}: {what} ({len(where)} row(s)): {', '.join(where)}")
        return out


def _slug(text: str) -> str:
    return re.sub(r"[^\w]+", "-", fold(text)).strip("-")[:80] or "x"


class _Stop(Exception):
    pass


class _Run:
    """One mapping applied to one data folder."""

    def __init__(self, mapping_path: Path, data_dir: Path, stages: tuple[Stage, ...]) -> None:
        self.mapping_path = mapping_path
        self.data_dir = data_dir
        self.stage_names = {s.name for s in stages}
        self.problems: list[str] = []
        self.records: list[dict[str, Any]] = []
        self.origins: list[str] = []
        self.repaired: dict[str, list[str]] = {}
        self.skipped: dict[str, list[str]] = {}
        self.rows: Counter[str] = Counter()
        self.m: dict[str, Any] = {}

    # -- problems and repairs ---------------------------------------------------------------

    def problem(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")
        if len(self.problems) >= MAX_PROBLEMS:
            raise _Stop

    def repair(self, what: str, where: str) -> None:
        rows = self.repaired.setdefault(what, [])
        # A file read for several sections (teams and users) repairs its rows once.
        if not rows or rows[-1] != where:
            rows.append(where)

    def skip(self, why: str, where: str) -> None:
        self.skipped.setdefault(why, []).append(where)

    def emit(self, record: dict[str, Any], where: str) -> None:
        self.records.append(record)
        self.origins.append(where)

    # -- the mapping --------------------------------------------------------------------------

    def load_mapping(self) -> None:
        name = self.mapping_path.name
        try:
            self.m = tomllib.loads(self.mapping_path.read_text("utf-8"))
        except OSError as exc:
            raise MappingFailed([f"{self.mapping_path}: cannot read ({exc.strerror})"]) from exc
        except tomllib.TOMLDecodeError as exc:
            # The message ends "(at line L, column C)".
            raise MappingFailed([f"{name}: not valid TOML: {exc}"]) from exc
        problems = []
        for key in self.m:
            if key not in TOP:
                problems.append(f"{name}: unknown key '{key}' (known: {', '.join(sorted(TOP))})")
        for section, keys in SECTIONS.items():
            body = self.m.get(section)
            if body is None or section == "fixes":
                continue
            if not isinstance(body, dict):
                problems.append(f"{name}: [{section}] must be a table")
                continue
            for key in body:
                if key not in keys:
                    problems.append(f"{name}: [{section}] unknown key '{key}'")
            if "file" not in body:
                problems.append(f'{name}: [{section}] needs file = "....csv"')
            custom = body.get("custom", {})
            # [customers.custom] region = "sector": a custom field's name = the column giving it.
            if not isinstance(custom, dict) or not all(isinstance(v, str) for v in custom.values()):
                problems.append(
                    f"{name}: [{section}.custom] must map field names to columns "
                    '(region = "sector")'
                )
        for section in ("users", "deals"):
            if section not in self.m:
                problems.append(f"{name}: a [{section}] table is required")
        stages = self.m.get("deals", {}).get("stages", {})
        for typed, ours in stages.items() if isinstance(stages, dict) else []:
            if str(ours).lower() not in self.stage_names:
                problems.append(
                    f"{name}: [deals.stages] {typed} = '{ours}' is not a configured stage "
                    f"({', '.join(sorted(self.stage_names))})"
                )
        if problems:
            raise MappingFailed(problems)

    def section(self, name: str) -> dict[str, Any]:
        body = self.m.get(name) or {}
        return body if isinstance(body, dict) else {}

    # -- reading CSV --------------------------------------------------------------------------

    def read(self, section: str) -> Iterator[tuple[str, dict[str, str]]]:
        """Rows of a section's file as (file:line, row), after the header is checked."""
        spec = self.section(section)
        fname = str(spec["file"])
        path = self.data_dir / fname
        if not path.is_file():
            self.problem(
                f"{self.mapping_path.name}", f"[{section}] file {fname} is not in {self.data_dir}"
            )
            return
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            header = set(reader.fieldnames or [])
            missing = sorted(c for c in self.columns(section) if c not in header)
            for col in missing:
                self.problem(
                    f"{fname}:1", f"column '{col}' (named by [{section}]) is not in the header"
                )
            if missing:
                return
            for row in reader:
                where = f"{fname}:{reader.line_num}"
                yield where, self.fixed(row, where)

    def columns(self, section: str) -> set[str]:
        """The CSV columns a section's mapping names (templates included)."""
        spec = self.section(section)
        out: set[str] = set()
        for key, value in spec.items():
            if key in (
                "file",
                "role",
                "stages",
                "zero_means_missing_in",
                "opened_stage",
                "missing_customer",
                "amount_fallback",
                "no_customer_name",
            ):
                continue
            if key == "owner" and value == MOST_DEALS:
                continue
            if key == "custom" and isinstance(value, dict):
                out.update(str(v) for v in value.values())
                continue
            if not isinstance(value, str):
                continue
            fields = _FIELD.findall(value)
            out.update(fields if fields else [value])
        return out

    def fixed(self, row: dict[str, str], where: str) -> dict[str, str]:
        """The row with the mapping's value repairs applied (each one recorded)."""
        fixes = self.section("fixes")
        out = {k: (v or "").strip() for k, v in row.items() if k is not None}
        for col, table in fixes.items():
            value = out.get(col)
            if value and isinstance(table, dict) and value in table:
                out[col] = str(table[value])
                self.repair(f"{col} '{value}' read as '{table[value]}'", where)
        return out

    def value(self, section: str, key: str, row: dict[str, str]) -> str:
        """A mapped field of a row: a column's value, or a template filled from the row."""
        spec = self.section(section)
        template = spec.get(key)
        if not isinstance(template, str):
            return ""
        if _FIELD.search(template):
            return _FIELD.sub(lambda m: row.get(m.group(1), ""), template).strip()
        return row.get(template, "")

    def add_custom(self, section: str, rec: dict[str, Any], row: dict[str, str]) -> None:
        """The row's custom field values (the import checks them against the declared fields)."""
        columns = self.section(section).get("custom") or {}
        values = {str(f): row.get(str(c), "").strip() for f, c in columns.items()}
        values = {f: v for f, v in values.items() if v}
        if values:
            rec["custom"] = values

    def day(self, section: str, key: str, row: dict[str, str], where: str) -> datetime | None:
        text = self.value(section, key, row)
        if not text:
            return None
        fmt = str(self.m.get("date_format", "%Y-%m-%d"))
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            col = self.section(section)[key]
            self.problem(where, f"column '{col}': '{text}' is not a date ({fmt})")
            return None

    def amount(self, text: str, where: str, col: str) -> Decimal | None:
        if not text:
            return None
        try:
            value = Decimal(text.replace(",", ""))
        except InvalidOperation:
            self.problem(where, f"column '{col}': '{text}' is not an amount")
            return None
        if not value.is_finite() or value < 0:
            self.problem(where, f"column '{col}': '{text}' is not an amount")
            return None
        return value.quantize(Decimal("0.01"))

    # -- building records -----------------------------------------------------------------

    def build(self) -> None:
        prefix = str(self.m.get("id_prefix", "csv"))
        currency = str(self.m.get("currency", "USD")).upper()
        regions: dict[str, str] = {}
        if "regions" in self.m:
            for where, row in self.read("regions"):
                name = self.value("regions", "name", row)
                if name and name not in regions:
                    regions[name] = f"{prefix}-region-{_slug(name)}"
                    self.emit({"type": "region", "external_id": regions[name], "name": name}, where)
                    self.rows["region"] += 1
        teams: dict[str, str] = {}
        managers: dict[str, tuple[str, str]] = {}
        if "teams" in self.m:
            for where, row in self.read("teams"):
                key = self.value("teams", "key", row)
                if not key or key in teams:
                    continue
                teams[key] = f"{prefix}-team-{_slug(key)}"
                record: dict[str, Any] = {
                    "type": "team",
                    "external_id": teams[key],
                    "name": self.value("teams", "name", row) or key,
                }
                region = self.value("teams", "region", row)
                if region:
                    if region not in regions:
                        col = self.section("teams")["region"]
                        self.problem(where, f"column '{col}': unknown region '{region}'")
                    else:
                        record["region"] = regions[region]
                self.emit(record, where)
                self.rows["team"] += 1
                manager = self.value("teams", "manager", row)
                if manager:
                    managers[manager] = (teams[key], where)
        users: dict[str, str] = {}
        for name, (team, where) in managers.items():
            users[name] = _slug(name)
            self.emit(
                {
                    "type": "user",
                    "external_id": users[name],
                    "name": name,
                    "role": "manager",
                    "team": team,
                },
                where,
            )
            self.rows["user"] += 1
        role = str(self.section("users").get("role", "rep"))
        for where, row in self.read("users"):
            name = self.value("users", "name", row)
            if not name:
                self.skip("a user row without a name", where)
                continue
            if name in users:
                continue
            users[name] = _slug(name)
            user: dict[str, Any] = {
                "type": "user",
                "external_id": users[name],
                "name": name,
                "role": role,
            }
            team = self.value("users", "team", row)
            if team:
                if team not in teams:
                    col = self.section("users")["team"]
                    self.problem(where, f"column '{col}': unknown team '{team}'")
                else:
                    user["team"] = teams[team]
            email = self.value("users", "email", row)
            if email:
                user["email"] = email
            self.emit(user, where)
            self.rows["user"] += 1
        products: dict[str, tuple[str, Decimal | None]] = {}
        if "products" in self.m:
            for where, row in self.read("products"):
                name = self.value("products", "name", row)
                if not name or name in products:
                    continue
                price = self.amount(
                    self.value("products", "price", row),
                    where,
                    str(self.section("products").get("price", "")),
                )
                products[name] = (f"{prefix}-product-{_slug(name)}", price)
                rec: dict[str, Any] = {
                    "type": "product",
                    "external_id": products[name][0],
                    "name": name,
                    "currency": currency,
                }
                family = self.value("products", "family", row)
                if family:
                    rec["family"] = family
                if price is not None:
                    rec["price"] = str(price)
                self.emit(rec, where)
                self.rows["product"] += 1
        deal_rows = list(self.read("deals"))
        customers = self.build_customers(prefix, users, deal_rows)
        self.build_deals(prefix, currency, users, customers, products, deal_rows)
        if "notes" in self.m:
            self.build_notes(prefix, users, customers)

    def build_customers(
        self, prefix: str, users: dict[str, str], deal_rows: list[tuple[str, dict[str, str]]]
    ) -> dict[str, str]:
        customers: dict[str, str] = {}
        if "customers" not in self.m:
            return customers
        spec = self.section("customers")
        by_most = spec.get("owner") == MOST_DEALS
        counts: dict[str, Counter[str]] = {}
        if by_most:
            for _, row in deal_rows:
                account = self.value("deals", "customer", row)
                owner = self.value("deals", "owner", row)
                if account and owner in users:
                    counts.setdefault(account, Counter())[owner] += 1
        for where, row in self.read("customers"):
            name = self.value("customers", "name", row)
            if not name or name in customers:
                continue
            if by_most:
                tally = counts.get(name)
                if not tally:
                    self.skip("an account no deal names, so no one to own it", where)
                    continue
                # The rep with the most deals on the account; ties go to the first name.
                owner = min(tally, key=lambda u: (-tally[u], u))
            else:
                owner = self.value("customers", "owner", row)
                if owner not in users:
                    self.problem(where, f"column '{spec.get('owner')}': unknown user '{owner}'")
                    continue
            customers[name] = f"{prefix}-account-{_slug(name)}"
            rec: dict[str, Any] = {
                "type": "customer",
                "external_id": customers[name],
                "name": name,
                "owner": users[owner],
            }
            for key in ("industry", "city"):
                value = self.value("customers", key, row)
                if value:
                    rec[key] = value
            self.add_custom("customers", rec, row)
            self.emit(rec, where)
            self.rows["customer"] += 1
        return customers

    def build_deals(
        self,
        prefix: str,
        currency: str,
        users: dict[str, str],
        customers: dict[str, str],
        products: dict[str, tuple[str, Decimal | None]],
        deal_rows: list[tuple[str, dict[str, str]]],
    ) -> None:
        spec = self.section("deals")
        stages = {str(k): str(v).lower() for k, v in (spec.get("stages") or {}).items()}
        zero_missing = set(spec.get("zero_means_missing_in") or [])
        missing_customer = str(spec.get("missing_customer", "refuse"))
        no_customer_name = str(spec.get("no_customer_name", "No account ({owner})"))
        opened_stage = spec.get("opened_stage")
        closed_names = {"won", "lost"}
        placeholder: dict[str, str] = {}
        seen: set[str] = set()
        for where, row in deal_rows:
            ident = self.value("deals", "id", row)
            if not ident:
                self.problem(where, f"column '{spec.get('id')}': empty")
                continue
            if ident in seen:
                self.problem(where, f"column '{spec.get('id')}': '{ident}' appears twice")
                continue
            seen.add(ident)
            typed_stage = self.value("deals", "stage", row)
            stage = stages.get(typed_stage) if stages else typed_stage.lower()
            if stage is None or stage not in self.stage_names:
                known = ", ".join(stages) if stages else ", ".join(sorted(self.stage_names))
                self.problem(
                    where,
                    f"column '{spec.get('stage')}': unknown stage '{typed_stage}' "
                    f"(the mapping knows {known})",
                )
                continue
            owner = self.value("deals", "owner", row)
            if owner not in users:
                self.problem(where, f"column '{spec.get('owner')}': unknown user '{owner}'")
                continue
            account = self.value("deals", "customer", row)
            if account:
                customer = customers.get(account)
                if customer is None:
                    self.problem(
                        where, f"column '{spec.get('customer')}': unknown customer '{account}'"
                    )
                    continue
            elif missing_customer == "per_owner":
                # Kept on a placeholder customer per owner, so the deal stays in that rep's book.
                customer = placeholder.get(owner)
                if customer is None:
                    customer = placeholder[owner] = f"{prefix}-noaccount-{users[owner]}"
                    self.emit(
                        {
                            "type": "customer",
                            "external_id": customer,
                            "name": no_customer_name.format(owner=owner),
                            "owner": users[owner],
                        },
                        where,
                    )
                    self.rows["customer"] += 1
                self.repair(
                    f"no account: kept under '{no_customer_name.format(owner='<owner>')}'", where
                )
            elif missing_customer == "skip":
                self.skip("no account", where)
                continue
            else:
                self.problem(
                    where, f"column '{spec.get('customer')}': empty (set missing_customer)"
                )
                continue
            product_name = self.value("deals", "product", row)
            product = None
            if product_name:
                if product_name not in products:
                    self.problem(
                        where, f"column '{spec.get('product')}': unknown product '{product_name}'"
                    )
                    continue
                product = products[product_name]
            opened = self.day("deals", "opened", row, where)
            closed = self.day("deals", "closed", row, where)
            expected = self.day("deals", "expected_close", row, where)
            amount_col = str(spec.get("amount", ""))
            amount = self.amount(self.value("deals", "amount", row), where, amount_col)
            if amount == 0 and typed_stage in zero_missing:
                amount = None
            if amount is None and spec.get("amount_fallback") == "product_price" and product:
                amount = product[1]
                if amount is not None:
                    self.repair(f"no {amount_col}: the product's list price taken", where)
            if stage in closed_names and closed is None:
                self.problem(
                    where, f"column '{spec.get('closed')}': a {typed_stage} deal needs a close date"
                )
                continue
            ext = f"{prefix}-{ident}"
            deal: dict[str, Any] = {
                "type": "deal",
                "external_id": ext,
                "customer": customer,
                "title": self.value("deals", "title", row) or ident,
                "currency": currency,
                "stage": stage,
                "owner": users[owner],
            }
            if amount is not None:
                deal["amount"] = str(amount)
            if product:
                deal["product"] = product[0]
            if opened:
                deal["created_at"] = opened.isoformat()
            if closed and stage in closed_names:
                deal["closed_at"] = closed.isoformat()
            if expected:
                deal["expected_close"] = expected.date().isoformat()
            self.add_custom("deals", deal, row)
            self.emit(deal, where)
            self.rows["deal"] += 1
            # History: the stage it opened in (when dated), then its close.
            first = str(opened_stage) if opened_stage and stage in closed_names else stage
            if opened:
                self.emit(
                    {
                        "type": "stage_change",
                        "external_id": f"{ext}-opened",
                        "deal": ext,
                        "to_stage": first,
                        "changed_at": opened.isoformat(),
                        "actor": users[owner],
                    },
                    where,
                )
                self.rows["stage_change"] += 1
            if closed and stage in closed_names:
                self.emit(
                    {
                        "type": "stage_change",
                        "external_id": f"{ext}-closed",
                        "deal": ext,
                        "from_stage": first if opened else None,
                        "to_stage": stage,
                        "changed_at": closed.isoformat(),
                        "actor": users[owner],
                    },
                    where,
                )
                self.rows["stage_change"] += 1

    def build_notes(self, prefix: str, users: dict[str, str], customers: dict[str, str]) -> None:
        spec = self.section("notes")
        for where, row in self.read("notes"):
            ident = self.value("notes", "id", row)
            customer = customers.get(self.value("notes", "customer", row))
            author = users.get(self.value("notes", "author", row))
            when = self.day("notes", "occurred", row, where)
            text = self.value("notes", "text", row)
            if not ident or customer is None or author is None or when is None or not text:
                self.problem(
                    where, f"[notes] needs {', '.join(sorted(spec))}: a field is empty or unknown"
                )
                continue
            self.emit(
                {
                    "type": "interaction",
                    "external_id": f"{prefix}-note-{ident}",
                    "customer": customer,
                    "author": author,
                    "kind": self.value("notes", "kind", row) or "note",
                    "occurred_at": when.isoformat(),
                    "text": text,
                },
                where,
            )
            self.rows["interaction"] += 1


def import_csv(
    session: Session, mapping: Path, data_dir: Path, *, stages: tuple[Stage, ...]
) -> CsvImportReport:
    """Import CSV files through a mapping; MappingFailed (nothing written) names file:line."""
    run = _Run(mapping, data_dir, stages)
    run.load_mapping()
    with contextlib.suppress(_Stop):
        # Stopped after MAX_PROBLEMS: enough to act on.
        run.build()
    if run.problems:
        raise MappingFailed(run.problems)
    try:
        written = import_jsonl(session, (json.dumps(r) for r in run.records), stages=stages)
    except ImportFailed as exc:
        # The records' line numbers are positions in the generated stream: name the CSV row.
        raise MappingFailed(
            [f"{run.origins[n - 1]}: {reason}" for n, reason in exc.errors]
        ) from exc
    return CsvImportReport(written, run.rows, run.repaired, run.skipped)
