"""Every env file is valid, and the tiers' routing keys never collide."""
import collections

import pytest

from hooks import naming
from hooks.config import envfile
from hooks.engine import render
from hooks.engine.stacker_compat import load_config, make_context
from tests.conftest import REPO_ROOT

ENV_FILES = render.env_files(REPO_ROOT)


def load_all():
    return {path.name: envfile.load(path) for path in ENV_FILES}


def test_the_repository_has_both_tiers_and_two_customers():
    namespaces = {values["namespace"] for values in load_all().values()}
    assert set(naming.SHARED_NAMESPACES) <= namespaces
    customers = {naming.parse_namespace(n).customer for n in namespaces - set(naming.SHARED_NAMESPACES)}
    assert len(customers) >= 2


@pytest.mark.parametrize("path", ENV_FILES, ids=[p.name for p in ENV_FILES])
def test_env_file_is_valid_and_named_after_its_namespace(path):
    values = envfile.load(path)
    assert path.name == "%s.env" % values["namespace"]


TENANT_FILES = [path for path in ENV_FILES if path.stem not in naming.SHARED_NAMESPACES]


@pytest.mark.parametrize("path", TENANT_FILES, ids=[p.name for p in TENANT_FILES])
def test_tenants_run_their_own_projects_images_pinned_by_digest(path):
    """No stock image and no tag: what runs is exactly what the project's pipeline built."""
    values = envfile.load(path)
    project = naming.parse_namespace(values["namespace"]).project_key
    for container in ("nginx", "php"):
        image = values["%s_image" % container]
        repository, _, digest = image.partition("@sha256:")
        assert len(digest) == 64, "%s: %s is not pinned by digest" % (path.name, image)
        assert repository.endswith(".amazonaws.com/%s/%s" % (project, container)), (
            "%s: %s is not the project's %s repository" % (path.name, image, container))


@pytest.mark.parametrize("key", ["listener_priority", "hostname"])
def test_routing_keys_are_unique_within_each_tier(key):
    seen = collections.defaultdict(list)
    for name, values in load_all().items():
        if values["namespace"] not in naming.SHARED_NAMESPACES:
            seen[(values["shared_namespace"], values[key])].append(name)
    duplicates = {k: v for k, v in seen.items() if len(v) > 1}
    assert not duplicates, "%s must be unique within a tier: %s" % (key, duplicates)


def tenant_stack_names(env):
    config = load_config(open("stacker/tenant.yaml").read(), env)
    context = make_context(config, env)
    return {stack.name: context.get_fqn(stack.stack_name or stack.name) for stack in config.stacks}


def test_tenant_config_names_stacks_as_the_naming_module_does():
    env = envfile.parse(open("environments/xy-0146-qa.env").read())
    env["db_timestamp"] = "20270202t020202z"
    assert tenant_stack_names(env) == {
        naming.BASE_STACK: naming.base_stack_name("xy-0146-qa"),
        naming.DB_STACK: naming.db_stack_name("xy-0146-qa", "20270202t020202z"),
        naming.SERVICE_STACK: naming.service_stack_name("xy-0146-qa"),
    }


def test_shared_config_names_stacks_as_the_naming_module_does():
    env = envfile.parse(open("environments/common-prod.env").read())
    config = load_config(open("stacker/shared.yaml").read(), env)
    context = make_context(config, env)
    assert [context.get_fqn(s.name) for s in config.stacks] == [
        naming.vpc_stack_name("common-prod"),
        naming.tier_stack_name("common-prod"),
    ]
