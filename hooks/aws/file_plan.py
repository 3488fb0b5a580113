"""What copying a data set's files does: which objects to copy, which are already there, whether it is complete.

A data set's files are every object under `<namespace>/files/<timestamp>/` (naming.files_prefix)
in a tier's application-files bucket. Copying them to another prefix (a promotion, or a capture
by `tenantstack snapshot`) is a server-side copy per object (hooks/aws/file_copy.py); this module
decides, from two listings, what that copy must do, so a copy cut short at any point resumes:

- an object of the source whose name (the key below the prefix) exists at the target with the same
  size and either the same ETag (a single-part copy keeps it) or, in its metadata
  naming.SOURCE_ETAG_METADATA, the source's ETag (a multipart copy gets an ETag of its own) is
  already copied: skipped;
- every other object of the source is copied (again: a part-way or differing object is replaced);
- objects at the target that the source does not have are left alone (nothing is ever deleted
  by a copy) and reported.

The copy is complete when every object of the source is at the target with its size: the count
and the total size of those objects are checked against the source's (`verify`).

Pure: no AWS.
"""
from dataclasses import dataclass, field
from typing import Optional, Tuple


@dataclass(frozen=True)
class SourceFile:
    name: str  # the key below the source prefix
    size: int
    etag: str


@dataclass(frozen=True)
class TargetFile:
    name: str  # the key below the target prefix
    size: int
    etag: str
    source_etag: Optional[str] = None  # its naming.SOURCE_ETAG_METADATA; None when not read or absent


@dataclass(frozen=True)
class FilePlan:
    copy: Tuple[SourceFile, ...] = ()
    skip: Tuple[SourceFile, ...] = ()
    extra: Tuple[str, ...] = ()  # names at the target only: kept

    @property
    def bytes_to_copy(self):
        return sum(item.size for item in self.copy)


@dataclass(frozen=True)
class Verification:
    expected_count: int
    expected_bytes: int
    found_count: int
    found_bytes: int
    missing: Tuple[str, ...] = field(default=())  # source names absent at the target, or of another size

    @property
    def complete(self):
        return not self.missing and (self.found_count, self.found_bytes) == (self.expected_count, self.expected_bytes)

    def sentence(self):
        text = "%d object(s), %d byte(s) expected; %d object(s), %d byte(s) found" % (
            self.expected_count, self.expected_bytes, self.found_count, self.found_bytes)
        if self.missing:
            shown = ", ".join(self.missing[:5]) + (" ..." if len(self.missing) > 5 else "")
            text += "; missing or of another size: %s" % shown
        return text


def relative_name(key, prefix):
    """The key below `prefix` (ValueError when the key is not below it: a listing's bug, not input)."""
    if not key.startswith(prefix):
        raise ValueError("key %r is not below prefix %r" % (key, prefix))
    return key[len(prefix):]


def is_same_object(source, target):
    """True when `target` holds `source`'s content (see the module)."""
    if target is None or target.size != source.size:
        return False
    return target.etag == source.etag or target.source_etag == source.etag


def needs_metadata(source, target):
    """True when only the target's metadata can tell (same size, other ETag): it must be read (HeadObject)."""
    return target is not None and target.size == source.size and target.etag != source.etag


def plan_file_copy(sources, targets):
    """The FilePlan that makes the target hold every source object.

    sources: iterable of SourceFile; targets: {name: TargetFile} (with source_etag read wherever
    needs_metadata said so). Ordered by name, so a plan reads the same every time."""
    copy, skip = [], []
    source_names = set()
    for source in sorted(sources, key=lambda item: item.name):
        source_names.add(source.name)
        (skip if is_same_object(source, targets.get(source.name)) else copy).append(source)
    extra = tuple(sorted(name for name in targets if name not in source_names))
    return FilePlan(tuple(copy), tuple(skip), extra)


def verify(sources, targets):
    """Verification of a finished copy: every source object at the target with its size, by count and bytes."""
    sources = list(sources)
    found = [source for source in sources
             if source.name in targets and targets[source.name].size == source.size]
    found_names = {source.name for source in found}
    return Verification(
        expected_count=len(sources),
        expected_bytes=sum(source.size for source in sources),
        found_count=len(found),
        found_bytes=sum(targets[source.name].size for source in found),
        missing=tuple(sorted(source.name for source in sources if source.name not in found_names)),
    )
