"""bench/rendering.py: the offline dump config and the generated tree (no stacker run here)."""
import pytest
import yaml

from bench import rendering, tenants
from bench.harness import BenchError


@pytest.mark.parametrize(
    "text, expected",
    [
        pytest.param("VpcId: ${xref ${shared_namespace}-vpc::VpcId}", "VpcId: bench-placeholder", id="nested-xref"),
        pytest.param("Port: ${output db::DatabaseEndpointPort}", "Port: bench-placeholder", id="output"),
        pytest.param("A: ${xref x::Y}\nB: ${setting hostname}\nC: ${namespace}",
                     "A: bench-placeholder\nB: ${setting hostname}\nC: ${namespace}", id="other-lookups-kept"),
    ],
)
def test_dump_config_replaces_only_cross_stack_lookups(text, expected):
    assert rendering.dump_config_text(text) == expected


def test_dump_config_refuses_a_config_without_cross_stack_lookups():
    with pytest.raises(BenchError) as raised:
        rendering.dump_config_text("stacks: []\n")
    assert str(raised.value) == (
        "no ${xref}/${output} lookup found in %s: the dump config would equal it" % tenants.TENANT_CONFIG)


def test_the_project_dump_config_keeps_every_stack_and_has_no_cross_stack_lookup_left():
    original = yaml.safe_load(tenants.TENANT_CONFIG.read_text())
    dumped_text = rendering.dump_config_text(tenants.TENANT_CONFIG.read_text())
    assert "${xref" not in dumped_text and "${output" not in dumped_text
    assert [s["name"] for s in yaml.safe_load(dumped_text)["stacks"]] == [s["name"] for s in original["stacks"]]


def test_generated_tree_has_three_env_files_per_tenant_and_the_configs(tmp_path):
    paths, dump_config = rendering.generate_tree(tmp_path / "root", 2)
    assert [p.name for p in paths] == [
        "bt-0001-dev.env", "bt-0001-qa.env", "bt-0001-prod.env",
        "bt-0002-dev.env", "bt-0002-qa.env", "bt-0002-prod.env",
    ]
    assert sorted(p.name for p in (tmp_path / "root" / "stacker").iterdir()) == ["shared.yaml", "tenant.yaml"]
    assert dump_config.read_text() == rendering.dump_config_text(tenants.TENANT_CONFIG.read_text())


@pytest.mark.parametrize(
    "count, size, expected",
    [
        pytest.param(6, 2, [0, 3], id="spread"),
        pytest.param(6, 3, [0, 2, 4], id="every-other"),
        pytest.param(2, 5, [0, 1], id="sample-larger-than-files"),
    ],
)
def test_sample_spreads_over_all_files(count, size, expected):
    assert rendering.sample(list(range(count)), size) == expected
