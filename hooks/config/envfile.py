"""Env files: the one reader, and how the operator commands find and edit them.

`parse` reads env-file text with the engine's own parser (stacker's, so a file means to
us exactly what it means to `stacker build`), with our strictness on top: a line that is
not `key: value` and a key set twice are refused with their line numbers (stacker would
fail on the first and silently keep the last value of the second). A key written with
spaces before its colon (`namespace : x`) is read as stacker reads it (`'namespace '`)
and refused by the schema with a message saying so. Line endings are read as stacker
reads them (it opens the file with Python's universal newlines): LF, Windows CRLF and old
Mac CR all end a line. Tabs count as spaces: around a value and before a key they are
stripped, before the colon they are part of the key (refused, as spaces are). A UTF-8 byte
order mark (BOM) is refused: stacker would read it as part of the first line. `read` reads
a file, `load` checks it against hooks/config/settings.py. Nothing else parses env files.

A tenant's env file is environments/<namespace>.env by default (`--environments DIR`
picks another directory, `--env-file PATH` one file). Loading checks the whole file
against hooks/config/settings.py and that it belongs to the namespace asked about.

`set_db_timestamp` is the promotion's one-line change: it rewrites the value of the
`db_timestamp` line and keeps every other byte (comments, order, spacing, line endings);
a file without the key gets the line appended.

Pure, apart from reading and writing the files it is given.
"""
import difflib
import re
from pathlib import Path

from hooks import naming
from hooks.config import settings
from hooks.engine import stacker_compat
from hooks.errors import BadInput, SettingsError

DEFAULT_ENVIRONMENTS = naming.ENVIRONMENTS_DIR
TIMESTAMP_KEY = "db_timestamp"
# Checks the other keys of a file that sets no db_timestamp yet; never written anywhere.
STAND_IN_TIMESTAMP = "20000101t000000z"
# The key's line: what precedes and follows the value is kept byte for byte.
TIMESTAMP_LINE = re.compile(r"^(?P<head>\s*%s\s*:\s*)(?P<value>.*?)(?P<tail>\s*)$" % TIMESTAMP_KEY)


BOM = settings.BOM


def universal_newlines(text):
    """`text` with CRLF and CR line endings as LF: what stacker's reader (open() in text mode) sees."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def parse(text, source=None):
    """The raw {key: value} stacker reads from env-file text; SettingsError listing every line it
    would read differently from how it looks (not `key: value`, a key set twice, a BOM)."""
    problems, first_seen = [], {}
    text = universal_newlines(text)
    if text.startswith(BOM):
        text = text[len(BOM):]
        problems.append(
            "line 1: the file starts with a UTF-8 byte order mark (BOM), which stacker reads as part of the "
            "first line (%r, not %r); save the file as UTF-8 without a BOM"
            % (BOM + text.split("\n", 1)[0], text.split("\n", 1)[0])
        )
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key, colon, _ = stripped.partition(":")
        if not colon or not key.strip():
            problems.append("line %d: expected 'key: value', got %r" % (number, line.rstrip("\r")))
        elif key in first_seen:
            problems.append("line %d: env key %s is set twice (first on line %d); stacker would silently use "
                            "the last value" % (number, key.strip(), first_seen[key]))
        else:
            first_seen[key] = number
    if problems:
        raise SettingsError(problems, source)
    return dict(stacker_compat.parse_environment(text))


def file_name_problem(path, namespace):
    """Why the env file at `path` cannot set `namespace` (its name must be `<namespace>.env`); None when it can.

    The name is how every command finds a namespace's file (status, promote, rollback, reap)
    and how a reviewer knows which tenant a change deploys; a file whose name and namespace
    disagree deploys one tenant from what looks like another's file."""
    name, expected = Path(path).name, namespace + naming.ENV_FILE_SUFFIX
    if name == expected:
        return None
    stem = name[: -len(naming.ENV_FILE_SUFFIX)] if name.endswith(naming.ENV_FILE_SUFFIX) else None
    other = ", or set `namespace: %s` if it is %s's file" % (stem, stem) if stem and _is_namespace(stem) else ""
    return (
        "env file %s sets namespace %s, but an env file must be named after its namespace "
        "(environments/<namespace>.env); rename it to %s%s" % (path, namespace, expected, other)
    )


def _is_namespace(value):
    if value in naming.SHARED_NAMESPACES or naming.is_project(value):
        return True
    try:
        naming.parse_namespace(value)
    except naming.NamingError:
        return False
    return True


def read(path):
    """The raw mapping of the env file at `path`; BadInput when it is missing, unreadable or malformed."""
    path = Path(path)
    if not path.is_file():
        raise BadInput("env file %s not found; name an existing environments/<namespace>.env file" % path)
    try:
        return parse(read_text(path), str(path))
    except (OSError, UnicodeDecodeError) as error:
        raise BadInput("env file %s cannot be read (%s)" % (path, error)) from None


def load(path, overrides=()):
    """The validated settings of the env file at `path` with `overrides` ((key, value) pairs) applied."""
    return settings.load_settings(dict(read(path), **dict(overrides)), str(path))


def env_file_path(namespace, environments=None):
    """environments/<namespace>.env (or under `environments`)."""
    return Path(environments or DEFAULT_ENVIRONMENTS) / naming.env_file_name(naming.parse_namespace(namespace).name)


def read_text(path):
    """The file's text exactly as stored (no newline translation)."""
    with open(path, encoding="utf-8", newline="") as handle:
        return handle.read()


def write_text(path, text):
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)


def load_tenant(namespace, env_file=None, environments=None, timestamp_if_missing=None):
    """(path, settings) of the namespace's env file; BadInput naming the file and the fix.

    `timestamp_if_missing`: a file without db_timestamp is checked as if it had this one
    (the promotion adds the line), and its settings carry it.
    """
    name = naming.parse_namespace(namespace).name
    path = Path(env_file) if env_file else env_file_path(name, environments)
    if not path.is_file():
        raise BadInput(
            "env file %s of %s not found; run from the repository root, or name the directory with "
            "--environments DIR (or the file with --env-file PATH)" % (path, name)
        )
    text = read_text(path)
    if timestamp_if_missing is not None and db_timestamp_of(path, text) is None:
        text = set_db_timestamp(text, timestamp_if_missing)
    values = settings_of(path, text)
    if values["namespace"] != name:
        raise BadInput(
            "env file %s is for namespace %s, not %s; name the env file of %s" % (path, values["namespace"], name, name)
        )
    return path, values


def settings_of(path, text=None):
    """The validated settings of an env file (or of `text` as that file); BadInput listing every problem."""
    try:
        return settings.load_settings(parse(read_text(path) if text is None else text, str(path)), str(path))
    except SettingsError as error:
        raise BadInput("%s\nFix the env file, then run the command again." % error) from None


def db_timestamp_of(path, text):
    """The db_timestamp the env file text sets, as written; None when it sets none."""
    try:
        return parse(text, str(path)).get(TIMESTAMP_KEY)
    except SettingsError as error:
        raise BadInput("%s\nFix the env file, then run the command again." % error) from None


def tenant_namespaces(environments=None):
    """The tenant namespaces of every <namespace>.env in the directory, sorted (shared ones left out)."""
    directory = Path(environments or DEFAULT_ENVIRONMENTS)
    if not directory.is_dir():
        raise BadInput(
            "environments directory %s not found; run from the repository root or pass --environments DIR" % directory
        )
    namespaces = []
    for path in sorted(directory.glob("*" + naming.ENV_FILE_SUFFIX)):
        try:
            namespace = parse(read_text(path), str(path)).get("namespace")
        except SettingsError as error:
            raise BadInput("%s\nFix the env file, then run the command again." % error) from None
        if namespace not in naming.SHARED_NAMESPACES:
            namespaces.append(naming.parse_namespace(namespace, "namespace in %s" % path).name)
    if not namespaces:
        raise BadInput("no tenant env file (<namespace>.env) in %s; pass --environments DIR" % directory)
    return namespaces


def set_db_timestamp(text, timestamp):
    """`text` with db_timestamp set to `timestamp`; only that line changes (or is added)."""
    naming.parse_timestamp(timestamp)
    lines = text.splitlines(keepends=True)
    for index, line in enumerate(lines):
        body = line.rstrip("\r\n")
        match = TIMESTAMP_LINE.match(body)
        if match:
            lines[index] = "%s%s%s%s" % (match.group("head"), timestamp, match.group("tail"), line[len(body):])
            return "".join(lines)
    if text and not text.endswith("\n"):
        text += "\n"
    return "%s%s: %s\n" % (text, TIMESTAMP_KEY, timestamp)


def unified_diff(old, new, path):
    """The change as a unified diff (a/<path>, b/<path>); '' when nothing changed."""
    lines = difflib.unified_diff(old.splitlines(True), new.splitlines(True), "a/%s" % path, "b/%s" % path)
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)
