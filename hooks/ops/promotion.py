"""Promotion as a reviewable change: the source's data timestamp into the target's env file.

`tenantstack promote xy-0146-qa xy-0146-prod` reads the timestamp xy-0146-qa serves (its
active pointer) and writes it into environments/xy-0146-prod.env as `db_timestamp`: a
one-line change that a pull request shows and a deploy then carries out. The timestamp
names the dev snapshot both restore from, so prod gets exactly the data tested in qa.

Refused before anything is written (BadInput): a source without an active database; a
target that restores from another namespace than the source's project dev namespace
(hooks/config/settings.py: every environment restores from its own project's dev snapshots);
a source snapshot that is missing or unfit (hooks/steps/source_snapshot.py).

Layers: `check_pair`, `plan_change` (pure), `plan` (AWS, takes clients).
"""
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from hooks import naming
from hooks.config import envfile
from hooks.errors import BadInput
from hooks.steps import source_snapshot
from hooks.tenant import inventory


@dataclass(frozen=True)
class Promotion:
    source: str
    target: str
    env_file: Path
    timestamp: str
    current: Optional[str]  # the target env file's db_timestamp before the change; None: it had none
    old_text: str
    new_text: str

    @property
    def unchanged(self):
        return self.old_text == self.new_text

    def diff(self):
        return envfile.unified_diff(self.old_text, self.new_text, self.env_file)


# --- pure --------------------------------------------------------------------------------


def check_pair(source, target_settings, explicit_timestamp):
    """BadInput unless `source`'s data may go to the target the settings describe."""
    source = naming.parse_namespace(source, "source namespace").name
    target = target_settings["namespace"]
    if source == target:
        raise BadInput("promote copies data between two namespaces; %s was given as both FROM and TO" % source)
    data_from = naming.parse_namespace(source).default_source_namespace
    if target_settings["source_namespace"] != data_from:
        raise BadInput(
            "%s restores from snapshots of %s (its source_namespace), but %s serves data from snapshots of %s: "
            "every environment restores only from its own project's dev namespace; promote to %s from a namespace "
            "of project %s; nothing was changed"
            % (target, target_settings["source_namespace"], source, data_from, target,
               naming.parse_namespace(target_settings["source_namespace"]).project_key)
        )
    if explicit_timestamp and source != data_from:
        raise BadInput(
            "--timestamp names a snapshot of %s, but only snapshots of %s (the project's dev namespace) are "
            "promoted; without --timestamp, %s's active timestamp is promoted; nothing was changed"
            % (source, data_from, source)
        )


def plan_change(source, target_settings, env_file, old_text, timestamp):
    """The Promotion writing `timestamp` into the target env file's text."""
    new_text = envfile.set_db_timestamp(old_text, timestamp)
    envfile.settings_of(env_file, new_text)  # the written file must still be valid
    return Promotion(source, target_settings["namespace"], Path(env_file), timestamp,
                     envfile.db_timestamp_of(env_file, old_text), old_text, new_text)


# --- AWS ---------------------------------------------------------------------------------


def plan(ssm, rds, source, env_file, target_settings, timestamp=None):
    """The Promotion of `source`'s active timestamp (or `timestamp`) into `env_file`; writes nothing."""
    check_pair(source, target_settings, timestamp is not None)
    if timestamp is None:
        timestamp = inventory.active_timestamp(ssm, source)
        if timestamp is None:
            raise BadInput(
                "%s has no active database (%s is not set), so there is nothing to promote; deploy it first, "
                "or promote a snapshot with --timestamp; nothing was changed"
                % (source, naming.ssm_active_parameter(source))
            )
    else:
        naming.parse_timestamp(timestamp, "--timestamp")
    source_snapshot.describe_source_snapshot(rds, target_settings["source_namespace"], timestamp)
    return plan_change(source, target_settings, env_file, envfile.read_text(env_file), timestamp)
