"""The one error of the zone compiler: where (file:line) and why."""


class ZoneError(ValueError):
    def __init__(self, file, line, reason):
        ValueError.__init__(self, "%s:%d: %s" % (file, line, reason))
        self.file = file
        self.line = line
        self.reason = reason
