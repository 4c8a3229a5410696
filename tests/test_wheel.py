"""The built wheel carries the grammar: install it in a fresh virtualenv and check a plan."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_installed_wheel_parses_and_checks_an_example(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist)],
        cwd=ROOT, check=True, capture_output=True,
    )
    wheels = list(dist.glob("kpidsl-*.whl"))
    assert len(wheels) == 1
    env_dir = tmp_path / "venv"
    # system site packages give lark/attrs/pydantic without a download; the wheel
    # itself is installed into the venv, which comes first on sys.path.
    venv.create(env_dir, with_pip=True, system_site_packages=True)
    py = env_dir / "bin" / "python"
    subprocess.run(
        [str(py), "-m", "pip", "install", "--no-deps", "--quiet", str(wheels[0])],
        check=True, capture_output=True,
    )
    probe = (
        "import kpidsl, sys; from pathlib import Path; "
        "assert Path(kpidsl.__file__).is_relative_to(Path(sys.prefix)), kpidsl.__file__; "
        "from importlib.resources import files; "
        "assert (files('kpidsl') / 'grammars' / 'kpi.lark').is_file()"
    )
    subprocess.run([str(py), "-c", probe], check=True, cwd=tmp_path)
    plan = ROOT / "examples" / "east-china-2026" / "plan.kpi"
    out = subprocess.run(
        [str(env_dir / "bin" / "kpidsl"), "check", str(plan)],
        cwd=tmp_path, capture_output=True, text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr
