"""hooks/aws/file_plan.py: what a copy of a data set's files copies, skips and checks."""
import pytest

from hooks.aws.file_plan import FilePlan, SourceFile, TargetFile, needs_metadata, plan_file_copy, relative_name, verify

A = SourceFile("a.pdf", 10, '"etag-a"')
B = SourceFile("img/b.png", 20, '"etag-b"')


def targets(*files):
    return {item.name: item for item in files}


@pytest.mark.parametrize(
    "sources, given, expected",
    [
        pytest.param([], {}, FilePlan(), id="no-files-is-a-valid-data-set"),
        pytest.param([B, A], {}, FilePlan(copy=(A, B)), id="empty-target-copies-all-by-name"),
        pytest.param([A, B], targets(TargetFile("a.pdf", 10, '"etag-a"')), FilePlan(copy=(B,), skip=(A,)),
                     id="same-size-same-etag-skipped"),
        pytest.param([A], targets(TargetFile("a.pdf", 10, '"multipart-2"', '"etag-a"')), FilePlan(skip=(A,)),
                     id="multipart-copy-known-by-its-source-etag"),
        pytest.param([A], targets(TargetFile("a.pdf", 10, '"other"', '"older"')), FilePlan(copy=(A,)),
                     id="copy-of-another-version-replaced"),
        pytest.param([A], targets(TargetFile("a.pdf", 10, '"other"')), FilePlan(copy=(A,)),
                     id="same-size-unknown-origin-replaced"),
        pytest.param([A], targets(TargetFile("a.pdf", 4, '"etag-a"', '"etag-a"')), FilePlan(copy=(A,)),
                     id="part-way-object-copied-again"),
        pytest.param([A], targets(TargetFile("a.pdf", 10, '"etag-a"'), TargetFile("new.txt", 1, '"n"')),
                     FilePlan(skip=(A,), extra=("new.txt",)), id="target-only-objects-kept-and-reported"),
    ],
)
def test_plan(sources, given, expected):
    assert plan_file_copy(sources, given) == expected


@pytest.mark.parametrize(
    "target, needed",
    [
        pytest.param(None, False, id="absent"),
        pytest.param(TargetFile("a.pdf", 9, '"x"'), False, id="other-size"),
        pytest.param(TargetFile("a.pdf", 10, '"etag-a"'), False, id="same-etag"),
        pytest.param(TargetFile("a.pdf", 10, '"x"'), True, id="same-size-other-etag"),
    ],
)
def test_metadata_is_read_only_where_it_decides(target, needed):
    assert needs_metadata(A, target) is needed


@pytest.mark.parametrize(
    "given, complete, sentence",
    [
        pytest.param(targets(TargetFile("a.pdf", 10, "x"), TargetFile("img/b.png", 20, "y")), True,
                     "2 object(s), 30 byte(s) expected; 2 object(s), 30 byte(s) found", id="complete"),
        pytest.param(targets(TargetFile("a.pdf", 10, "x"), TargetFile("img/b.png", 20, "y"), TargetFile("c", 5, "z")),
                     True, "2 object(s), 30 byte(s) expected; 2 object(s), 30 byte(s) found", id="extra-ignored"),
        pytest.param(targets(TargetFile("a.pdf", 10, "x")), False,
                     "2 object(s), 30 byte(s) expected; 1 object(s), 10 byte(s) found; missing or of another size: "
                     "img/b.png", id="missing"),
        pytest.param(targets(TargetFile("a.pdf", 10, "x"), TargetFile("img/b.png", 19, "y")), False,
                     "2 object(s), 30 byte(s) expected; 1 object(s), 10 byte(s) found; missing or of another size: "
                     "img/b.png", id="truncated"),
    ],
)
def test_verify_by_count_and_total_size(given, complete, sentence):
    verification = verify([A, B], given)
    assert (verification.complete, verification.sentence()) == (complete, sentence)


def test_relative_name_refuses_a_key_outside_the_prefix():
    assert relative_name("xy-0146-qa/files/20261101t090000z/a/b", "xy-0146-qa/files/20261101t090000z/") == "a/b"
    with pytest.raises(ValueError, match="not below prefix"):
        relative_name("xy-0146-dev/x", "xy-0146-qa/")
