"""tenantstack: stacker blueprints and pipeline hooks for multi-tenant AWS deployments."""
from setuptools import find_packages, setup

from hooks import __version__

setup(
    name="tenantstack",
    version=__version__,
    description=(
        "Stacker/CloudFormation blueprints and pipeline hooks that promote "
        "snapshot-versioned databases through tenant namespaces"
    ),
    long_description=open("README.md").read(),
    long_description_content_type="text/markdown",
    packages=find_packages(include=["blueprints", "blueprints.*", "hooks", "hooks.*"]),
    # stacker 1.7.2 imports collections.Mapping, which Python 3.10 removed.
    python_requires=">=3.9,<3.10",
    install_requires=[
        "stacker==1.7.2",
        "troposphere>=4.8,<5",
        "awacs>=2.4,<3",
        "boto3>=1.34,<2",
    ],
    extras_require={"test": ["pytest>=8,<9"]},
    entry_points={"console_scripts": ["tenantstack=hooks.cli.main:main"]},
)
