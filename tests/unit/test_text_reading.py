"""The one text reader and the one text-column guesser (``core/text/reading.py``, issue 20 item 4)."""

from __future__ import annotations

import pytest

from medpriv_desktop.core.errors import InputError
from medpriv_desktop.core.text.reading import (HEADER_BYTES, csv_header, decode_text, guess_text_columns,
                                               read_table_text, read_text)


@pytest.mark.parametrize("columns,sections,expected", [
    (["id", "text"], False, ["text"]),
    (["ID", "Note_Text", "date"], False, ["Note_Text"]),
    (["id", "findings", "impression"], True, ["findings", "impression"]),
    (["id", "Impression", "Findings"], True, ["Findings", "Impression"]),  # section order, not column order
    (["id", "findings", "impression"], False, ["findings"]),
    (["id", "report", "findings", "impression"], True, ["report"]),  # a whole report beats its sections
    (["id", "note", "text"], False, ["text"]),  # preference order, not column order
    (["mrn", "body"], False, ["body"]),  # nothing known: the last column
    ([], True, []),
])
def test_guess_text_columns(columns, sections, expected):
    assert guess_text_columns(columns, sections=sections) == expected


@pytest.mark.parametrize("data,expected", [
    (b"id,text\n1,a\n", ["id", "text"]),
    (b"\xef\xbb\xbfid,text\n1,a\n", ["id", "text"]),
    ("id,text\n1,a\n".encode("utf-16"), ["id", "text"]),
    (b'"a,b",c\n', ["a,b", "c"]),
])
def test_csv_header_reads_the_encodings_the_reader_reads(tmp_path, data, expected):
    f = tmp_path / "t.csv"
    f.write_bytes(data)
    assert csv_header(f) == expected


def test_csv_header_reads_only_the_start_and_does_not_split_a_character(tmp_path):
    f = tmp_path / "big.csv"
    row = "1,caf\u00e9 \u00e9t\u00e9\n".encode("utf-8")
    f.write_bytes(b"id,text\n" + row * (2 * HEADER_BYTES // len(row)))
    assert csv_header(f) == ["id", "text"]


@pytest.mark.parametrize("data,reason", [
    (b"", "file is empty"),
    ("id;text\n".encode("cp1252") + "1;Fran\xe7ois\n".encode("cp1252"), "not UTF-8"),
    (bytes(range(256)) * 8, "binary file"),
])
def test_csv_header_refuses_like_the_reader(tmp_path, data, reason):
    f = tmp_path / "t.csv"
    f.write_bytes(data)
    with pytest.raises(InputError, match=reason) as info:
        csv_header(f)
    assert info.value.path == f


def test_tables_have_no_whole_file_limit_but_documents_do(tmp_path):
    f = tmp_path / "t.csv"
    f.write_bytes(b"id,text\n" + b"1,abc\n" * 20)
    assert read_table_text(f).startswith("id,text")
    with pytest.raises(InputError, match="larger than the"):
        read_text(f, max_bytes=50)


def test_an_explicit_encoding_decodes_and_a_wrong_one_is_one_message(tmp_path):
    f = tmp_path / "n.txt"
    f.write_bytes("Fran\xe7ois".encode("cp1252"))
    assert read_text(f, "cp1252") == "Fran\xe7ois"
    with pytest.raises(InputError, match="cannot decode as nope"):
        read_text(f, "nope")


def test_empty_is_allowed_only_when_asked(tmp_path):
    f = tmp_path / "e.txt"
    f.write_bytes(b"\xef\xbb\xbf  ")
    assert read_text(f, allow_empty=True) == "  "
    with pytest.raises(InputError, match="file is empty"):
        read_text(f)


def test_a_byte_order_mark_in_front_of_binary_bytes_is_refused():
    with pytest.raises(InputError, match="binary file"):
        decode_text(b"\xff\xfe" + b"\x01\x00\x02\x00" * 100, "x.txt")  # U+0001, U+0002...
