"""The chat's error for problems the user can fix."""


class ChatError(Exception):
    """A problem the user can fix; the command line reports it as one line, without traceback."""
