"""Measure the Lambda bundle `chalice package` built: its size, its biggest packages, and that no
offline-only dependency (numpy, scikit-learn, ...) or runtime-provided one (boto3) slipped in.

    python -m infra.bundle out/prod/deployment.zip
"""

from __future__ import annotations

import sys
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

LIMIT_BYTES = 15 * 1024 * 1024
# Backtests and fitting use these on a laptop; Lambda never needs them. boto3/botocore ship with
# the Lambda Python runtime, so bundling them only adds size and pins an old copy.
FORBIDDEN = frozenset(
    {"numpy", "pandas", "scipy", "sklearn", "matplotlib", "boto3", "botocore", "moto", "hypothesis", "pytest"}
)


@dataclass(frozen=True)
class BundleReport:
    zipped_bytes: int
    unzipped_bytes: int
    by_package: list[tuple[str, int]]
    forbidden: list[str]

    @property
    def ok(self) -> bool:
        return self.zipped_bytes <= LIMIT_BYTES and not self.forbidden


def inspect_bundle(path: Path) -> BundleReport:
    sizes: Counter[str] = Counter()
    with zipfile.ZipFile(path) as bundle:
        for entry in bundle.infolist():
            top = entry.filename.split("/", 1)[0].removesuffix(".py")
            if ".dist-info" in top or ".data" in top:
                top = top.split("-", 1)[0].lower()
            sizes[top] += entry.file_size
    forbidden = sorted(name for name in sizes if name in FORBIDDEN)
    return BundleReport(path.stat().st_size, sum(sizes.values()), sizes.most_common(), forbidden)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m infra.bundle out/<stage>/deployment.zip", file=sys.stderr)
        return 2
    report = inspect_bundle(Path(args[0]))
    mib = 1024 * 1024
    print(
        f"Lambda bundle: {report.zipped_bytes / mib:.2f} MiB zipped (target <= {LIMIT_BYTES / mib:.0f} MiB), "
        f"{report.unzipped_bytes / mib:.2f} MiB unzipped"
    )
    for name, size in report.by_package[:6]:
        print(f"  {name:<24} {size / mib:6.2f} MiB")
    if report.forbidden:
        print(f"the bundle must not contain: {', '.join(report.forbidden)}", file=sys.stderr)
    if report.zipped_bytes > LIMIT_BYTES:
        print("the bundle is over the size target", file=sys.stderr)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
