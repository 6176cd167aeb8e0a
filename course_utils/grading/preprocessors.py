"""nbgrader's side of the course: the preprocessors that make the student copy, and the
settings nbgrader's tools (``generate_assignment``, feedback, the gradebook) run with.

``nbgrader_config.py`` at the repository root applies the same settings (a test keeps
the two equal), so nbgrader's own commands (``nbgrader db student list``, ``nbgrader
formgrader``) see the same course. Grading workers never import this module: nbgrader's
preprocessors take seconds to import.
"""

from __future__ import annotations

import re

from nbgrader.preprocessors import (
    CheckCellMetadata,
    ClearHiddenTests,
    ClearMarkScheme,
    ClearOutput,
    ClearSolutions,
    ComputeChecksums,
    IncludeHeaderFooter,
    InstantiateTests,
    LockCells,
    SaveCells,
)
from traitlets import Dict
from traitlets.config import Config

from .config import ANSWER_KEY_FILE, SETTINGS_FILE, GradingPaths, ensure_nbgrader_tools

STUB_MESSAGE = (
    "{function} is not written yet: delete this line and write your code here, "
    "then run the tests below."
)
_DEF = re.compile(r"^\s*def\s+([A-Za-z_]\w*)\s*\(")


class HintedClearSolutions(ClearSolutions):
    """nbgrader's ClearSolutions, with stubs that name the function the student must write."""

    code_stub = Dict(
        {"python": f'raise NotImplementedError("{STUB_MESSAGE}")'},
        help="The code that replaces a solution; {function} becomes the enclosing function's name.",
    ).tag(config=True)

    def _replace_solution_region(self, cell, language):  # noqa: ANN001 - nbgrader's signature
        replaced = super()._replace_solution_region(cell, language)
        if replaced and "{function}" in cell.source:
            lines, function = cell.source.split("\n"), "this answer"
            for i, line in enumerate(lines):
                match = _DEF.match(line)
                if match:
                    function = f"{match.group(1)}()"
                lines[i] = line.replace("{function}", function)
            cell.source = "\n".join(lines)
        return replaced

    def preprocess_cell(self, cell, resources, cell_index):  # noqa: ANN001 - nbgrader's signature
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        if "{function}" in cell.source:  # a whole-cell solution (no BEGIN/END region)
            cell.source = cell.source.replace("{function}", "this answer")
        return cell, resources


# The student copy: stubs that say which function to write, no hidden tests, locked cells.
STUDENT_COPY_PREPROCESSORS = [
    IncludeHeaderFooter, InstantiateTests, LockCells, HintedClearSolutions, ClearOutput,
    CheckCellMetadata, ComputeChecksums, SaveCells, ClearHiddenTests, ClearMarkScheme,
    ComputeChecksums, CheckCellMetadata,
]  # fmt: skip


def nbgrader_config(paths: GradingPaths, config: Config | None = None) -> Config:
    """nbgrader's settings for this course (the same ones ``nbgrader_config.py`` applies)."""
    ensure_nbgrader_tools()
    c = config if config is not None else Config()
    c.CourseDirectory.root = str(paths.root)
    c.CourseDirectory.source_directory = str(paths.source_dir)
    c.CourseDirectory.release_directory = str(paths.release_dir)
    c.CourseDirectory.submitted_directory = str(paths.submitted_dir)
    c.CourseDirectory.autograded_directory = str(paths.autograded_dir)
    c.CourseDirectory.feedback_directory = str(paths.feedback_dir)
    c.CourseDirectory.solution_directory = str(paths.build_dir / "solution")
    c.CourseDirectory.source_with_tests_directory = str(paths.build_dir / "source_with_tests")
    c.CourseDirectory.db_url = paths.db_url
    c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".*", SETTINGS_FILE, ANSWER_KEY_FILE]
    c.GenerateAssignment.preprocessors = list(STUDENT_COPY_PREPROCESSORS)
    # Feedback pages show student-written text: strip scripts and raw HTML from it.
    c.HTMLExporter.sanitize_html = True
    c.NbGraderAPI.log_level = "WARN"
    return c


