"""The one exception type users see: a clear, one-line message, exit code 2 from the CLI."""


class GlyphartError(Exception):
    """A problem with the user's input (preset, seeds, path, size...), not a bug.

    The message is one line that names what is wrong and how to fix it.
    """

    exit_code = 2
