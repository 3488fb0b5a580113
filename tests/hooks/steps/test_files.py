"""hooks/steps/files.py: whether a promotion copies the data set's files."""
import pytest

from hooks.errors import HookArgumentError
from hooks.steps import files

TS = "20261101t090000z"


@pytest.mark.parametrize(
    "namespace, source, exists, expected",
    [
        pytest.param("xy-0146-qa", "xy-0146-dev", False,
                     (files.COPY, "copying xy-0146-dev/files/%s/ to xy-0146-qa/files/%s/" % (TS, TS)), id="promotion"),
        pytest.param("xy-0146-dev", "xy-0146-dev", False,
                     (files.OWN_SOURCE, "xy-0146-dev is its own source: its files of %s are xy-0146-dev/files/%s/ "
                                        "already" % (TS, TS)), id="own-source"),
        pytest.param("xy-0146-qa", "xy-0146-dev", True,
                     (files.DATABASE_EXISTS, "database xy-0146-qa-db-%s exists: xy-0146-qa/files/%s/ is the data set "
                                             "it serves, never overwritten" % (TS, TS)), id="database-exists"),
    ],
)
def test_plan(namespace, source, exists, expected):
    assert files.plan_files(namespace, source, TS, exists) == expected


@pytest.mark.parametrize("workers", [0, 65, "eight", True])
def test_a_bad_workers_argument_is_refused_before_any_aws_call(workers):
    with pytest.raises(HookArgumentError, match=r"argument workers .* expected a whole number .* from 1 to 64"):
        files.copy_data_set_files(context=None, workers=workers)
