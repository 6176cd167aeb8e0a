"""nbgrader's settings for this course: homework sources in notebooks/homework/, and
everything grading produces under build/grading/ (git-ignored).

The course's commands (``python3 course.py release|grade|feedback|export``) build the
same settings in ``course_utils/grading/config.py`` (a test keeps the two equal). This
file lets nbgrader's own tools see the course too, e.g. ``nbgrader db student list`` or
the formgrader in JupyterLab, when started from this folder. It imports nothing, so it
costs nothing when JupyterLab loads it.
"""

import os

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file

_root = os.path.dirname(os.path.abspath(__file__))
_build = os.path.join(_root, "build", "grading")
c.CourseDirectory.root = _root
c.CourseDirectory.source_directory = os.path.join(_root, "notebooks", "homework")
c.CourseDirectory.release_directory = os.path.join(_build, "release")
c.CourseDirectory.submitted_directory = os.path.join(_build, "submitted")
c.CourseDirectory.autograded_directory = os.path.join(_build, "autograded")
c.CourseDirectory.feedback_directory = os.path.join(_build, "feedback")
c.CourseDirectory.solution_directory = os.path.join(_build, "solution")
c.CourseDirectory.source_with_tests_directory = os.path.join(_build, "source_with_tests")
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(_build, "gradebook.db")
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".*", "grading.toml", "answer_key.toml"]
