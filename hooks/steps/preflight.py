"""pre_build: refuse bad input before anything changes.

Stacker substitutes env values into the config before any hook runs, so a key the
config needs but the env file lacks already fails there (stacker's MissingEnvironment).
This hook checks the rest: every key against its rule (hooks/config/settings.py), unknown
keys, and the cross-key rules; the wiring (hooks/steps/wiring.py) does the check before
the hook's body runs. It makes no AWS call, and stacker makes none before it (the configs
set `stacker_bucket: ""`).

The body adds the one rule the values alone cannot show: the env file is named after its
namespace (`environments/<namespace>.env`, hooks.config.envfile.file_name_problem). The
file is the one on stacker's command line (hooks.engine.stacker_compat.env_file_of); when
that cannot be known (another engine, a hook called from Python), the rule is not checked
here and a warning says so (`tenantstack deploy` checks it before stacker starts).

And one the engine cannot do: `db_timestamp: latest` (hooks/steps/latest_snapshot.py) must be
resolved before the engine starts, because the config names the database stack by it before
any hook runs. `tenantstack deploy` and `diff` resolve it; a plain `stacker build` that still
carries the word is refused here, before any AWS call (`unresolved_latest_problem`).
"""
import logging

from hooks import naming
from hooks.config import envfile
from hooks.engine import stacker_compat
from hooks.errors import BadInput
from hooks.steps.wiring import stacker_hook

logger = logging.getLogger(__name__)


def unresolved_latest_problem(settings):
    """Why a run whose db_timestamp is still `latest` cannot go on; None when it names a timestamp."""
    if settings.get("db_timestamp") != naming.LATEST_TIMESTAMP:
        return None
    return (
        "db_timestamp %s reached the engine unresolved: the engine names the database stack by db_timestamp before "
        "any hook runs, so %s is resolved to the newest available snapshot of %s before the engine starts, by "
        "`tenantstack deploy` (or `tenantstack diff`). Run `tenantstack deploy <env file>`, or name the timestamp "
        "(-e db_timestamp=<timestamp>); nothing was changed"
        % (naming.LATEST_TIMESTAMP, naming.LATEST_TIMESTAMP, settings.get("source_namespace"))
    )


@stacker_hook()
def check_environment(run):
    """Validate the whole environment; SettingsError lists every problem, BadInput a misnamed env file
    or a db_timestamp `latest` no one resolved."""
    unresolved = unresolved_latest_problem(run.settings)
    if unresolved:
        raise BadInput(unresolved)
    env_file = stacker_compat.env_file_of(run.context)
    if env_file is None:
        logger.warning(
            "cannot tell which env file this run read (not a `stacker build ENV_FILE CONFIG` command line); "
            "the rule that it is named %s.env is not checked here", run.namespace
        )
    else:
        problem = envfile.file_name_problem(env_file, run.namespace)
        if problem:
            raise BadInput(problem)
    logger.info("environment of %s is valid", run.namespace)
    return {"status": "valid", "namespace": run.namespace}
