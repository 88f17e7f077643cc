"""Decoding video frames (RGB, uint8) for the real pose estimators.

imageio with its bundled ffmpeg decodes every format NTU and Kinetics come in; it is imported
on first use so that the extraction entry point imports without it.
"""

from pathlib import Path

from maskclr.errors import InputError


def read_frames(path):
    """Yield the frames of the video at ``path`` as (H, W, 3) uint8 RGB arrays, in order."""
    if not Path(path).is_file():
        raise InputError(f"{path}: video file not found")
    import imageio.v3 as iio

    try:
        yield from iio.imiter(path, plugin="FFMPEG")
    except (OSError, RuntimeError, ValueError) as err:
        raise InputError(f"{path}: cannot decode the video: {err}") from err
