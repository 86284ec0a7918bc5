"""bandit (a security linter) finds nothing in virtdeck's code: fixed, or marked `# nosec BXXX` with a reason.

Its configuration, with the checks skipped project-wide and why, is in pyproject.toml ([tool.bandit]).
"""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["accounts", "audit", "console", "core", "hosts", "instances", "networks", "storage", "virt", "virtdeck"]


def test_it_finds_no_security_issue_in_the_code():
    packages = [name for name in PACKAGES if (ROOT / name).is_dir()] + [
        path.name for path in ROOT.iterdir() if (path / "apps.py").exists() and path.name not in PACKAGES]
    scan = subprocess.run([sys.executable, "-m", "bandit", "-c", "pyproject.toml", "-r", *sorted(set(packages)),
                           "-f", "json", "-q"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    report = json.loads(scan.stdout)
    assert report["errors"] == [], report["errors"]
    findings = [f"{r['test_id']} {r['filename']}:{r['line_number']} {r['issue_text']}" for r in report["results"]]
    assert findings == [], "\n".join(findings)
    assert report["metrics"]["_totals"]["loc"] > 10_000  # it did read the code
