# dnsbox boot script (u-boot hush). tools/card_image.py compiles it into boot.scr with
#   mkimage -A arm -O linux -T script -C none -d boot.cmd boot.scr
# uboot.env on the card runs it at once (no boot delay, no USB scan). It reads the boot variables
# from the plain-text file dnsbox.txt on the same FAT partition, puts them on the kernel command
# line and boots the kernel, the device tree named by ${fdtfile} and the initramfs.

echo "dnsbox: boot script"

# Defaults of every boot variable (docs/boot-variables.md): the text file overrides them. An
# empty one is not put on the kernel command line (the firmware's own default applies).
setenv mode auth
setenv ip dhcp
setenv netmask 255.255.255.0
setenv gw
setenv port 53
setenv hostname
setenv iface eth0
setenv mac
setenv conf-file
setenv ntp-server
setenv server
setenv address
setenv host-record
setenv local
setenv domain-needed
setenv bogus-priv
setenv do-0x20-encode
setenv cache-size
setenv allow
setenv auth-peer
setenv also-notify
setenv xfr-key
setenv secondary
setenv update-zone
setenv allow-update
setenv update-key
setenv state
setenv tls-port
setenv https-port
setenv http-endpoint
setenv tls-ca
setenv dhcp-range
setenv dhcp-host
setenv dhcp-option
setenv dns64-prefix
setenv mdns-bridge
setenv hints
setenv qname-minimisation
setenv use-caps-for-id
setenv dnssec
setenv trust-anchor
setenv domain-insecure
setenv rrl-ratelimit
setenv rrl-slip
setenv rrl-ipv4-prefix-length
setenv rrl-ipv6-prefix-length
setenv rrl-whitelist
setenv rrl-whitelist-ratelimit
setenv rrl-allow-ratelimit
setenv rrl-size
setenv ip6
setenv gw6
setenv log-queries
setenv http-port
setenv http-allow
setenv extended-statistics
setenv serve-expired
setenv serve-expired-ttl
setenv serve-expired-reply-ttl
setenv serve-expired-client-timeout
setenv prefetch
setenv do-not-query-localhost
setenv cache-min-ttl
setenv cache-max-ttl
setenv domain
setenv addn-hosts
setenv expand-hosts
setenv cname
setenv txt-record
setenv mx-host
setenv mx-target
setenv srv-host
setenv ptr-record
setenv extra

# u-boot types its own "netmask" variable as an IP address and would refuse "netmask=24":
# make it a plain string.
setenv .flags netmask:s

if load mmc 0:1 ${scriptaddr} dnsbox.txt; then
    # Plain "key=value" lines, "#" comments, LF or CRLF line ends (-r); later lines win.
    env import -t -r ${scriptaddr} ${filesize}
else
    echo "dnsbox: no dnsbox.txt on the card: using the defaults"
fi

setenv bootargs "console=${console} panic=10 mode=${mode} ip=${ip} netmask=${netmask} port=${port} iface=${iface}"
if test -n "${gw}"; then setenv bootargs "${bootargs} gw=${gw}"; fi
if test -n "${hostname}"; then setenv bootargs "${bootargs} hostname=${hostname}"; fi
if test -n "${mac}"; then setenv bootargs "${bootargs} mac=${mac}"; fi
if test -n "${conf-file}"; then setenv bootargs "${bootargs} conf-file=${conf-file}"; fi
if test -n "${ntp-server}"; then setenv bootargs "${bootargs} ntp-server=${ntp-server}"; fi
if test -n "${server}"; then setenv bootargs "${bootargs} server=${server}"; fi
if test -n "${address}"; then setenv bootargs "${bootargs} address=${address}"; fi
if test -n "${host-record}"; then setenv bootargs "${bootargs} host-record=${host-record}"; fi
if test -n "${local}"; then setenv bootargs "${bootargs} local=${local}"; fi
if test -n "${domain-needed}"; then setenv bootargs "${bootargs} domain-needed=${domain-needed}"; fi
if test -n "${bogus-priv}"; then setenv bootargs "${bootargs} bogus-priv=${bogus-priv}"; fi
if test -n "${do-0x20-encode}"; then setenv bootargs "${bootargs} do-0x20-encode=${do-0x20-encode}"; fi
if test -n "${cache-size}"; then setenv bootargs "${bootargs} cache-size=${cache-size}"; fi
if test -n "${allow}"; then setenv bootargs "${bootargs} allow=${allow}"; fi
if test -n "${auth-peer}"; then setenv bootargs "${bootargs} auth-peer=${auth-peer}"; fi
if test -n "${also-notify}"; then setenv bootargs "${bootargs} also-notify=${also-notify}"; fi
if test -n "${xfr-key}"; then setenv bootargs "${bootargs} xfr-key=${xfr-key}"; fi
if test -n "${secondary}"; then setenv bootargs "${bootargs} secondary=${secondary}"; fi
if test -n "${update-zone}"; then setenv bootargs "${bootargs} update-zone=${update-zone}"; fi
if test -n "${state}"; then setenv bootargs "${bootargs} state=${state}"; fi
if test -n "${allow-update}"; then setenv bootargs "${bootargs} allow-update=${allow-update}"; fi
if test -n "${update-key}"; then setenv bootargs "${bootargs} update-key=${update-key}"; fi
if test -n "${tls-port}"; then setenv bootargs "${bootargs} tls-port=${tls-port}"; fi
if test -n "${https-port}"; then setenv bootargs "${bootargs} https-port=${https-port}"; fi
if test -n "${http-endpoint}"; then setenv bootargs "${bootargs} http-endpoint=${http-endpoint}"; fi
if test -n "${tls-ca}"; then setenv bootargs "${bootargs} tls-ca=${tls-ca}"; fi
if test -n "${dhcp-range}"; then setenv bootargs "${bootargs} dhcp-range=${dhcp-range}"; fi
if test -n "${dhcp-host}"; then setenv bootargs "${bootargs} dhcp-host=${dhcp-host}"; fi
if test -n "${dhcp-option}"; then setenv bootargs "${bootargs} dhcp-option=${dhcp-option}"; fi
if test -n "${dns64-prefix}"; then setenv bootargs "${bootargs} dns64-prefix=${dns64-prefix}"; fi
if test -n "${mdns-bridge}"; then setenv bootargs "${bootargs} mdns-bridge=${mdns-bridge}"; fi
if test -n "${hints}"; then setenv bootargs "${bootargs} hints=${hints}"; fi
if test -n "${qname-minimisation}"; then setenv bootargs "${bootargs} qname-minimisation=${qname-minimisation}"; fi
if test -n "${use-caps-for-id}"; then setenv bootargs "${bootargs} use-caps-for-id=${use-caps-for-id}"; fi
if test -n "${dnssec}"; then setenv bootargs "${bootargs} dnssec=${dnssec}"; fi
if test -n "${trust-anchor}"; then setenv bootargs "${bootargs} trust-anchor=${trust-anchor}"; fi
if test -n "${domain-insecure}"; then setenv bootargs "${bootargs} domain-insecure=${domain-insecure}"; fi
if test -n "${rrl-ratelimit}"; then setenv bootargs "${bootargs} rrl-ratelimit=${rrl-ratelimit}"; fi
if test -n "${rrl-slip}"; then setenv bootargs "${bootargs} rrl-slip=${rrl-slip}"; fi
if test -n "${rrl-ipv4-prefix-length}"; then setenv bootargs "${bootargs} rrl-ipv4-prefix-length=${rrl-ipv4-prefix-length}"; fi
if test -n "${rrl-ipv6-prefix-length}"; then setenv bootargs "${bootargs} rrl-ipv6-prefix-length=${rrl-ipv6-prefix-length}"; fi
if test -n "${rrl-whitelist}"; then setenv bootargs "${bootargs} rrl-whitelist=${rrl-whitelist}"; fi
if test -n "${rrl-whitelist-ratelimit}"; then setenv bootargs "${bootargs} rrl-whitelist-ratelimit=${rrl-whitelist-ratelimit}"; fi
if test -n "${rrl-allow-ratelimit}"; then setenv bootargs "${bootargs} rrl-allow-ratelimit=${rrl-allow-ratelimit}"; fi
if test -n "${rrl-size}"; then setenv bootargs "${bootargs} rrl-size=${rrl-size}"; fi
if test -n "${ip6}"; then setenv bootargs "${bootargs} ip6=${ip6}"; fi
if test -n "${gw6}"; then setenv bootargs "${bootargs} gw6=${gw6}"; fi
if test -n "${log-queries}"; then setenv bootargs "${bootargs} log-queries=${log-queries}"; fi
if test -n "${http-port}"; then setenv bootargs "${bootargs} http-port=${http-port}"; fi
if test -n "${http-allow}"; then setenv bootargs "${bootargs} http-allow=${http-allow}"; fi
if test -n "${extended-statistics}"; then setenv bootargs "${bootargs} extended-statistics=${extended-statistics}"; fi
if test -n "${serve-expired}"; then setenv bootargs "${bootargs} serve-expired=${serve-expired}"; fi
if test -n "${serve-expired-ttl}"; then setenv bootargs "${bootargs} serve-expired-ttl=${serve-expired-ttl}"; fi
if test -n "${serve-expired-reply-ttl}"; then setenv bootargs "${bootargs} serve-expired-reply-ttl=${serve-expired-reply-ttl}"; fi
if test -n "${serve-expired-client-timeout}"; then setenv bootargs "${bootargs} serve-expired-client-timeout=${serve-expired-client-timeout}"; fi
if test -n "${prefetch}"; then setenv bootargs "${bootargs} prefetch=${prefetch}"; fi
if test -n "${do-not-query-localhost}"; then setenv bootargs "${bootargs} do-not-query-localhost=${do-not-query-localhost}"; fi
if test -n "${cache-min-ttl}"; then setenv bootargs "${bootargs} cache-min-ttl=${cache-min-ttl}"; fi
if test -n "${cache-max-ttl}"; then setenv bootargs "${bootargs} cache-max-ttl=${cache-max-ttl}"; fi
if test -n "${domain}"; then setenv bootargs "${bootargs} domain=${domain}"; fi
if test -n "${addn-hosts}"; then setenv bootargs "${bootargs} addn-hosts=${addn-hosts}"; fi
if test -n "${expand-hosts}"; then setenv bootargs "${bootargs} expand-hosts=${expand-hosts}"; fi
if test -n "${cname}"; then setenv bootargs "${bootargs} cname=${cname}"; fi
if test -n "${txt-record}"; then setenv bootargs "${bootargs} txt-record=${txt-record}"; fi
if test -n "${mx-host}"; then setenv bootargs "${bootargs} mx-host=${mx-host}"; fi
if test -n "${mx-target}"; then setenv bootargs "${bootargs} mx-target=${mx-target}"; fi
if test -n "${srv-host}"; then setenv bootargs "${bootargs} srv-host=${srv-host}"; fi
if test -n "${ptr-record}"; then setenv bootargs "${bootargs} ptr-record=${ptr-record}"; fi
# Anything else (a second server=, client mode's domain= and type=): passed on as written.
if test -n "${extra}"; then setenv bootargs "${bootargs} ${extra}"; fi
echo "dnsbox: kernel command line: ${bootargs}"

load mmc 0:1 ${kernel_addr_r} zImage
load mmc 0:1 ${fdt_addr_r} ${fdtfile}
# The initramfs last: bootz takes its size from ${filesize}.
load mmc 0:1 ${ramdisk_addr_r} initrd.xz
bootz ${kernel_addr_r} ${ramdisk_addr_r}:${filesize} ${fdt_addr_r}
echo "dnsbox: boot failed: check zImage, ${fdtfile} and initrd.xz on the card"
