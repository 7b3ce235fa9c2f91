"""Suite files load strictly, and only suites whose asset is defined become (blocking / warning) asset checks."""

import json
from pathlib import Path

import dagster as dg
import pytest

from orchestration.defs.quality.checks import build_quality_checks, check_name, with_quality_checks
from orchestration.defs.resources import DuckDBWarehouse
from orchestration.lib.gx_suites import (
    EXPECTATIONS_DIR, SEVERITIES, SuiteError, load_suite, read_suite_file, suite_files,
)

SUITES = {"raw_events": ["raw_events"], "fct_ctr_training": ["marts", "fct_ctr_training"],
          "fct_comments": ["marts", "fct_comments"], "ctr_scores": ["ctr_scores"],
          "comment_sentiment": ["comment_sentiment"], "user_health_scores": ["user_health_scores"]}


def write_suite(folder: Path, doc: dict) -> Path:
    path = folder / f"{doc['name']}.json"
    path.write_text(json.dumps(doc))
    return path


def minimal_suite(**changes) -> dict:
    doc = {
        "name": "tiny",
        "meta": {"attnflow": {"asset_key": ["tiny"], "read": {"table": "main.tiny"}, "partition": None}},
        "expectations": [
            {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "x"},
             "meta": {"name": "x_not_null", "severity": "critical"}},
            {"type": "expect_column_mean_to_be_between", "kwargs": {"column": "x", "min_value": 0},
             "meta": {"name": "x_mean_positive", "severity": "warning"}},
        ],
    }
    doc.update(changes)
    return doc


def test_every_suite_file_loads_strictly_and_is_bound_to_its_asset():
    files = {p.stem: p for p in suite_files()}
    assert set(files) == set(SUITES)
    for name, path in files.items():
        suite = load_suite(path)  # builds the Great Expectations suite and compares the count
        assert suite.name == name
        assert list(suite.binding.asset_key) == SUITES[name]
        assert {e.severity for e in suite.expectations} == set(SEVERITIES), name  # both kinds in every suite
        gx_suite = suite.gx_suite()
        assert len(gx_suite.expectations) == len(suite.expectations)
        assert [e.meta["name"] for e in gx_suite.expectations] == [e.name for e in suite.expectations]


def test_a_misspelt_expectation_type_raises_instead_of_being_dropped(tmp_path):
    doc = minimal_suite()
    doc["expectations"][1]["type"] = "expect_column_mean_to_be_betwen"
    with pytest.raises(SuiteError, match="dropped 1 expectation.*expect_column_mean_to_be_betwen"):
        load_suite(write_suite(tmp_path, doc))


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d["expectations"][0]["meta"].pop("severity"), "meta.severity"),
    (lambda d: d["expectations"][0]["meta"].update(severity="fatal"), "meta.severity"),
    (lambda d: d["expectations"][1]["meta"].update(name="x_not_null"), "duplicate expectation names"),
    (lambda d: d["meta"]["attnflow"].pop("asset_key"), "asset_key"),
    (lambda d: d["meta"].pop("attnflow"), "meta.attnflow is missing"),
    (lambda d: d.update(name="other"), "must equal the file stem"),
    (lambda d: d["expectations"][1]["kwargs"].update(max_value={"$PARAMETER": "nowhere"}), "nowhere"),
    (lambda d: d["meta"]["attnflow"].update(read={"table": "a", "sql": "b"}), "exactly one of"),
])
def test_suite_files_with_mistakes_are_rejected_with_a_clear_message(tmp_path, mutate, message):
    doc = minimal_suite()
    mutate(doc)
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(SuiteError, match=message):
        read_suite_file(path)


def test_checks_exist_only_for_suites_whose_asset_is_defined_critical_ones_blocking():
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    ours = {k for k in graph.asset_check_keys if k.name.endswith(("_critical", "_warnings"))}
    defined = [s for s, key in SUITES.items() if graph.has(dg.AssetKey(key))]
    assert {"raw_events", "fct_ctr_training", "fct_comments"} <= set(defined)
    expected = {dg.AssetCheckKey(dg.AssetKey(SUITES[s]), check_name(s, sev)) for s in defined for sev in SEVERITIES}
    assert ours == expected  # a suite whose asset is not defined (yet) is skipped, not an error
    for key in ours:
        spec = graph.get_check_spec(key)
        assert spec.blocking is key.name.endswith("_critical")
    # The daily job runs them.
    job = defs.resolve_job_def("attnflow_daily")
    assert {"quality_raw_events", "quality_fct_ctr_training", "quality_fct_comments"} <= {n.name for n in job.nodes}


def test_a_suite_gets_its_check_once_its_asset_exists():
    assert build_quality_checks([dg.AssetKey("raw_events")]) and not build_quality_checks([dg.AssetKey("nope")])

    @dg.asset(name="ctr_scores")
    def ctr_scores():
        """Stand-in for the scoring asset."""

    defs = with_quality_checks(dg.Definitions(assets=[ctr_scores], resources={"warehouse": DuckDBWarehouse()}))
    keys = defs.resolve_asset_graph().asset_check_keys
    assert keys == {dg.AssetCheckKey(dg.AssetKey("ctr_scores"), "ctr_scores_critical"),
                    dg.AssetCheckKey(dg.AssetKey("ctr_scores"), "ctr_scores_warnings")}


def test_suites_live_in_the_expectations_folder():
    assert EXPECTATIONS_DIR == Path(__file__).resolve().parents[1] / "expectations"
