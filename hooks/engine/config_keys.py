"""The top-level config keys stacker and runway's CFNgin name differently, and the check that a
config names each value for both (docs/engines.md, "One config for both engines").

Pure: YAML in, BadInput out; no engine import (hooks/engine/stacker_compat.py runs the check
whenever it loads a config, for either engine).
"""
import yaml

from hooks.errors import BadInput

# Top-level config keys each engine names its own way; each ignores the other's names, so a
# config names each value for both (a YAML alias: stacker/*.yaml) or one engine silently
# skips its hooks or wants a template bucket.
TWIN_KEYS = (("stacker_bucket", "cfngin_bucket"), ("pre_build", "pre_deploy"), ("post_build", "post_deploy"))


def check_twin_keys(config_text, source="config"):
    """BadInput unless every value one engine reads under its own name is given under the other's too."""
    data = yaml.safe_load(config_text) or {}
    problems = []
    for stacker_key, cfngin_key in TWIN_KEYS:
        if stacker_key not in data and cfngin_key not in data:
            continue
        if stacker_key not in data or cfngin_key not in data:
            given, missing = (stacker_key, cfngin_key) if stacker_key in data else (cfngin_key, stacker_key)
            problems.append("%s is set but %s is not (%s would ignore it)" % (
                given, missing, "CFNgin" if missing == cfngin_key else "stacker"))
        elif data[stacker_key] != data[cfngin_key]:
            problems.append("%s and %s differ" % (stacker_key, cfngin_key))
    if problems:
        raise BadInput("%s: %s; give each value under both names, as stacker/*.yaml do with a YAML alias "
                       "(`pre_build: &pre_build [...]`, `pre_deploy: *pre_build`; docs/engines.md)"
                       % (source, "; ".join(problems)))
