import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "datasets-sample"
FIXTURES = ROOT / "tests" / "fixtures"
KEY = "00112233445566778899aabbccddeeff"


@pytest.fixture
def sample_dir() -> Path:
    return SAMPLE


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def shardguard_bin() -> str:
    b = os.environ.get("SHARDGUARD_BIN") or shutil.which("shardguard")
    if not b:
        cand = ROOT / "target" / "debug" / "shardguard"
        b = str(cand)
    assert Path(b).exists(), f"shardguard binary not found at {b}; set SHARDGUARD_BIN"
    return b
