"""The dig-like client: dnsbox.client.dig (query, print in dig's presentation format).

Host:      dnsbox -m dnsbox.client.dig example.com A @127.0.0.1 -p 5353
Appliance: boot variables mode=client domain=NAME server=IP [type=A] [port=53]
"""
