"""Robustness evaluation: perturbations of skeleton inputs (method.md §7.3–7.4)."""
