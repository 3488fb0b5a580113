"""Env files as the operator commands find, read and edit them.

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
from hooks.errors import BadInput

DEFAULT_ENVIRONMENTS = naming.ENVIRONMENTS_DIR
TIMESTAMP_KEY = "db_timestamp"
# Checks the other keys of a file that sets no db_timestamp yet; never written anywhere.
STAND_IN_TIMESTAMP = "20000101t000000z"
# The key's line: what precedes and follows the value is kept byte for byte.
TIMESTAMP_LINE = re.compile(r"^(?P<head>\s*%s\s*:\s*)(?P<value>.*?)(?P<tail>\s*)$" % TIMESTAMP_KEY)


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
    """The validated settings of an env file; BadInput listing every problem."""
    try:
        raw = settings.parse_env_file(read_text(path) if text is None else text, str(path))
        return settings.load_settings(raw, str(path))
    except settings.SettingsError as error:
        raise BadInput("%s\nFix the env file, then run the command again." % error) from None


def db_timestamp_of(path, text):
    """The db_timestamp the env file text sets, as written; None when it sets none."""
    try:
        return settings.parse_env_file(text, str(path)).get(TIMESTAMP_KEY)
    except settings.SettingsError as error:
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
            namespace = settings.parse_env_file(read_text(path), str(path)).get("namespace")
        except settings.SettingsError as error:
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
