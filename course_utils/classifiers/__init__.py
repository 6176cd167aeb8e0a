"""Lessons 05-07: linear classifiers, nearest neighbours and neural networks.

- ``linear_views``: a linear classifier seen as templates, hyperplanes and scores (05);
- ``distances``: L1 and L2 image distances with and without loops, and kNN figures (06).
"""
