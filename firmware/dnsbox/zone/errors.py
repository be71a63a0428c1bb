"""The one error of the zone compiler: where (file:line) and why."""


class ZoneError(ValueError):
    def __init__(self, file, line, reason):
        super().__init__("%s:%d: %s" % (file, line, reason))
        self.file = file
        self.line = line
        self.reason = reason
