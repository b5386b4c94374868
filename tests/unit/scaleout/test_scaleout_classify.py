"""``medpriv classify TABLE`` in table mode: the same labels as the single-machine command, from the same verified
bundle; a worker whose bundle differs refuses its partition; bad rows go to the errors table."""

from __future__ import annotations

import csv
from dataclasses import replace

import pytest

from medpriv_desktop.cli import main
from tests.unit.scaleout.tables import read_parts, write_table

REPORTS = ["FINDINGS: Small left pleural effusion. Heart is enlarged. IMPRESSION: Effusion and cardiomegaly.",
           "FINDINGS: Lungs are clear. No pneumothorax. IMPRESSION: Normal chest.",
           "FINDINGS: Right lower lobe consolidation. IMPRESSION: Pneumonia.",
           ""]


def _rows(n: int) -> list[dict[str, object]]:
    return [{"rid": f"R{i:03d}", "report": REPORTS[i % len(REPORTS)]} for i in range(n)]


def _single(tmp_path, model: str) -> list[dict[str, str]]:
    src = write_table(_rows(14), tmp_path / "single_in.csv")
    out = tmp_path / "single.csv"
    assert main(["classify", str(src), "--text-column", "report", "--id-column", "rid", "--model", model, "-q",
                 "-o", str(out)]) == 0
    with open(out, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("model", ["rules", "cxr-chestxray14-dp"])
@pytest.mark.parametrize("out_suffix", [".csv", ".parquet"])
def test_table_labels_equal_the_single_machine_command(tmp_path, model, out_suffix):
    src = write_table(_rows(14), tmp_path / "reports.parquet", rows_per_group=4)
    out = tmp_path / f"labels{out_suffix}"
    assert main(["classify", str(src), "--text-column", "report", "--id-column", "rid", "--model", model, "-q",
                 "-o", str(out)]) == 0
    got = read_parts(out)
    want = _single(tmp_path, model)
    assert len(list(out.glob("part-*"))) == 4
    assert [{k: ("" if v is None else str(v)) for k, v in r.items()} for r in got] == want
    assert any(r.get("Effusion") in (1, "1") for r in got)  # something was found, and blanks stayed blank
    assert all(r.get("Effusion") in (None, "") for r, src_row in zip(got, _rows(14)) if not src_row["report"])


def test_a_worker_with_another_bundle_refuses_its_partition(tmp_path):
    from medpriv_desktop.scaleout.classify_job import ClassifySpec, classify_partition
    from medpriv_desktop.scaleout.partitions import plan_table

    src = write_table(_rows(4), tmp_path / "r.parquet")
    _, parts = plan_table(src)
    spec = ClassifySpec(parts[0], ("report",), "rid", "cxr-chestxray14-dp", None, {}, False, 256, str(tmp_path),
                        "csv")
    from medpriv_desktop.scaleout.classify_job import load_report_model

    _, fields = load_report_model("cxr-chestxray14-dp", None)
    ok = classify_partition(replace(spec, model_fields=fields))
    assert ok.failure is None and ok.rows_done == 4
    other = classify_partition(replace(spec, model_fields={**fields, "model_manifest": "0" * 64}))
    assert other.temp is None and "differs from the driver's" in other.failure


def test_compare_and_evidence_are_refused_in_table_mode(tmp_path, capsys):
    src = write_table(_rows(4), tmp_path / "r.parquet")
    assert main(["classify", str(src), "--text-column", "report", "--model", "rules", "--evidence",
                 str(tmp_path / "e.jsonl"), "-o", str(tmp_path / "o.csv"), "-q"]) == 2
    assert "labels" in capsys.readouterr().err
