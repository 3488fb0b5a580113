"""The local-endpoint switch changes only what it lists, and only when it is on."""
import pytest

from hooks import endpoint_quirks
from blueprints.database import TenantDatabase
from hooks import render
from hooks.render import render_blueprint

VARIABLES = {"Namespace": "xy-0146-qa", "Timestamp": "20260115t103000z", "SourceNamespace": "xy-0146-dev"}


def test_every_quirk_names_the_gap_it_works_around():
    for name, (reason, rewrite) in endpoint_quirks.QUIRKS.items():
        assert "moto" in reason and callable(rewrite), name


def test_switch_off_renders_what_aws_gets(monkeypatch):
    monkeypatch.delenv(endpoint_quirks.SWITCH, raising=False)
    tags = render_blueprint(TenantDatabase, VARIABLES)["Resources"]["DatabaseRegistration"]["Properties"]["Tags"]
    assert tags == {"Customer": "xy", "Environment": "qa", "Namespace": "xy-0146-qa", "Project": "0146"}


def test_switch_on_rewrites_ssm_parameter_tags_and_nothing_else(monkeypatch):
    monkeypatch.delenv(endpoint_quirks.SWITCH, raising=False)
    plain = render_blueprint(TenantDatabase, VARIABLES)
    monkeypatch.setenv(endpoint_quirks.SWITCH, endpoint_quirks.SWITCH_VALUE)
    adapted = render_blueprint(TenantDatabase, VARIABLES)
    registration = adapted["Resources"].pop("DatabaseRegistration")
    assert registration["Properties"]["Tags"] == [
        {"Key": "Customer", "Value": "xy"},
        {"Key": "Project", "Value": "0146"},
        {"Key": "Environment", "Value": "qa"},
        {"Key": "Namespace", "Value": "xy-0146-qa"},
    ]
    plain["Resources"].pop("DatabaseRegistration")
    assert adapted == plain


def test_the_renderer_refuses_to_run_with_the_switch_on(monkeypatch):
    monkeypatch.setenv(endpoint_quirks.SWITCH, endpoint_quirks.SWITCH_VALUE)
    with pytest.raises(render.RenderError, match="templates for review must be what AWS gets"):
        render.render_all()
