"""One error type for bad input, and the CLI wrapper that turns it into a clear exit."""

import sys

# A message names files, keys and values; anything longer than this is a value that slipped
# through unshortened (a hostile file's 80 MB repr), so it is cut rather than printed whole.
MAX_MESSAGE = 4000


class InputError(Exception):
    """Bad input: the message names the file, the sample and the key, and says what was expected."""


def run_cli(main):
    """Run ``main()``; an ``InputError`` becomes one line on stderr and exit status 2."""
    try:
        main()
    except InputError as err:
        message = str(err)
        if len(message) > MAX_MESSAGE:
            message = f"{message[:MAX_MESSAGE]}… ({len(message) - MAX_MESSAGE} more characters cut)"
        print(f"error: {message}", file=sys.stderr)
        sys.exit(2)
