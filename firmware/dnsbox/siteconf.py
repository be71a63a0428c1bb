"""The config file compiled into the image: dnsmasq-style lines, read before the boot variables
(which override it). Edit TEXT and rebuild (./build.sh) to change the appliance's defaults.
Grammar and options: docs/boot-variables.md. Empty by default: every default is the safe one
(auth mode; in resolver mode no upstream until server= is given, recursion only for the
appliance's own subnet and loopback)."""

TEXT = """
# dnsbox config file (dnsmasq option names). Examples:
# mode=resolver
# server=10.0.2.2
# server=/corp.example/192.168.1.1#5300
# address=/ads.example/0.0.0.0
# host-record=router.lan,192.168.1.1
# local=/lan/
# domain-needed
# bogus-priv
# cache-size=4096
"""
