"""``warmnas metafeatures``: the README's first command and its errors."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

from warmnas.cli import main

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.filterwarnings("ignore::metafeatures.MetaFeatureWarning")


def test_readme_command_on_anneal(capsys) -> None:
    status = main(["metafeatures", str(REPO / "examples/data/anneal.csv"), "--target", "class",
                   "--json"])
    out, err = capsys.readouterr()
    assert status == 0
    values = json.loads(out)
    assert values["nr_inst"] == 898 and values["nr_class"] == 5
    assert values["nr_attr"] == 32  # the 6 columns without any value are dropped ...
    assert "dropped 6 column(s) without any value: m, marvi, corr, jurofm, s, p" in err  # ... said
    assert any(v is None for v in values.values())  # NaN is printed as null


def test_views_and_groups(capsys) -> None:
    assert main(["metafeatures", "sklearn:iris", "--names", "autosklearn", "--json"]) == 0
    values = json.loads(capsys.readouterr().out)
    assert len(values) == 46 and values["NumberOfClasses"] == 3
    assert main(["metafeatures", "sklearn:wine", "--groups", "general", "statistical",
                 "--summary", "median"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith("mean.median ") for line in lines)
    assert not any(line.startswith("one_nn") for line in lines)
    assert main(["metafeatures", "sklearn:diabetes", "--names", "openml", "--json"]) == 0
    values = json.loads(capsys.readouterr().out)
    assert values["NumberOfClasses"] is None and values["NumberOfInstances"] == 442


def test_errors_are_reported_cleanly(capsys, tmp_path) -> None:
    assert main(["metafeatures", str(tmp_path / "missing.csv")]) == 2
    assert "data file" in capsys.readouterr().err
    assert main(["metafeatures", str(REPO / "examples/data/anneal.csv"), "--target", "klass"]) == 2
    assert "target column 'klass' is not in" in capsys.readouterr().err
    assert main(["metafeatures", "sklearn:titanic"]) == 2
    assert "unknown scikit-learn dataset 'titanic'" in capsys.readouterr().err
    assert main(["metafeatures", "sklearn:iris", "--groups", "bogus"]) == 2
    assert "unknown meta-feature group 'bogus'" in capsys.readouterr().err
    bad = tmp_path / "inf.csv"
    bad.write_text("a,b,y\n1,inf,0\n2,3,1\n4,5,0\n")
    assert main(["metafeatures", str(bad), "--target", "y"]) == 2
    assert "infinite values in column(s) ['b']" in capsys.readouterr().err


def test_json_with_infinite_values_is_valid_json(capsys, tmp_path) -> None:
    # one class per row: the within-class scatter is 0 and lh_trace / roy_root are infinite
    data = tmp_path / "many.csv"
    data.write_text("a,b,cls\n" + "".join(f"{i % 7},{(i * 3) % 11},c{i}\n" for i in range(30)))
    assert main(["metafeatures", str(data), "--target", "cls", "--groups", "statistical",
                 "--json"]) == 0
    values = json.loads(capsys.readouterr().out)  # strict JSON: no Infinity / NaN tokens
    assert values["lh_trace"] is None and values["roy_root"] is None
    assert main(["metafeatures", str(data), "--target", "cls", "--groups", "statistical"]) == 0
    lines = dict(line.split() for line in capsys.readouterr().out.splitlines())
    assert lines["lh_trace"] == "inf"  # the text output keeps the value


def test_csv_without_data_rows(capsys, tmp_path) -> None:
    header = tmp_path / "header.csv"
    header.write_text("a,b,class\n")
    assert main(["metafeatures", str(header), "--target", "class"]) == 2
    err = capsys.readouterr().err
    assert "has a header but no data rows" in err and str(header) in err
    assert "dropped" not in err  # no note about dropping its columns first
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert main(["metafeatures", str(empty)]) == 2
    assert "could not read" in capsys.readouterr().err


def test_directory_is_not_reported_as_missing(capsys, tmp_path) -> None:
    assert main(["metafeatures", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "is a directory, not a CSV file" in err and "not found" not in err


def test_categorical_option_names_why_a_column_is_not_there(capsys, tmp_path) -> None:
    data = tmp_path / "d.csv"
    data.write_text("a,b,class\n1,,x\n2,,y\n3,,x\n4,,y\n")
    assert main(["metafeatures", str(data), "--target", "class", "--categorical", "b"]) == 2
    assert "--categorical names column 'b', which has no value and was dropped" in (
        capsys.readouterr().err)
    assert main(["metafeatures", str(data), "--target", "class", "--categorical", "class"]) == 2
    assert ("--categorical names the target column 'class'; the target's type follows its "
            "values (use --task to override)") in capsys.readouterr().err
    assert main(["metafeatures", str(data), "--target", "class", "--categorical", "zz"]) == 2
    assert "--categorical names column 'zz', which the data does not have" in (
        capsys.readouterr().err)


def test_no_feature_column_left(capsys, tmp_path) -> None:
    data = tmp_path / "d.csv"
    data.write_text("a,b,class\n,,x\n,,y\n,,x\n")
    assert main(["metafeatures", str(data), "--target", "class"]) == 2
    assert ("no feature column left: every column besides the target (a, b) has no value"
            in capsys.readouterr().err)


def test_missing_target_values_are_reported_in_cli_terms(capsys, tmp_path) -> None:
    data = tmp_path / "d.csv"
    data.write_text("a,b,class\n1,2,x\n3,4,\n5,6,y\n7,8,x\n9,1,\n")
    assert main(["metafeatures", str(data), "--target", "class"]) == 2
    assert ("target column 'class' has 2 empty value(s) (data rows 2, 5); remove those rows"
            in capsys.readouterr().err)


def test_failed_measures_are_a_plain_warning_line(capsys, tmp_path) -> None:
    # one row per class: no cross-validation, the landmarkers are NaN under --on-error warn
    data = tmp_path / "d.csv"
    data.write_text("a,b,class\n1,2,x\n3,4,y\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing may escape as a Python warning
        assert main(["metafeatures", str(data), "--target", "class"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("warning: meta-features set to NaN because they could not be "
                          "computed: best_node: cross-validation needs")
    assert ".py:" not in err and "values = metafeatures.extract(" not in err


def test_missing_value_markers(capsys, tmp_path) -> None:
    # UCI-style '?' for missing: without --na-values the column is text (categorical), said on
    # stderr; with it the column is numeric
    data = tmp_path / "d.csv"
    data.write_text("a,b,class\n1.5,2,x\n?,4,y\n3.5,6,x\n4.5,?,y\n5.5,7,x\n")
    assert main(["metafeatures", str(data), "--target", "class", "--groups", "general"]) == 0
    out, err = capsys.readouterr()
    assert ("note: column(s) a, b mix numbers with text (e.g. '?') and are treated as "
            "categorical; pass --na-values '?' if that marks a missing value") in err
    assert dict(line.split() for line in out.splitlines())["nr_num"] == "0"
    assert main(["metafeatures", str(data), "--target", "class", "--groups", "general",
                 "--na-values", "?"]) == 0
    out, err = capsys.readouterr()
    assert dict(line.split() for line in out.splitlines())["nr_num"] == "2"
    assert "mix numbers with text" not in err


def test_other_separators(capsys, tmp_path) -> None:
    # a semicolon or tab separated file read as CSV is one column: say so and how to read it
    data = tmp_path / "d.csv"
    data.write_text("a;b;class\n1;2;x\n3;4;y\n5;6;x\n7;8;y\n")
    assert main(["metafeatures", str(data), "--target", "class"]) == 2
    assert ("was read as one column named 'a;b;class': it looks ';'-separated; pass --sep ';'"
            in capsys.readouterr().err)
    assert main(["metafeatures", str(data), "--target", "class", "--sep", ";", "--groups",
                 "general", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["nr_attr"] == 2
    tsv = tmp_path / "d.tsv"
    tsv.write_text("a\tb\tclass\n1\t2\tx\n3\t4\ty\n5\t6\tx\n7\t8\ty\n")
    assert main(["metafeatures", str(tsv), "--target", "class"]) == 2
    assert "it looks '\\t'-separated; pass --sep '\\t'" in capsys.readouterr().err


def test_trailing_delimiters_do_not_shift_the_columns(capsys, tmp_path) -> None:
    # "...,COIL,0.7,610.0,0.0,,0,,3," on every row (some exporters write it): pandas took the
    # first column as the index and shifted every column by one, so --target read 'class''s
    # neighbour and failed with "y has 898 missing value(s)"
    lines = (REPO / "examples/data/anneal.csv").read_text().splitlines()
    data = tmp_path / "trailing.csv"
    data.write_text("\n".join([lines[0]] + [row + "," for row in lines[1:]]) + "\n")
    argv = ["--target", "class", "--groups", "general", "--json"]
    assert main(["metafeatures", str(REPO / "examples/data/anneal.csv"), *argv]) == 0
    ref = json.loads(capsys.readouterr().out)
    assert main(["metafeatures", str(data), *argv]) == 0, capsys.readouterr().err
    assert json.loads(capsys.readouterr().out) == ref


def test_rows_longer_than_the_header_are_an_error(capsys, tmp_path) -> None:
    data = tmp_path / "d.csv"
    data.write_text("a,b,class\n" + "".join(f"{i},{i % 3},{i % 2},{i}\n" for i in range(20)))
    assert main(["metafeatures", str(data), "--target", "class"]) == 2
    err = capsys.readouterr().err
    assert "rows with more fields than the header (3 names" in err and "d.csv" in err


def test_pymfe_options_reach_the_library(capsys) -> None:
    # --transform-cat / --rescale / --score / --cv-folds give what extract() gives with them
    import math

    import metafeatures
    from warmnas.cli.metafeatures import _categorical_columns, load_table

    path = str(REPO / "examples/data/anneal.csv")
    argv = ["metafeatures", path, "--target", "class", "--groups", "general", "statistical",
            "landmarking", "--transform-cat", "gray", "--rescale", "robust", "--score",
            "kappa", "--cv-folds", "3", "--json"]
    assert main(argv) == 0
    got = json.loads(capsys.readouterr().out)
    frame, y, _ = load_table(path, "class")
    want = metafeatures.extract(frame, y, groups=["general", "statistical", "landmarking"],
                                categorical=_categorical_columns(frame, None),
                                transform_cat="gray", rescale="robust", score="kappa",
                                num_cv_folds=3, on_error="warn")
    default = metafeatures.extract(frame, y, groups=["general", "statistical", "landmarking"],
                                   categorical=_categorical_columns(frame, None),
                                   on_error="warn")
    assert got.keys() == want.keys()
    for k, v in want.items():
        assert (got[k] is None) == (not math.isfinite(v)), k
        if got[k] is not None:
            assert got[k] == pytest.approx(v, rel=1e-12, abs=1e-12), k
    # the options changed something: the coded columns' correlations, the landmarkers' scores
    assert got["nr_cor_attr"] != pytest.approx(default["nr_cor_attr"])
    assert got["one_nn.mean"] != pytest.approx(default["one_nn.mean"])


@pytest.mark.parametrize("extra, said", [
    (["--names", "autosklearn", "--transform-cat", "gray"],
     "--transform-cat must be left at its default with --names 'autosklearn'"),
    (["--cv-folds", "1"], "--cv-folds must be an integer >= 2; got 1"),
])
def test_pymfe_option_errors_name_the_option(capsys, extra, said) -> None:
    assert main(["metafeatures", "sklearn:iris", *extra]) == 2
    assert said in capsys.readouterr().err
