"""Robustness evaluation: perturbations of skeleton inputs (docs/method.md §7.3–7.4)."""
