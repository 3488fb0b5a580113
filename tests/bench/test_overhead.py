"""bench/overhead.py: the bare config is stacker/tenant.yaml without hooks, nothing else."""
import yaml

from bench import overhead, tenants


def test_bare_config_drops_only_the_hooks(tmp_path):
    original = yaml.safe_load(tenants.TENANT_CONFIG.read_text())
    bare = yaml.safe_load(overhead.write_bare_config(tmp_path).read_text())
    assert set(overhead.HOOK_STAGES) <= set(original)  # stacker's and CFNgin's names of the same hooks
    assert bare == {key: value for key, value in original.items() if key not in overhead.HOOK_STAGES}
