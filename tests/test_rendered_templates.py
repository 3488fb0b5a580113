"""The committed templates/ are what the blueprints render now (the scanner gates over them: tests/security)."""
import functools
import subprocess
import sys
from pathlib import Path

from blueprints.base import minified
from hooks.engine import render

REPO = Path(__file__).resolve().parent.parent
TEMPLATES = REPO / "templates"
TENANTSTACK = str(Path(sys.executable).parent / "tenantstack")
# Templates go inline in CreateStack/UpdateStack (stacker_bucket: ""): AWS's limit.
INLINE_TEMPLATE_LIMIT = 51200


@functools.lru_cache(maxsize=None)
def rendered():
    return render.render_all(REPO)


def test_committed_templates_are_fresh():
    stale = render.stale_files(TEMPLATES, REPO)
    assert not stale, "stale rendered templates (run `%s`): %s" % (render.REFRESH_COMMAND, ", ".join(stale))


def test_rendering_is_deterministic():
    assert render.render_all(REPO) == rendered()


def test_every_env_file_renders_every_stack():
    paths = rendered()
    namespaces = {path.split("/")[0] for path in paths}
    assert namespaces == {path.stem for path in render.env_files(REPO)}
    assert {p.split("/")[1] for p in paths if p.startswith("xy-0146-qa/")} == {"base.json", "db.json", "service.json"}
    assert {p.split("/")[1] for p in paths if p.startswith("common-prod/")} == {"vpc.json", "tier.json"}


def test_templates_fit_the_inline_limit_with_room_to_grow():
    # The engine sends each template minified (blueprints.base.minified); keep a fifth free.
    for path, text in rendered().items():
        size = len(minified(text).encode())
        assert size < 0.8 * INLINE_TEMPLATE_LIMIT, "%s is %d bytes minified; templates go inline (limit %d)" % (
            path,
            size,
            INLINE_TEMPLATE_LIMIT,
        )


def test_two_runs_in_separate_processes_are_byte_identical(tmp_path):
    outputs = []
    for seed in ("1", "2"):
        out = tmp_path / seed
        subprocess.run(
            [TENANTSTACK, "render", "--out", str(out)],
            cwd=str(REPO),
            env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"},
            check=True,
            capture_output=True,
            timeout=300,
        )
        outputs.append({str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*.json")})
    assert outputs[0] and outputs[0] == outputs[1]


def test_check_mode_names_stale_files_and_the_refresh_command(tmp_path):
    out = tmp_path / "templates"
    subprocess.run([TENANTSTACK, "render", "--out", str(out)], cwd=str(REPO), check=True, capture_output=True)
    victim = out / "xy-0146-qa" / "service.json"
    victim.write_text(victim.read_text().replace("nginx", "nginy", 1))
    (out / "gone-0001-qa").mkdir()
    (out / "gone-0001-qa" / "db.json").write_text("{}\n")
    result = subprocess.run(
        [TENANTSTACK, "render", "--check", "--out", str(out)], cwd=str(REPO), capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "run `tenantstack render --out %s`" % out in result.stdout
    assert "xy-0146-qa/service.json" in result.stdout and "gone-0001-qa/db.json" in result.stdout
