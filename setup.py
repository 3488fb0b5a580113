"""tenantstack: the distribution is described in pyproject.toml; this file keeps `setup.py`-based tools working."""
from setuptools import setup

setup()
