"""Grading past one machine: the same units on a Dask cluster (a LocalCluster of two worker
processes, started here) give the serial run's report byte for byte; a stuck unit ends its
worker and is invalid, and the batch goes on."""

from __future__ import annotations

import json
import os

import pytest

from conftest import SAMPLES

from test_grade import KEY
from test_grade_scale import StuckKey, _stuck_batch, batch

try:
    import distributed
except ImportError:  # in CI, where .ci/run installs every extra, a failure
    if os.environ.get("CI"):
        raise
    pytest.skip("the optional extra worksheet[dask] is not installed (pip install 'worksheet[dask]')",
                allow_module_level=True)


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=2, processes=True, dashboard_address=":0",
                                  silence_logs=50) as local:
        yield local


def test_a_batch_on_dask_gives_the_serial_report_byte_for_byte(cli, cluster, tmp_path):
    submissions = tmp_path / "class.csv"
    batch(submissions, students=30)
    outputs = []
    for where in ([], ["--dask", cluster.scheduler_address]):
        report, totals = tmp_path / f"r{len(where)}.csv", tmp_path / f"t{len(where)}.csv"
        result = cli("grade", str(KEY), str(submissions), "-o", str(report), "--totals", str(totals), *where)
        assert result.code == 0, result.err
        outputs.append((report.read_bytes(), totals.read_bytes()))
    assert outputs[0] == outputs[1]


def test_a_manifest_and_a_model_key_on_dask_grade_as_here(cli, cluster, tmp_path):
    """A model's key travels as its source (its values are C objects, which do not pickle)."""
    out = tmp_path / "handout"
    assert cli("handout", str(SAMPLES / "backprop_set.toml"), "--seed", "2", "-f", "md", "-o", str(out)).code == 0
    blanks = [b for p in json.loads((out / "manifest.json").read_text())["variants"][0]["problems"]
              for b in p["blanks"].items()]
    sheet = tmp_path / "sheet.csv"
    sheet.write_text("student,question,answer\n" + "".join(
        f"s{i},{n},{value if i % 3 else '1'}\n" for i in range(6) for n, value in blanks))
    (tmp_path / "linear_bce.ws").write_text((SAMPLES / "linear_bce.ws").read_text())
    model_key = tmp_path / "key.toml"
    model_key.write_text('[[question]]\nid = "m"\nprogram = "linear_bce.ws"\nwrt = "b"\n')
    answers = tmp_path / "model.csv"
    answers.write_text("student,question,answer\na,m,(sigmoid(z) - y)/3\nb,m,sigmoid(z) - y\nc,m,[1, 2]\n")
    for key, submissions in ((out / "manifest.json", sheet), (model_key, answers)):
        here = cli("grade", str(key), str(submissions), "-f", "jsonl")
        there = cli("grade", str(key), str(submissions), "-f", "jsonl", "--dask", cluster.scheduler_address)
        assert here.code == there.code == 0, there.err
        assert here.out == there.out and len(here.out.splitlines()) >= 3
    assert [json.loads(line)["verdict"] for line in there.out.splitlines()][:2] == ["correct", "incorrect"]


def test_a_stuck_unit_on_dask_ends_its_worker_and_is_invalid_while_the_batch_goes_on(tmp_path):
    """On a cluster of its own, which gives a task up the first time its worker ends (the rows
    that shared the worker are tried again by themselves, and are graded as here)."""
    import dask

    from worksheet.assess.grading import grade, load_key

    rows, others = _stuck_batch(tmp_path, crash=False)
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                      silence_logs=50) as cluster:
            results = grade(StuckKey(load_key(KEY)), rows, dask=cluster.scheduler_address)
    late = [r for r in results if r.student == "late"]
    assert len(late) == 1 and late[0].verdict == "invalid" and "took longer than 1 s" in late[0].feedback
    assert [r for r in results if r.student != "late"] == grade(load_key(KEY), others)
