"""hooks/engine/runway_layout.py: runway-modules/, the CFNgin modules runway.yml names."""
import os
import shutil

import yaml

from hooks.engine import runway_layout
from tests.conftest import REPO_ROOT


def test_the_committed_modules_are_fresh():
    stale = runway_layout.stale_links(REPO_ROOT)
    assert stale == [], "stale runway modules (run `%s`): %s" % (runway_layout.REFRESH_COMMAND, ", ".join(stale))


def test_runway_yml_names_one_module_per_config():
    config = yaml.safe_load((REPO_ROOT / "runway.yml").read_text())
    paths = [module["path"] for deployment in config["deployments"] for module in deployment["modules"]]
    assert paths == [runway_layout.module_of(kind) for kind in ("shared", "tenant", "pipeline")]
    assert all("parameters" not in module for deployment in config["deployments"] for module in deployment["modules"])


def test_each_module_holds_its_config_and_only_the_env_files_it_deploys():
    links = runway_layout.expected_links(REPO_ROOT)
    tenant = sorted(path.rsplit("/", 1)[1] for path in links if path.startswith("runway-modules/tenant.cfn/"))
    shared = sorted(path.rsplit("/", 1)[1] for path in links if path.startswith("runway-modules/shared.cfn/"))
    assert shared == ["common-nonprod.env", "common-prod.env", "shared.yaml"]
    assert "tenant.yaml" in tenant and "xy-0146-qa.env" in tenant and "common-prod.env" not in tenant
    for path, target in links.items():
        assert (REPO_ROOT / os.path.dirname(path) / target).resolve().is_file(), path


def test_a_new_env_file_makes_the_modules_stale_until_written(tmp_path):
    root = tmp_path / "project"
    for item in ("environments", "stacker", "runway-modules"):
        shutil.copytree(REPO_ROOT / item, root / item, symlinks=True)
    assert runway_layout.stale_links(root) == []
    (root / "environments" / "xy-0146-uat.env").write_text(
        (root / "environments" / "xy-0146-qa.env").read_text().replace("xy-0146-qa", "xy-0146-uat"))
    assert runway_layout.stale_links(root) == ["runway-modules/tenant.cfn/xy-0146-uat.env"]
    runway_layout.write(root)
    assert runway_layout.stale_links(root) == []
    assert os.readlink(str(root / "runway-modules/tenant.cfn/xy-0146-uat.env")) == "../../environments/xy-0146-uat.env"
