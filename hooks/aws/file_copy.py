"""Copy a data set's files from one prefix to another, server-side; delete a data set's files.

Used by a promotion (hooks/steps/files.py: `<source>/files/<ts>/` to `<namespace>/files/<ts>/`),
by `tenantstack snapshot` (hooks/ops/capture_files.py: the live `<ns>/files/<active>/` to
`<ns>/files/<snapshot ts>/`) and by retention (hooks/steps/retention.py: `delete_files`).

How a copy works (the plan is hooks/aws/file_plan.py, pure):
- both prefixes are listed (ListObjectsV2); where size matches but the ETag does not, the
  target's metadata is read (HeadObject) to see whether it is already a copy of that source;
- every object to copy is read (HeadObject: its content type, metadata, current ETag) and copied
  by S3 itself, never through this machine: CopyObject, or above `multipart_threshold` bytes a
  multipart copy (UploadPartCopy), which is what makes objects over 5 GB work (s3transfer's
  managed copy). The copy carries the source's metadata plus naming.SOURCE_ETAG_METADATA and
  is conditional on that ETag (CopySourceIfMatch): an object rewritten meanwhile is read again;
- `workers` objects are copied at a time (a bounded thread pool), the parts of a multipart copy
  share the same bound;
- the target bucket's default encryption applies to every copy (no encryption header is sent):
  the application-files buckets use SSE-S3 (blueprints/tier.py), so a copy between the nonprod
  and the prod tier's bucket needs no KMS permission, and one into a bucket under a KMS key
  would be encrypted with that bucket's key;
- at the end the target is listed again and checked by count and total size (file_plan.verify).
  Objects that failed, or a copy that does not verify, raise FilesCopyFailed naming them; what
  was copied stays, and a re-run skips it.

AWS functions; they take an S3 client.
"""
import concurrent.futures
import logging

from botocore.exceptions import BotoCoreError, ClientError
from s3transfer.manager import TransferConfig, TransferManager
from s3transfer.subscribers import BaseSubscriber

from hooks import aws, naming
from hooks.aws import file_plan, resources
from hooks.errors import FilesCopyFailed

logger = logging.getLogger(__name__)

FILES_BUCKET_OUTPUT = "AppFilesBucketName"  # blueprints.tier: the tier's application-files bucket
DEFAULT_WORKERS = 8
DEFAULT_MULTIPART_THRESHOLD = 1024 ** 3  # 1 GiB: CopyObject takes up to 5 GB; above 1 GiB parts copy in parallel
DEFAULT_PART_SIZE = 256 * 1024 ** 2  # s3transfer raises it where 10,000 parts would not hold an object
SOURCE_CHANGED_RETRIES = 2  # an object rewritten between its HeadObject and its copy is read again
# Headers of the source object a copy keeps (with MetadataDirective REPLACE, S3 keeps none by itself).
KEPT_HEADERS = ("ContentType", "ContentEncoding", "ContentDisposition", "ContentLanguage", "CacheControl")
DELETE_BATCH = 1000  # DeleteObjects takes at most 1,000 keys


def files_bucket(cfn, shared_namespace):
    """The tier's application-files bucket: output AppFilesBucketName of `<shared_namespace>-tier`."""
    return resources.tier_output(cfn, shared_namespace, FILES_BUCKET_OUTPUT)


def list_files(s3, bucket, prefix):
    """[(name below prefix, size, ETag)] of every object under `prefix`."""
    found = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", ()):
            found.append((file_plan.relative_name(item["Key"], prefix), item["Size"], item["ETag"]))
    return found


def copy_files(s3, source_bucket, source_prefix, target_bucket, target_prefix, workers=DEFAULT_WORKERS,
               multipart_threshold=DEFAULT_MULTIPART_THRESHOLD, part_size=DEFAULT_PART_SIZE):
    """Make the target prefix hold every object of the source prefix (see the module).

    Returns {"source", "target", "copied", "skipped", "bytes_copied", "count", "bytes", "extra", "vanished"}:
    count/bytes are the verified data set; vanished are source objects deleted during the copy."""
    sources = [file_plan.SourceFile(*item) for item in list_files(s3, source_bucket, source_prefix)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        targets = _targets(s3, target_bucket, target_prefix, sources, pool)
        plan = file_plan.plan_file_copy(sources, targets)
        logger.info("files s3://%s/%s -> s3://%s/%s: %d to copy (%d bytes), %d already there",
                    source_bucket, source_prefix, target_bucket, target_prefix, len(plan.copy), plan.bytes_to_copy,
                    len(plan.skip))
        config = TransferConfig(multipart_threshold=multipart_threshold, multipart_chunksize=part_size,
                                max_request_concurrency=workers)
        with TransferManager(s3, config) as manager:
            copy = Copy(s3, manager, source_bucket, source_prefix, target_bucket, target_prefix)
            outcomes = list(pool.map(copy.one, plan.copy))
    copied = [outcome for outcome in outcomes if isinstance(outcome, file_plan.SourceFile)]
    vanished = [item.name for item, outcome in zip(plan.copy, outcomes) if outcome is None]
    failed = [(item.name, outcome) for item, outcome in zip(plan.copy, outcomes) if isinstance(outcome, str)]
    where = "s3://%s/%s to s3://%s/%s" % (source_bucket, source_prefix, target_bucket, target_prefix)
    if failed:
        shown = "; ".join("%s: %s" % pair for pair in failed[:5]) + (" ..." if len(failed) > 5 else "")
        raise FilesCopyFailed(
            "copying files %s: %d of %d object(s) could not be copied (%s); the %d copied stay and a re-run "
            "copies only what is missing" % (where, len(failed), len(plan.copy), shown, len(copied)))
    expected = list(plan.skip) + copied
    after = {name: file_plan.TargetFile(name, size, etag)
             for name, size, etag in list_files(s3, target_bucket, target_prefix)}
    verification = file_plan.verify(expected, after)
    if not verification.complete:
        raise FilesCopyFailed("copying files %s did not verify: %s; re-run to copy what is missing"
                              % (where, verification.sentence()))
    logger.info("files %s: %s", where, verification.sentence())
    return {
        "source": "s3://%s/%s" % (source_bucket, source_prefix),
        "target": "s3://%s/%s" % (target_bucket, target_prefix),
        "copied": len(copied), "skipped": len(plan.skip), "bytes_copied": sum(item.size for item in copied),
        "count": verification.found_count, "bytes": verification.found_bytes, "extra": list(plan.extra),
        "vanished": vanished,
    }


def _targets(s3, bucket, prefix, sources, pool):
    """{name: TargetFile} of the target prefix, with the metadata read where only it can tell."""
    listed = {name: file_plan.TargetFile(name, size, etag) for name, size, etag in list_files(s3, bucket, prefix)}
    unclear = [source for source in sources if file_plan.needs_metadata(source, listed.get(source.name))]

    def with_metadata(source):
        head = aws.or_none(s3.head_object, ("404", "NoSuchKey"), Bucket=bucket, Key=prefix + source.name)
        target = listed[source.name]
        recorded = (head or {}).get("Metadata", {}).get(naming.SOURCE_ETAG_METADATA)
        return file_plan.TargetFile(target.name, target.size, target.etag, recorded)

    for target in pool.map(with_metadata, unclear):
        listed[target.name] = target
    return listed


class _KnownSource(BaseSubscriber):
    """Tells s3transfer the size (and, where it takes it, the ETag) from our own HeadObject, so it does not
    read the source again."""

    def __init__(self, size, etag):
        self.size, self.etag = size, etag

    def on_queued(self, future, **kwargs):
        future.meta.provide_transfer_size(self.size)
        if hasattr(future.meta, "provide_object_etag"):  # newer s3transfer (0.16: the stacker venv's)
            future.meta.provide_object_etag(self.etag)


class Copy:
    """Copies one object of a plan (run in the pool): its SourceFile as copied, None when it vanished, or the
    error text when it failed (every object is tried; copy_files reports the failures together)."""

    def __init__(self, s3, manager, source_bucket, source_prefix, target_bucket, target_prefix):
        self.s3, self.manager = s3, manager
        self.source_bucket, self.source_prefix = source_bucket, source_prefix
        self.target_bucket, self.target_prefix = target_bucket, target_prefix

    def one(self, item):
        key = self.source_prefix + item.name
        for attempt in range(SOURCE_CHANGED_RETRIES + 1):
            try:
                head = aws.or_none(self.s3.head_object, ("404", "NoSuchKey"), Bucket=self.source_bucket, Key=key)
                if head is None:
                    logger.warning("s3://%s/%s vanished during the copy (deleted at the source)",
                                   self.source_bucket, key)
                    return None
                self._copy(key, item.name, head)
                return file_plan.SourceFile(item.name, head["ContentLength"], head["ETag"])
            except ClientError as error:
                if aws.error_code(error) in ("PreconditionFailed", "412") and attempt < SOURCE_CHANGED_RETRIES:
                    logger.info("s3://%s/%s changed during its copy; reading it again", self.source_bucket, key)
                    continue
                return "%s (%s)" % (aws.error_code(error), error)
            except BotoCoreError as error:
                return str(error)
        return "it kept changing during the copy"  # not reached: the last attempt returns

    def _copy(self, key, name, head):
        metadata = dict(head.get("Metadata") or {}, **{naming.SOURCE_ETAG_METADATA: head["ETag"]})
        extra = {header: head[header] for header in KEPT_HEADERS if head.get(header)}
        extra.update(Metadata=metadata, MetadataDirective="REPLACE", CopySourceIfMatch=head["ETag"])
        future = self.manager.copy(
            {"Bucket": self.source_bucket, "Key": key}, self.target_bucket, self.target_prefix + name,
            extra_args=extra, subscribers=[_KnownSource(head["ContentLength"], head["ETag"])], source_client=self.s3,
        )
        future.result()
        logger.debug("copied s3://%s/%s (%d bytes)", self.source_bucket, key, head["ContentLength"])


def delete_files(s3, bucket, prefix):
    """Delete every object under `prefix` (in a versioned bucket: a delete marker each; earlier versions stay
    until the bucket's lifecycle expires them). The number deleted; ClientError when any key failed."""
    keys = [prefix + name for name, _, _ in list_files(s3, bucket, prefix)]
    for start in range(0, len(keys), DELETE_BATCH):
        batch = keys[start:start + DELETE_BATCH]
        answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True})
        errors = answer.get("Errors") or []
        if errors:
            first = errors[0]
            raise ClientError({"Error": {"Code": first.get("Code", "DeleteFailed"), "Message": "%d of %d key(s) "
                                         "not deleted, e.g. %s: %s" % (len(errors), len(batch), first.get("Key"),
                                                                      first.get("Message"))}}, "DeleteObjects")
    if keys:
        logger.info("deleted %d object(s) under s3://%s/%s", len(keys), bucket, prefix)
    return len(keys)
