"""Layer boundaries, proven by importing in subprocesses where forbidden packages cannot be imported.

- core imports no Qt, VTK, torch, transformers, monai, opacus, peft (nor gui/render/training);
- render imports no Qt; nothing in the app imports training;
- the CLI works with torch blocked (the installed app must run without torch).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HEAVY = ["torch", "transformers", "monai", "opacus", "peft"]

BLOCKER = textwrap.dedent(
    """
    import importlib.abc, sys
    BLOCKED = set({blocked!r})
    class _Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split('.')[0] in BLOCKED or name in BLOCKED:
                raise ImportError('blocked for test: ' + name)
            return None
    sys.meta_path.insert(0, _Block())
    """
)


def _run(code: str, blocked: list[str], env: dict | None = None) -> subprocess.CompletedProcess:
    full = BLOCKER.format(blocked=blocked) + textwrap.dedent(code)
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([sys.executable, "-c", full], capture_output=True, text=True, cwd=REPO, env=e, timeout=300)


def _modules(package: str) -> list[str]:
    root = REPO / package.replace(".", "/")
    mods = []
    for f in sorted(root.rglob("*.py")):
        rel = f.relative_to(REPO).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        mods.append(".".join(parts))
    return mods


def test_core_imports_no_qt_vtk_or_training_stack():
    mods = _modules("medpriv_desktop.core")
    blocked = ["PySide6", "vtk", "vtkmodules", "training", *HEAVY]
    code = f"""
    import importlib, json, sys
    for m in {mods!r}:
        importlib.import_module(m)
    bad = sorted(k for k in sys.modules if k.split('.')[0] in ('PySide6', 'vtk', 'vtkmodules', 'training')
                 or k.startswith('medpriv_desktop.gui') or k.startswith('medpriv_desktop.render'))
    print(json.dumps(bad))
    """
    r = _run(code, blocked)
    assert r.returncode == 0, r.stderr[-3000:]
    assert json.loads(r.stdout.strip().splitlines()[-1]) == []


def test_render_imports_no_qt():
    mods = _modules("medpriv_desktop.render")
    r = _run(f"import importlib\nfor m in {mods!r}: importlib.import_module(m)\n", ["PySide6", "training", *HEAVY])
    assert r.returncode == 0, r.stderr[-3000:]


def test_gui_and_cli_import_without_training_stack():
    mods = [m for m in _modules("medpriv_desktop") if not m.endswith("__main__")]
    r = _run(f"import importlib\nfor m in {mods!r}: importlib.import_module(m)\n", ["training", *HEAVY])
    assert r.returncode == 0, r.stderr[-3000:]


def test_cli_runs_with_torch_blocked(tmp_path):
    code = f"""
    import sys
    from medpriv_desktop.cli import main
    rc = main(['demo', '-o', {str(tmp_path / 'demo')!r}])
    assert rc == 0, rc
    rc = main(['models', 'list'])
    assert rc == 0, rc
    rc = main(['models', 'verify'])
    assert rc == 0, rc
    print('ok')
    """
    r = _run(code, HEAVY, env={"MEDPRIV_HOME": str(tmp_path / "home")})
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    assert r.stdout.strip().endswith("ok")
    assert (tmp_path / "demo" / "demo_ct.nii.gz").is_file()


@pytest.mark.skipif(not (REPO / "pyproject.toml").exists(), reason="needs the source tree")
def test_import_linter_contracts():
    lint = Path(sys.executable).with_name("lint-imports")
    if not lint.exists():
        pytest.skip("import-linter not installed")
    r = subprocess.run([str(lint)], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:]
