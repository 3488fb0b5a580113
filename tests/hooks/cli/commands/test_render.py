"""`tenantstack render`: the same files `make templates` writes, and --check to find stale ones."""
import pytest

from hooks import cli
from hooks.aws import endpoint_quirks
from hooks.config import project
from tests.conftest import REPO_ROOT


def files_in(directory):
    return {str(path.relative_to(directory)): path.read_text() for path in directory.rglob("*.json")}


@pytest.fixture
def offline(monkeypatch):
    monkeypatch.delenv(endpoint_quirks.SWITCH, raising=False)


def run(capsys, *args):
    code = cli.main(["render", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_render_writes_the_committed_templates_then_check_finds_them_fresh(offline, tmp_path, capsys):
    expected = files_in(REPO_ROOT / "templates")  # what `make templates` wrote and the suite keeps fresh
    out = tmp_path / "templates"
    assert run(capsys, "--out", str(out)) == (0, "rendered %d templates into %s\n" % (len(expected), out), "")
    assert files_in(out) == expected
    assert run(capsys, "--out", str(out), "--check") == (0, "%s is up to date\n" % out, "")


def test_render_check_lists_stale_and_extra_files(offline, tmp_path, capsys):
    out = tmp_path / "templates"
    assert run(capsys, "--out", str(out))[0] == 0
    (out / "xy-0146-qa" / "db.json").write_text("{}\n")
    (out / "zz-0001-qa").mkdir()
    (out / "zz-0001-qa" / "service.json").write_text("{}\n")
    assert run(capsys, "--out", str(out), "--check") == (1, "\n".join([
        "stale rendered templates (run `tenantstack render --out %s`):" % out,
        "  %s/xy-0146-qa/db.json" % out,
        "  %s/zz-0001-qa/service.json" % out,
        "",
    ]), "")


def test_render_refuses_to_render_for_the_local_endpoint(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(endpoint_quirks.SWITCH, endpoint_quirks.SWITCH_VALUE)
    assert run(capsys, "--out", str(tmp_path)) == (2, "", (
        "tenantstack render: TENANTSTACK_LOCAL_ENDPOINT=moto is set: templates for review must be what AWS gets; "
        "unset it and render again\nNothing was written.\n"
    ))
    assert list(tmp_path.iterdir()) == []


def test_render_help_names_the_checkouts_environments(capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["render", "--help"])
    assert exited.value.code == 0
    help_text = capsys.readouterr().out
    assert "every env file of the project (<project>/environments)" in help_text
    assert "  tenantstack render --check" in help_text


@pytest.mark.parametrize("how", ["cwd", "option", "variable"])
def test_render_finds_the_project_by_its_rule(offline, tmp_path, capsys, monkeypatch, how):
    monkeypatch.delenv(project.ROOT_VARIABLE, raising=False)
    out = tmp_path / "templates"
    if how == "cwd":
        monkeypatch.chdir(REPO_ROOT / "environments")  # the nearest directory upward holding stacker/tenant.yaml
        arguments = []
    elif how == "option":
        monkeypatch.chdir(tmp_path)
        arguments = ["--project-root", str(REPO_ROOT)]
    else:
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv(project.ROOT_VARIABLE, str(REPO_ROOT))
        arguments = []
    assert run(capsys, "--out", str(out), *arguments)[0] == 0
    assert files_in(out) == files_in(REPO_ROOT / "templates")


def test_render_outside_a_project_is_bad_input_naming_the_rule(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv(project.ROOT_VARIABLE, raising=False)
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys)
    assert (code, out) == (2, "")
    assert err.startswith("tenantstack render: no tenantstack project found: neither %s nor any directory above "
                          "it holds stacker/tenant.yaml" % tmp_path.resolve())
    assert "--project-root DIR" in err and "TENANTSTACK_PROJECT_ROOT" in err
    assert list(tmp_path.iterdir()) == []


def test_render_refuses_an_env_file_whose_timestamp_is_latest(offline, tmp_path, capsys):
    root = tmp_path / "project"
    (root / "environments").mkdir(parents=True)
    (root / "stacker").symlink_to(REPO_ROOT / "stacker")
    qa = root / "environments" / "xy-0146-qa.env"
    qa.write_text((REPO_ROOT / "environments" / "xy-0146-qa.env").read_text().replace(
        "db_timestamp: 20261101t090000z", "db_timestamp: latest"))
    code, out, err = run(capsys, "--project-root", str(root), "--out", str(tmp_path / "templates"))
    assert (code, out) == (2, "")
    assert err == (
        "tenantstack render: %s says db_timestamp latest, which names a snapshot only when a deploy starts "
        "(tenantstack deploy resolves it), so its database and service templates cannot be rendered for review; "
        "where templates are reviewed, keep a timestamp in the file and give `-e db_timestamp=latest` to the deploy"
        "\nNothing was written.\n" % qa)
