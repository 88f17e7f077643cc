"""Robustness evaluation of trained models and the collection of every number into one table."""
