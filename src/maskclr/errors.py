"""One error type for bad input, and the CLI wrapper that turns it into a clear exit."""

import sys


class InputError(Exception):
    """Bad input: the message names the file, the sample and the key, and says what was expected."""


def run_cli(main):
    """Run ``main()``; an ``InputError`` becomes one line on stderr and exit status 2."""
    try:
        main()
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
