"""Evaluation of the Issue Detective: labelled scenarios, Train Ticket fault windows, figures.

Run it with `make eval` (or `python -m evaluation`); docs/evaluation.md records the last figures.
"""
