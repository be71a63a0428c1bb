"""`micropython -m dnsbox.client ARGS`: the same as `-m dnsbox.client.dig ARGS`."""
import sys

from dnsbox.client import dig

sys.exit(dig.main(sys.argv[1:]))
