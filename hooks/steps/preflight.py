"""pre_build: refuse bad input before anything changes.

Stacker substitutes env values into the config before any hook runs, so a key the
config needs but the env file lacks already fails there (stacker's MissingEnvironment).
This hook checks the rest: every key against its rule (hooks/config/settings.py), unknown
keys, and the cross-key rules; the wiring (hooks/steps/wiring.py) does the check before
the hook's body runs. It makes no AWS call, and stacker makes none before it (the configs
set `stacker_bucket: ""`).
"""
import logging

from hooks.steps.wiring import stacker_hook

logger = logging.getLogger(__name__)


@stacker_hook()
def check_environment(run):
    """Validate the whole environment; SettingsError lists every problem."""
    logger.info("environment of %s is valid", run.namespace)
    return {"status": "valid", "namespace": run.namespace}
