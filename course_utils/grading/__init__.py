"""Homework grading for instructors, built on nbgrader: release, grade, feedback, export.

Commands (``python3 course.py <command> --help`` for the options)::

    python3 course.py release  hw1_image_basics [--due "2025-03-14 23:59 UTC"]
    python3 course.py grade    hw1_image_basics SUBMISSIONS [--jobs N] [--timeout S]
    python3 course.py feedback hw1_image_basics
    python3 course.py export   hw1_image_basics [--output grades.csv]

Modules: ``config`` (paths, limits), ``preprocessors`` (nbgrader's preprocessors and
settings), ``release``, ``assignment`` (what the grader reads from the release and the
gradebook), ``intake`` (folders, zips, LMS exports), ``preflight`` (checks and the rebuilt
notebook), ``sandbox`` (a submission's folder), ``isolation`` (bubblewrap, or the weaker
fallback), ``kernel`` and ``_launcher`` (the sandboxed kernel), ``values`` (data in and
out of the kernel), ``grader`` (one submission), ``batch`` and ``workers`` (many, in
parallel worker processes), ``records`` (gradebook, records, CSV), ``feedback``.
"""

from .config import GradingOptions, GradingPaths, Limits

__all__ = ["GradingOptions", "GradingPaths", "Limits"]
