"""Pose estimation: one estimator interface, its adapters and the extraction entry point."""
