"""Plan a table as partitions, take a ``--shard K/N`` slice of them, and read one partition.

A partition is a picklable description (path, which part, where its rows start), never the data: a task sent to a
worker carries no note text, so nothing Dask logs or retries can show one. Parquet is cut at its row groups (the
unit a Parquet reader reads anyway). CSV is cut only between complete records: the planner walks the file once and
counts double quotes, and a line break ends a record only when the quotes so far are balanced. A blocksize split (what
``dask.dataframe.read_csv`` does) would cut a note that holds line breaks in two.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medpriv_desktop.core.errors import InputError

#: CSV rows per partition unless the user says otherwise: a few seconds of work per partition at rules-only speed,
#: small enough that a killed run loses little, large enough that scheduling costs nothing.
DEFAULT_CSV_ROWS = 2000
TABLE_SUFFIXES = (".parquet", ".csv")
_SHARD = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*\Z")


@dataclass(frozen=True)
class Partition:
    """One part of a table: ``index`` (global, names the output part), the rows it holds and where they start.

    Parquet: ``group`` is the row group. CSV: ``start``/``end`` are byte offsets of whole records and ``header`` the
    file's header record (bytes), prepended when the part is parsed.
    """

    path: str
    kind: str
    index: int
    first_row: int
    n_rows: int
    group: int = -1
    start: int = 0
    end: int = 0
    header: bytes = b""


def table_kind(path: Path) -> str:
    """``parquet`` or ``csv`` from the file name; anything else is refused with one sentence."""
    suffix = Path(path).suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise InputError("expected a .parquet or .csv table", path=path)
    return suffix[1:]


def parse_shard(text: str | None) -> tuple[int, int] | None:
    """``"K/N"`` -> ``(K, N)`` with ``1 <= K <= N`` (SLURM's ``--array=1-N`` gives K as ``$SLURM_ARRAY_TASK_ID``)."""
    if text is None:
        return None
    m = _SHARD.match(text)
    if m is None or not 1 <= int(m.group(1)) <= int(m.group(2)):
        raise InputError(f"--shard must be K/N with 1 <= K <= N (got '{text[:20]}')",
                         hint="for a job array of N tasks: --array=1-N and --shard $SLURM_ARRAY_TASK_ID/N")
    return int(m.group(1)), int(m.group(2))


def shard_slice(items: list[Any], shard: tuple[int, int] | None) -> list[Any]:
    """Shard K of N: a contiguous block of ``items`` (sizes differ by at most one); the N blocks cover every item
    exactly once, whatever machine computes them."""
    if shard is None:
        return list(items)
    k, n = shard
    return items[(k - 1) * len(items) // n: k * len(items) // n]


def plan_parquet(path: Path) -> tuple[list[str], list[Partition]]:
    """The column names and one partition per row group (empty row groups skipped)."""
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(path).metadata
        names = list(pq.read_schema(path).names)
    except (OSError, ValueError) as exc:  # pyarrow raises ArrowInvalid (a ValueError) for a non-Parquet file
        raise InputError(f"cannot read the Parquet file ({type(exc).__name__})", path=path) from None
    parts, row = [], 0
    for g in range(meta.num_row_groups):
        n = meta.row_group(g).num_rows
        if n:
            parts.append(Partition(str(path), "parquet", len(parts), row, n, group=g))
        row += n
    if not parts:
        raise InputError("the Parquet file has no rows", path=path)
    return names, parts


def record_ends(path: Path) -> tuple[int, list[int]]:
    """Byte offsets where the header ends and where each data record ends, reading the file once in binary.

    A quote byte (0x22) never occurs inside a UTF-8 multi-byte sequence, so counting it in bytes is safe; an escaped
    quote ("") adds two and keeps the balance. An unclosed quote at the end of the file is refused.
    """
    ends: list[int] = []
    offset, quotes = 0, 0
    with open(path, "rb") as fh:
        for line in fh:
            offset += len(line)
            quotes += line.count(b'"')
            if quotes % 2 == 0:
                if line.strip(b"\r\n"):
                    ends.append(offset)
                elif ends:  # a blank line between records belongs to the record before it
                    ends[-1] = offset
                quotes = 0
    if quotes % 2:
        raise InputError("malformed CSV: a quote is never closed", path=path, hint="check quotes and separators")
    if not ends:
        raise InputError("empty CSV file", path=path)
    return ends[0], ends[1:]


def plan_csv(path: Path, rows_per_partition: int = DEFAULT_CSV_ROWS) -> tuple[list[str], list[Partition]]:
    """The header's column names and partitions of ``rows_per_partition`` whole records each."""
    header_end, ends = record_ends(path)
    with open(path, "rb") as fh:
        header = fh.read(header_end)
    names = _parse_csv(header, path)[0] if header.strip() else []
    if not ends:
        raise InputError("the CSV file has a header but no rows", path=path)
    parts, start = [], header_end
    for i in range(0, len(ends), rows_per_partition):
        chunk = ends[i: i + rows_per_partition]
        parts.append(Partition(str(path), "csv", len(parts), i, len(chunk), start=start, end=chunk[-1],
                               header=header))
        start = chunk[-1]
    return names, parts


def plan_table(path: Path, rows_per_partition: int = DEFAULT_CSV_ROWS) -> tuple[list[str], list[Partition]]:
    """:func:`plan_parquet` or :func:`plan_csv` by the file name."""
    if not Path(path).is_file():
        raise InputError("table file does not exist", path=path)
    return plan_parquet(path) if table_kind(path) == "parquet" else plan_csv(path, rows_per_partition)


def _parse_csv(data: bytes, path: Path | str) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("CSV is not UTF-8 text", path=path, hint="save it as UTF-8") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        return [r for r in reader if r]
    except csv.Error:
        raise InputError(f"malformed CSV near record {reader.line_num}", path=path) from None


def read_partition(part: Partition, columns: list[str]) -> tuple[dict[str, list[Any]], dict[int, str]]:
    """The named columns of one partition as lists (CSV cells as strings), and the rows (offsets in the partition)
    that could not be read, each with one reason; their cells are None."""
    if part.kind == "parquet":
        import pyarrow.parquet as pq

        table = pq.ParquetFile(part.path).read_row_group(part.group, columns=columns)
        return {c: table.column(c).to_pylist() for c in columns}, {}
    with open(part.path, "rb") as fh:
        fh.seek(part.start)
        body = fh.read(part.end - part.start)
    rows = _parse_csv(part.header + body, part.path)
    header, rows = rows[0], rows[1:]
    if len(rows) != part.n_rows:  # the file changed since it was planned (the manifest also checks its hash)
        raise InputError("the CSV file changed while the run was reading it", path=part.path)
    index = {c: header.index(c) for c in columns}
    bad = {n: f"malformed CSV record: {len(r)} fields, the header has {len(header)}"
           for n, r in enumerate(rows) if len(r) != len(header)}
    return {c: [None if n in bad else r[i] for n, r in enumerate(rows)] for c, i in index.items()}, bad
