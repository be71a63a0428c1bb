"""Master-file compiler front end (build time only, not frozen): lexer, parser, checks."""
