"""hooks/naming/delivery.py: where CodePipeline keeps a pipeline's artifacts (the rest: tests/hooks/test_naming.py)."""
import pytest

from hooks import naming


@pytest.mark.parametrize(
    "built, expected",
    [
        pytest.param(lambda: naming.pipeline_folder("xy-0146"), "xy-0146/", id="folder"),
        pytest.param(lambda: naming.pipeline_artifact_prefix("xy-0146", naming.SOURCE_ARTIFACT), "xy-0146/Source/",
                     id="source"),
        pytest.param(lambda: naming.pipeline_artifact_prefix("xy-0146", "ProdStatus"), "xy-0146/ProdStatus/",
                     id="ten-characters"),
        pytest.param(lambda: naming.pipeline_artifact_prefix("xy-0146", "DeployStatusReport"), "xy-0146/DeployStat/",
                     id="cut-to-ten"),
    ],
)
def test_artifact_folders(built, expected):
    assert built() == expected


def test_the_artifact_prefix_is_inside_the_pipeline_folder():
    assert naming.pipeline_artifact_prefix("ab-0212", "Source").startswith(naming.pipeline_folder("ab-0212"))
    assert len(naming.pipeline_folder("abcdef-9999")) <= naming.PIPELINE_FOLDER_CHARS + 1
