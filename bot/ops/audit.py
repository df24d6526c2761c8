"""Checks the lock file for known vulnerabilities with pip-audit, and says plainly when it could not.

    python -m bot.ops.audit --pip-audit .venv-audit/bin/pip-audit

pip-audit prints "No known vulnerabilities found" even when it could not look
a single package up (an offline machine: every package is "skipped"). This
wrapper never does: unless every pinned package was actually checked, it
reports the audit as incomplete and exits 2. Known vulnerabilities exit 1.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Tuple

from bot import PROJECT_DIR


@dataclass
class AuditResult:
    checked: List[str] = field(default_factory=list)
    skipped: List[Tuple[str, str]] = field(default_factory=list)  # name, reason
    vulnerable: List[Tuple[str, str, str, str]] = field(default_factory=list)  # name, version, id, fixed in

    @property
    def total(self) -> int:
        return len(self.checked) + len(self.skipped)


def parse(report: dict) -> AuditResult:
    result = AuditResult()
    for dependency in report.get("dependencies", []):
        name = dependency.get("name", "?")
        if dependency.get("skip_reason"):
            result.skipped.append((name, dependency["skip_reason"]))
            continue
        result.checked.append(name)
        for vuln in dependency.get("vulns", []):
            result.vulnerable.append(
                (
                    name,
                    dependency.get("version", "?"),
                    vuln.get("id", "?"),
                    ", ".join(vuln.get("fix_versions", [])) or "no fix yet",
                )
            )
    return result


def verdict(result: AuditResult) -> Tuple[int, str]:
    """(exit code, message). Only a complete audit can say there is nothing known."""
    if result.total == 0:
        return 2, "audit incomplete: pip-audit reported no packages at all."
    if result.skipped:
        name, reason = result.skipped[0]
        return 2, (
            f"audit incomplete: {len(result.skipped)} of {result.total} packages could not be checked, "
            f"so nothing is known about their vulnerabilities (first: {name}: {reason}). "
            "The advisory service was probably unreachable; run `make audit` where it can be reached."
        )
    if result.vulnerable:
        lines = [f"  {n} {v}: {i} (fixed in {f})" for n, v, i, f in result.vulnerable]
        return 1, f"{len(result.vulnerable)} known vulnerabilities in {result.total} packages:\n" + "\n".join(lines)
    return 0, f"all {result.total} packages checked: no known vulnerabilities."


def run_pip_audit(pip_audit: str, lock: Path) -> Tuple[Optional[dict], str]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "audit.json"
        completed = subprocess.run(
            [
                pip_audit,
                "--requirement",
                str(lock),
                "--no-deps",
                "--disable-pip",
                "--progress-spinner",
                "off",
                "--format",
                "json",
                "--output",
                str(out),
            ],
            capture_output=True,
            text=True,
        )
        if not out.exists() or not out.read_text().strip():
            lines = (completed.stderr or completed.stdout or "no output").strip().splitlines()
            return None, lines[-1] if lines else "no output"
        return json.loads(out.read_text()), ""


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pip-audit", default="pip-audit", help="the pip-audit executable")
    parser.add_argument("--lock", type=Path, default=PROJECT_DIR / "requirements.lock")
    args = parser.parse_args(argv)
    report, error = run_pip_audit(args.pip_audit, args.lock)
    if report is None:
        print(f"audit failed: pip-audit could not finish ({error}). Nothing is known about vulnerabilities.")
        return 2
    code, message = verdict(parse(report))
    print(message)
    return code


if __name__ == "__main__":
    sys.exit(main())
