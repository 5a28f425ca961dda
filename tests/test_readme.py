"""The README's Python examples run as written (in a fresh process, torch backend)."""

import os
import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_blocks_run(tmp_path):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "README has no python example"
    script = tmp_path / "readme_examples.py"
    script.write_text("\n".join(blocks))
    env = {**os.environ, "KERAS_BACKEND": "torch"}
    subprocess.run([sys.executable, str(script)], check=True, env=env, cwd=tmp_path, timeout=300)
