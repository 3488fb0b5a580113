"""pre_build: refuse bad input before anything changes.

Stacker substitutes env values into the config before any hook runs, so a key the
config needs but the env file lacks already fails there (stacker's MissingEnvironment).
This hook checks the rest: every key against its rule (hooks/config/settings.py), unknown keys,
and the cross-key rules. It makes no AWS call, and stacker makes none before it
(the configs set `stacker_bucket: ""`).
"""
import logging

from hooks.config import settings
from hooks.config.hookargs import check_arguments, environment_of

logger = logging.getLogger(__name__)


def check_environment(context, provider=None, **kwargs):
    """Validate the whole environment; raise SettingsError listing every problem."""
    check_arguments("check_environment", kwargs, accepted=())
    values = settings.load_settings(environment_of(context))
    logger.info("environment of %s is valid", values["namespace"])
    return {"status": "valid", "namespace": values["namespace"]}
