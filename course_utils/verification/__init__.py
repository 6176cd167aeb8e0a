"""Running the course for real and keeping what it showed (``python3 course.py verify``).

- ``executor``: runs one notebook top to bottom in a fresh kernel, cell by cell, with a
  time limit per cell and per notebook, and collects the metrics it reported;
- ``results``: the record of a run (machine, versions, seconds, metrics with their
  bounds, a hash of each notebook's code) and its ``results/<profile>.md`` file;
- ``site``: the executed notebooks as HTML pages with an index, a static site;
- ``cli``: the command that ties them together.
"""
