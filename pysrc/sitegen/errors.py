"""The one exception a build raises for anything an author can fix."""


class BuildError(Exception):
    """A problem with the sources, said as `where: what` (where is `file:line` when known)."""

    def __init__(self, message: str, where: str = ""):
        super().__init__(f"{where}: {message}" if where else message)
        self.where = where
        self.message = message
