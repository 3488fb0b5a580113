"""hooks/engine/config_keys.py: every value a config gives one engine, it gives the other too."""
import pytest

from hooks.engine import config_keys
from hooks.errors import BadInput
from tests.conftest import REPO_ROOT

CONFIG = """\
namespace: x
stacker_bucket: &bucket ""
cfngin_bucket: *bucket
pre_build: &pre
  - path: hooks.steps.preflight.check_environment
pre_deploy: *pre
stacks: []
"""


@pytest.mark.parametrize("change, message", [
    pytest.param(("pre_deploy: *pre\n", ""), "pre_build is set but pre_deploy is not (CFNgin would ignore it)",
                 id="hooks-for-stacker-only"),
    pytest.param(("stacker_bucket: &bucket \"\"\n", "stacker_bucket: &bucket \"\"\npost_deploy: []\n"),
                 "post_deploy is set but post_build is not (stacker would ignore it)", id="hooks-for-cfngin-only"),
    pytest.param(("cfngin_bucket: *bucket", "cfngin_bucket: templates"), "stacker_bucket and cfngin_bucket differ",
                 id="two-buckets"),
    pytest.param(("cfngin_bucket: *bucket\n", ""), "stacker_bucket is set but cfngin_bucket is not",
                 id="bucket-for-stacker-only"),
])
def test_a_config_must_name_each_engines_keys(change, message):
    config_keys.check_twin_keys(CONFIG)  # the shared form passes
    with pytest.raises(BadInput, match=message.replace("(", r"\(").replace(")", r"\)")):
        config_keys.check_twin_keys(CONFIG.replace(*change), "probe.yaml")


@pytest.mark.parametrize("config", sorted((REPO_ROOT / "stacker").glob("*.yaml")), ids=lambda path: path.name)
def test_every_config_gives_both_engines_the_same_hooks_and_bucket(config):
    config_keys.check_twin_keys(config.read_text(), config.name)
