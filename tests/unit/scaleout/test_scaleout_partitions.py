"""Planning: CSV cut only between whole records (quoted line breaks stay inside), Parquet by row groups, and
``--shard K/N`` slices that cover every partition exactly once."""

from __future__ import annotations

import csv
import io

import pytest

from medpriv_desktop.core.errors import InputError
from medpriv_desktop.scaleout.partitions import parse_shard, plan_table, read_partition, shard_slice


@pytest.mark.parametrize("rows_per_partition", [1, 2, 3, 7, 100])
def test_csv_partitions_keep_quoted_line_breaks_whole(tmp_path, rows_per_partition):
    cells = ["plain", "two\nlines", 'quote "inside"\nand a break', "", "comma, here", "\n\nleading breaks",
             'ends with quote ""', "crlf\r\ninside", "last"]
    path = tmp_path / "t.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "text"])
        w.writerows([[f"n{i}", c] for i, c in enumerate(cells)])
    names, parts = plan_table(path, rows_per_partition)
    assert names == ["id", "text"]
    got: list[str] = []
    for p in parts:
        data, bad = read_partition(p, ["id", "text"])
        assert not bad and len(data["text"]) == p.n_rows
        assert data["id"] == [f"n{p.first_row + k}" for k in range(p.n_rows)]
        got += data["text"]
    assert got == cells  # every record whole, none split at a line break, none lost or repeated


def test_csv_row_with_wrong_field_count_is_a_bad_row_not_a_failed_partition(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('id,text\nn0,"ok"\nn1,"too",many,fields\nn2,fine\n', encoding="utf-8")
    _, parts = plan_table(path, 10)
    data, bad = read_partition(parts[0], ["text"])
    assert list(bad) == [1] and "fields" in bad[1] and "too" not in bad[1]
    assert data["text"] == ["ok", None, "fine"]


def test_unclosed_quote_is_refused_with_one_sentence(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('id,text\nn0,"never closed\n', encoding="utf-8")
    with pytest.raises(InputError, match="quote is never closed"):
        plan_table(path, 10)


def test_parquet_partitions_are_row_groups(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"id": [f"n{i}" for i in range(23)], "text": ["x"] * 23}), path, row_group_size=10)
    _, parts = plan_table(path)
    assert [(p.first_row, p.n_rows) for p in parts] == [(0, 10), (10, 10), (20, 3)]
    assert read_partition(parts[2], ["id"])[0]["id"] == ["n20", "n21", "n22"]


@pytest.mark.parametrize("n_items,n_shards", [(1, 1), (5, 2), (10, 3), (3, 5), (101, 7)])
def test_shards_cover_every_partition_exactly_once(n_items, n_shards):
    items = list(range(n_items))
    slices = [shard_slice(items, (k, n_shards)) for k in range(1, n_shards + 1)]
    assert sorted(x for s in slices for x in s) == items
    assert max(map(len, slices)) - min(map(len, slices)) <= 1
    assert slices == [shard_slice(items, (k, n_shards)) for k in range(1, n_shards + 1)]  # deterministic


@pytest.mark.parametrize("text,expected", [("1/4", (1, 4)), ("4/4", (4, 4)), (" 2 / 3 ", (2, 3)), ("0/4", None),
                                           ("5/4", None), ("a/b", None), ("1-4", None)])
def test_parse_shard(text, expected):
    if expected is None:
        with pytest.raises(InputError, match="K/N"):
            parse_shard(text)
    else:
        assert parse_shard(text) == expected
