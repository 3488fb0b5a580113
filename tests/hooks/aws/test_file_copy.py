"""hooks/aws/file_copy.py against the local endpoint: server-side, multipart above the threshold, resumable,
verified, across buckets; and deleting a data set's files."""
import boto3
import pytest
from botocore.stub import Stubber
from s3transfer.manager import TransferManager

from hooks import naming
from hooks.aws import clients, drills, file_copy, file_plan
from hooks.errors import FilesCopyFailed

SOURCE, TARGET = "xy-0146-dev/files/20261101t090000z/", "xy-0146-prod/files/20261101t090000z/"
MIB = 1024 ** 2
FILES = {"a.txt": b"hello", "img/b.png": b"\x89PNG" * 100, "big.bin": b"z" * (6 * MIB)}


@pytest.fixture
def s3(aws, monkeypatch):
    """An S3 client as the hooks make it (failure drills armed), two versioned SSE-S3 buckets like the tiers'."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws.url)
    for key in ("AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, aws.env[key])
    s3 = aws.client("s3")
    for bucket in ("nonprod-files", "prod-files"):
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    for name, body in FILES.items():
        s3.put_object(Bucket="nonprod-files", Key=SOURCE + name, Body=body, ContentType="image/png",
                      Metadata={"uploaded-by": "dev"})
    return clients.client("s3")


def copy(s3, **options):
    options = dict(dict(multipart_threshold=5 * MIB, part_size=5 * MIB, workers=4), **options)
    return file_copy.copy_files(s3, "nonprod-files", SOURCE, "prod-files", TARGET, **options)


def stored(s3, bucket, prefix):
    return {name: s3.get_object(Bucket=bucket, Key=prefix + name)["Body"].read()
            for name, _, _ in file_copy.list_files(s3, bucket, prefix)}


def test_files_are_copied_across_buckets_with_their_metadata_large_ones_in_parts_and_a_rerun_copies_nothing(s3):
    result = copy(s3)
    assert (result["copied"], result["skipped"], result["count"]) == (3, 0, 3)
    assert result["bytes"] == sum(len(body) for body in FILES.values()) == result["bytes_copied"]
    assert stored(s3, "prod-files", TARGET) == FILES
    big_source = s3.head_object(Bucket="nonprod-files", Key=SOURCE + "big.bin")
    big = s3.head_object(Bucket="prod-files", Key=TARGET + "big.bin")
    assert big["ETag"].endswith('-2"')  # a multipart copy: two parts of 5 MiB and 1 MiB
    assert big["Metadata"] == {"uploaded-by": "dev", naming.SOURCE_ETAG_METADATA: big_source["ETag"]}
    assert (big["ContentType"], big["ServerSideEncryption"]) == ("image/png", "AES256")  # the target bucket's key

    again = copy(s3)
    assert (again["copied"], again["skipped"], again["count"], again["bytes"]) == (0, 3, 3, result["bytes"])


def test_an_object_that_cannot_be_copied_fails_the_copy_naming_it_and_a_rerun_copies_only_it(s3, monkeypatch):
    monkeypatch.setenv(drills.FAULTS_VARIABLE, "s3.CopyObject@%sa.txt" % TARGET)
    with pytest.raises(FilesCopyFailed, match=r"1 of 3 object\(s\) could not be copied \(a.txt: InjectedFault"):
        copy(clients.client("s3"))
    assert sorted(stored(s3, "prod-files", TARGET)) == ["big.bin", "img/b.png"]

    monkeypatch.delenv(drills.FAULTS_VARIABLE)
    result = copy(clients.client("s3"))
    assert (result["copied"], result["skipped"], result["count"]) == (1, 2, 3)
    assert stored(s3, "prod-files", TARGET) == FILES


def test_a_target_object_of_another_content_is_replaced_and_target_only_objects_are_kept(s3):
    s3.put_object(Bucket="prod-files", Key=TARGET + "a.txt", Body=b"HELLO")  # same size, other content
    s3.put_object(Bucket="prod-files", Key=TARGET + "uploaded-since.txt", Body=b"x")
    result = copy(s3)
    assert (result["copied"], result["extra"]) == (3, ["uploaded-since.txt"])
    assert stored(s3, "prod-files", TARGET) == dict(FILES, **{"uploaded-since.txt": b"x"})


def test_a_data_set_without_files_copies_nothing(s3):
    result = file_copy.copy_files(s3, "nonprod-files", "xy-0146-dev/files/20261115t120000z/", "prod-files", TARGET)
    assert (result["copied"], result["count"], result["bytes"]) == (0, 0, 0)


def test_deleting_a_data_sets_files_leaves_every_other_prefix(s3):
    s3.put_object(Bucket="nonprod-files", Key="xy-0146-dev/files/20261115t120000z/keep.txt", Body=b"k")
    s3.put_object(Bucket="nonprod-files", Key="xy-0146-dev-x/files/20261101t090000z/keep.txt", Body=b"k")
    assert file_copy.delete_files(s3, "nonprod-files", SOURCE) == 3
    assert file_copy.list_files(s3, "nonprod-files", SOURCE) == []
    assert [key for key, _, _ in file_copy.list_files(s3, "nonprod-files", "")] == [
        "xy-0146-dev-x/files/20261101t090000z/keep.txt", "xy-0146-dev/files/20261115t120000z/keep.txt"]
    assert file_copy.delete_files(s3, "nonprod-files", SOURCE) == 0


def test_an_object_rewritten_during_its_copy_is_read_again_and_copied_as_it_is_now():
    """The endpoint ignores CopySourceIfMatch (docs/architecture.md, gaps): S3's 412 comes from Stubber."""
    s3 = boto3.client("s3", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    source = {"Bucket": "nonprod-files", "Key": SOURCE + "a.txt"}

    def copy_params(etag):
        return dict(Bucket="prod-files", Key=TARGET + "a.txt", CopySource=source, CopySourceIfMatch=etag,
                    MetadataDirective="REPLACE", Metadata={naming.SOURCE_ETAG_METADATA: etag})

    with Stubber(s3) as stubbed:
        stubbed.add_response("head_object", {"ContentLength": 5, "ETag": '"one"'}, source)
        stubbed.add_client_error("copy_object", "PreconditionFailed", "At least one of the pre-conditions you "
                                 "specified did not hold", 412, expected_params=copy_params('"one"'))
        stubbed.add_response("head_object", {"ContentLength": 6, "ETag": '"two"'}, source)
        stubbed.add_response("copy_object", {}, copy_params('"two"'))
        with TransferManager(s3) as manager:
            copied = file_copy.Copy(s3, manager, "nonprod-files", SOURCE, "prod-files", TARGET).one(
                file_plan.SourceFile("a.txt", 5, '"one"'))
        stubbed.assert_no_pending_responses()
    assert copied == file_plan.SourceFile("a.txt", 6, '"two"')
