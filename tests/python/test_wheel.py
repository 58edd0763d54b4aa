"""`pip wheel .` builds the package from the repository root (scikit-build-core,
CPU backend, no network: --no-build-isolation uses the installed nanobind and
scikit-build-core), and the wheel installs into a fresh virtual environment where
`python -c "import twofold; twofold.info()"` works and samples."""

import os
import pathlib
import subprocess
import sys
import venv

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_wheel_installs_into_a_fresh_venv(tmp_path):
    work = pathlib.Path(os.environ.get("TWOFOLD_WHEEL_WORK", tmp_path))
    work.mkdir(parents=True, exist_ok=True)
    dist = work / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-build-isolation", "--no-deps",
                    "--no-index", "-w", str(dist),
                    "--config-settings", "cmake.define.TWOFOLD_ENABLE_CUDA=OFF",
                    "--config-settings", f"build-dir={work / 'build'}"],
                   check=True)
    wheels = sorted(dist.glob("twofold-*.whl"), key=lambda p: p.stat().st_mtime)
    assert wheels, "no wheel was built"
    env_dir = tmp_path / "venv"
    # NumPy is the package's one dependency; the system site packages provide it
    # (nothing may be downloaded in tests). twofold itself comes only from the wheel.
    venv.EnvBuilder(with_pip=True, system_site_packages=True).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--no-index", "--no-deps", str(wheels[-1])], check=True)
    clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run([str(python), "-c", "import twofold; twofold.info()"], check=True, capture_output=True,
                         text=True, env=clean, cwd=tmp_path).stdout
    assert out.startswith("twofold ")
    where = subprocess.run([str(python), "-c", "import twofold; print(twofold.__file__)"], check=True,
                           capture_output=True, text=True, env=clean, cwd=tmp_path).stdout
    assert str(env_dir) in where  # the venv's copy, not the build tree's
    check = ("import numpy as np, twofold\n"
             "m = np.zeros((8, 8), np.float32); m[:, ::2] = 1\n"
             "op = twofold.operators.mri(m)\n"
             "p = twofold.InverseProblem(op, np.ones((8, 8), np.complex64), 0.1)\n"
             "g = twofold.priors.gaussian(np.zeros((8, 8)), np.ones((8, 8)))\n"
             "r = twofold.sample(p, g, sampler=twofold.Sampler(levels=10), runs=2, chains=2)\n"
             "assert np.isfinite(r.ambiguity).all()\n"
             "import twofold._twofold as t; assert t.__file__.endswith('.so')\n"
             "import importlib.resources as res; assert (res.files('twofold') / '_twofold.pyi').is_file()\n")
    subprocess.run([str(python), "-c", check], check=True, env=clean, cwd=tmp_path)
