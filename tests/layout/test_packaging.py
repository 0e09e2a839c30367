"""The package metadata builds without warnings: setuptools (77+) deprecates ``license`` as a
TOML table in favour of an SPDX expression string (PEP 639), and warns at every build."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

PYPROJECT = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())


def test_the_license_is_an_spdx_expression_and_setuptools_reads_it():
    assert PYPROJECT["project"]["license"] == "Apache-2.0"
    (setuptools,) = [r for r in PYPROJECT["build-system"]["requires"] if "setuptools" in r]
    minimum = re.fullmatch(r"setuptools>=(\d+)(\.\d+)*", setuptools)
    assert minimum is not None and int(minimum.group(1)) >= 77  # first to accept the string
