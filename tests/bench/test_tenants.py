"""bench/tenants.py: generated env files pass the project's own checks."""
import pytest

from bench import tenants
from hooks.config import envfile


def test_generated_env_files_are_valid_and_unique_per_tier(tmp_path):
    paths = tenants.write_env_files(tmp_path, 3, ("dev", "qa", "prod"))
    values = [envfile.load(p) for p in paths]
    assert [v["namespace"] for v in values[:3]] == ["bt-0001-dev", "bt-0001-qa", "bt-0001-prod"]
    assert values[2]["shared_namespace"] == "common-prod" and values[2]["hostname"] == "bt-0001.apps.example.com"
    assert values[1]["hostname"] == "bt-0001-qa.apps-nonprod.example.com"
    for tier in ("common-nonprod", "common-prod"):
        in_tier = [v for v in values if v["shared_namespace"] == tier]
        assert len({v["listener_priority"] for v in in_tier}) == len(in_tier)
        assert len({v["hostname"] for v in in_tier}) == len(in_tier)
    assert {v["source_namespace"] for v in values} == {"bt-0001-dev", "bt-0002-dev", "bt-0003-dev"}


def test_a_project_number_past_four_digits_is_refused_by_the_naming_rule(tmp_path):
    with pytest.raises(ValueError) as raised:
        tenants.namespace(10000, "qa")
    assert str(raised.value).startswith("namespace 'bt-10000-qa' is invalid: expected ")
