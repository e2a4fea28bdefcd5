"""The template checkers, started together once per session.

cfn-lint, checkov and the SAM translator live in `.venv-tools` (`make tools`): they pin pydantic
and pytest below the app's pins. Each takes 10-30 s, mostly start-up, so all three run side by
side as background processes and each test waits only for the one it reads.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"
TEMPLATE = INFRA / "template.yaml"
PARAMETERS = INFRA / "parameters"
CHECKOV_SKIPS = INFRA / "checkov-skips.yaml"
TOOLS_BIN = REPO / ".venv-tools" / "bin"
CHECK_TIMEOUT_SECONDS = 300


def tool(name: str) -> Path:
    path = TOOLS_BIN / name
    if not path.exists():
        raise RuntimeError(f"{path} is missing: run `make tools` (the infra checkers' virtualenv)")
    return path


@dataclass
class Mutant:
    """A copy of the template with one deliberate mistake, and what must catch it."""

    name: str
    old: str
    new: str
    after: str = ""  # the replacement applies from the first occurrence of this text on

    def write(self, directory: Path) -> Path:
        text = TEMPLATE.read_text()
        start = text.index(self.after) if self.after else 0
        head, tail = text[:start], text[start:]
        if self.old not in tail:
            raise AssertionError(f"mutant {self.name}: {self.old!r} is not in the template")
        path = directory / f"{self.name}.yaml"
        path.write_text(head + tail.replace(self.old, self.new, 1))
        return path


# Mistakes that `cfn-lint` must report, with the rule that reports each. (Its E3505, visibility
# timeout below the function timeout, does not see through the SAM transform: test_template.py
# checks the stricter six-times rule on the translated template instead.)
LINT_MUTANTS = {
    "E3002": Mutant(
        "misspelled_property",
        old="      VisibilityTimeout: 360\n",
        new="      VisibilityTimeOut: 360\n",
    ),
    "E3502": Mutant(
        "standard_dlq_for_fifo_queue",
        old='      QueueName: !Sub "${ResourcePrefix}-jobs-dlq.fifo"\n      FifoQueue: true\n',
        new='      QueueName: !Sub "${ResourcePrefix}-jobs-dlq"\n',
    ),
}
# A mistake that `checkov` must report: the media bucket loses its public access block.
PUBLIC_BUCKET = Mutant(
    "public_media_bucket",
    old="""      PublicAccessBlockConfiguration:
        BlockPublicAcls: true
        BlockPublicPolicy: true
        IgnorePublicAcls: true
        RestrictPublicBuckets: true
""",
    new="",
    after="  MediaBucket:\n",
)


class Background:
    """One checker process whose output is read when a test first needs it."""

    def __init__(self, args: list[str], output: Path) -> None:
        self.output = output
        self._stdout = output.open("w")
        self._process = subprocess.Popen(
            args, cwd=REPO, stdout=self._stdout, stderr=subprocess.PIPE, text=True
        )
        self._result: tuple[int, str] | None = None

    def wait(self) -> tuple[int, str]:
        """(exit code, stdout); stderr goes into the error when the tool itself broke."""
        if self._result is None:
            try:
                _, stderr = self._process.communicate(timeout=CHECK_TIMEOUT_SECONDS)
            finally:
                self._stdout.close()
            self._result = (self._process.returncode, self.output.read_text())
            self.stderr = stderr
        return self._result

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        self._stdout.close()


@dataclass
class Checkers:
    workdir: Path
    code_uri: str
    translator: Background
    cfn_lint: Background
    checkov: Background
    lint_mutants: dict[str, Path]
    checkov_mutant: Path

    @classmethod
    def start(cls, workdir: Path, code_uri: str) -> Checkers:
        lint_mutants = {rule: m.write(workdir) for rule, m in LINT_MUTANTS.items()}
        checkov_mutant = PUBLIC_BUCKET.write(workdir)
        python = str(tool("python"))
        return cls(
            workdir=workdir,
            code_uri=code_uri,
            translator=Background(
                [python, str(INFRA / "sam_translate.py"), str(TEMPLATE), "--code-uri", code_uri],
                workdir / "template.json",
            ),
            cfn_lint=Background(
                [
                    str(tool("cfn-lint")),
                    *("--format", "json", str(TEMPLATE)),
                    *(str(path) for path in lint_mutants.values()),
                ],
                workdir / "cfn-lint.json",
            ),
            checkov=Background(
                [
                    str(tool("checkov")),
                    *("--framework", "cloudformation", "--output", "json", "--quiet", "--compact"),
                    # Offline: no guideline download, no results upload.
                    *("--skip-download", "--skip-results-upload"),
                    *("--file", str(TEMPLATE), "--file", str(checkov_mutant)),
                ],
                workdir / "checkov.json",
            ),
            lint_mutants=lint_mutants,
            checkov_mutant=checkov_mutant,
        )

    def stop(self) -> None:
        for process in (self.translator, self.cfn_lint, self.checkov):
            process.stop()

    def translated_template(self) -> dict[str, Any]:
        code, stdout = self.translator.wait()
        if code != 0:
            raise AssertionError(f"SAM translation failed:\n{self.translator.stderr}")
        template: dict[str, Any] = json.loads(stdout)
        return template

    def cfn_lint_matches(self) -> dict[str, list[dict[str, Any]]]:
        """cfn-lint's findings per linted file name."""
        code, stdout = self.cfn_lint.wait()
        if code not in (0, 2, 4, 6, 8, 10, 12, 14) or not stdout.strip():
            raise AssertionError(f"cfn-lint broke (exit {code}):\n{self.cfn_lint.stderr}")
        by_file: dict[str, list[dict[str, Any]]] = {TEMPLATE.name: []}
        by_file.update({path.name: [] for path in self.lint_mutants.values()})
        for match in json.loads(stdout):
            by_file.setdefault(Path(match["Filename"]).name, []).append(match)
        return by_file

    def checkov_failures(self) -> dict[str, set[tuple[str, str]]]:
        """checkov's failed (check id, logical resource id) pairs per scanned file name."""
        code, stdout = self.checkov.wait()
        if code not in (0, 1) or not stdout.strip():
            raise AssertionError(f"checkov broke (exit {code}):\n{self.checkov.stderr}")
        report = json.loads(stdout)
        reports = report if isinstance(report, list) else [report]
        failures: dict[str, set[tuple[str, str]]] = {
            TEMPLATE.name: set(),
            self.checkov_mutant.name: set(),
        }
        for one in reports:
            for failed in one["results"]["failed_checks"]:
                logical_id = failed["resource"].rsplit(".", 1)[-1]
                name = Path(failed["file_abs_path"]).name
                failures.setdefault(name, set()).add((failed["check_id"], logical_id))
        return failures
