"""`make package STAGE=...`: the real `chalice package`, merged with infra/resources.yaml, then the
bundle's Python files precompiled.

Lambda unpacks the bundle on a read-only file system, so Python can never cache bytecode there:
without .pyc files in the zip, every cold start compiles each imported module from source again
(`make bench` shows the cost). We add `__pycache__/*.cpython-3XX.pyc` in unchecked-hash mode: valid
whatever the unpacked files' timestamps, compiled by the interpreter Chalice picked the Lambda
runtime from, so the magic number matches the runtime.
"""

from __future__ import annotations

import argparse
import compileall
import os
import py_compile
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MERGE_TEMPLATE = ROOT / "infra" / "resources.yaml"
TASK_ROOT = "/var/task"  # where Lambda unpacks the bundle: the path tracebacks show


def chalice_package(stage: str, out: Path) -> None:
    chalice = Path(sys.executable).parent / "chalice"
    env = {**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"}
    command = [str(chalice), "package", "--stage", stage, "--merge-template", str(MERGE_TEMPLATE), str(out)]
    subprocess.run(command, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def add_bytecode(bundle: Path) -> int:
    """Compile every .py in the zip and add the .pyc files; returns how many were added."""
    with zipfile.ZipFile(bundle) as source:
        modules = [name for name in source.namelist() if name.endswith(".py")]
        present = set(source.namelist())
        with tempfile.TemporaryDirectory() as scratch:
            source.extractall(scratch, members=modules)
            compileall.compile_dir(
                scratch,
                ddir=TASK_ROOT,
                quiet=1,
                workers=1,
                invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
            )
            compiled = sorted(Path(scratch).rglob("*.pyc"))
            with zipfile.ZipFile(bundle, "a", compression=zipfile.ZIP_DEFLATED) as target:
                added = 0
                for path in compiled:
                    name = path.relative_to(scratch).as_posix()
                    if name not in present:
                        target.write(path, name)
                        added += 1
    return added


def build(stage: str, out: Path) -> Path:
    shutil.rmtree(out, ignore_errors=True)
    chalice_package(stage, out)
    bundle = out / "deployment.zip"
    added = add_bytecode(bundle)
    print(f"{bundle}: added {added} precompiled modules (python{sys.version_info.major}.{sys.version_info.minor})")
    return bundle


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.package", description=__doc__)
    parser.add_argument("--stage", required=True)
    parser.add_argument("--out", required=True, help="directory for sam.yaml and deployment.zip (replaced)")
    args = parser.parse_args(argv)
    build(args.stage, Path(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
