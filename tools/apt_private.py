#!/usr/bin/env python3
"""Write a private apt configuration under build/apt/ (the machine's /etc/apt is not touched).

Usage: python3 tools/apt_private.py BUILD_APT_DIR
Prints the path of the APT_CONFIG file it wrote. Use it as:
    APT_CONFIG=build/apt/apt.conf apt-get update
    APT_CONFIG=build/apt/apt.conf apt-get download busybox-static      (armhf, bookworm)
    APT_CONFIG=build/apt/apt.conf apt-get source --download-only micropython   (trixie)

The Debian archive URI and its keyring are copied at run time from the machine's own apt
configuration (/etc/apt/sources.list.d/*.sources in deb822 form, or /etc/apt/sources.list), so no
mirror host name is written anywhere in the repository.
"""
import glob
import os
import sys

DEFAULT_KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
BINARY_SUITE = "bookworm"  # armhf kernel and busybox-static come from the machine's release
SOURCE_SUITE = "trixie"  # MicroPython 1.25 and mbedTLS 3.6 exist only from trixie on


def _deb822_stanzas(text):
    stanza, key = {}, None
    for line in text.split("\n"):
        if not line.strip():
            if stanza:
                yield stanza
            stanza, key = {}, None
            continue
        if line.startswith("#"):
            continue
        if line[0] in " \t" and key:
            stanza[key] += "\n" + line.strip()
            continue
        if ":" in line:
            key, value = line.split(":", 1)
            key = key.strip().lower()
            stanza[key] = value.strip()
    if stanza:
        yield stanza


def _is_debian_main(uri, suites):
    # The main archive, not the security archive or a third-party repository.
    return "security" not in uri and ("bookworm" in suites or "stable" in suites)


def find_debian_source():
    """(uri, keyring) of the machine's main Debian archive entry, or raise SystemExit."""
    for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
        with open(path) as f:
            text = f.read()
        for st in _deb822_stanzas(text):
            if st.get("enabled", "yes").lower() == "no":
                continue
            uris = st.get("uris", "").split()
            suites = st.get("suites", "").split()
            if "deb" not in st.get("types", "").split() or not uris:
                continue
            if not _is_debian_main(uris[0], suites):
                continue
            key = st.get("signed-by", "").strip() or DEFAULT_KEYRING
            if "\n" in key or key.startswith("-----"):
                key = DEFAULT_KEYRING  # an inline key block: fall back to the archive keyring
            return uris[0], key
    lists = ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list"))
    for path in lists:
        try:
            with open(path) as f:
                lines = f.read().split("\n")
        except OSError:
            continue
        for line in lines:
            words = line.split("#", 1)[0].split()
            if len(words) < 3 or words[0] != "deb":
                continue
            opts = {}
            rest = words[1:]
            if rest[0].startswith("["):
                while rest:
                    w = rest.pop(0).strip("[]")
                    if "=" in w:
                        k, v = w.split("=", 1)
                        opts[k] = v
                    if "]" in w or not rest or rest[0].startswith(("http", "file", "cdrom")):
                        break
            if len(rest) < 2:
                continue
            uri, suite = rest[0], rest[1]
            if _is_debian_main(uri, [suite]):
                return uri, opts.get("signed-by", DEFAULT_KEYRING)
    raise SystemExit(
        "apt_private: found no Debian archive entry (deb ... bookworm main) in /etc/apt; "
        "cannot derive where to fetch packages from"
    )


# The machine's own apt.conf.d still applies (proxy, validity and similar access settings).
def write_config(top):
    uri, key = find_debian_source()
    if not os.path.exists(key):
        raise SystemExit("apt_private: keyring %s named by the machine's apt entry is missing" % key)
    return write_tree(top, "armhf", "tools/apt_private.py",
                      "deb [arch=armhf signed-by=%s] %s %s main\n"
                      "deb-src [signed-by=%s] %s %s main\n"
                      % (key, uri, BINARY_SUITE, key, uri, SOURCE_SUITE))


def write_tree(top, arch, writer, source_lines):
    """A private apt tree under top (lists, cache, sources.list with source_lines, apt.conf for
    architecture arch); returns the apt.conf path. writer: the tool named in sources.list."""
    top = os.path.abspath(top)
    for d in ("lists/partial", "cache/archives/partial", "etc/preferences.d"):
        os.makedirs(os.path.join(top, d), exist_ok=True)
    sources = os.path.join(top, "etc", "sources.list")
    _write_if_changed(sources, "# written by %s from the machine's own apt configuration\n%s"
                      % (writer, source_lines))
    conf = os.path.join(top, "apt.conf")
    conf_text = "".join(
        '%s "%s";\n' % kv
        for kv in (
            ("Dir::Etc::SourceList", sources),
            ("Dir::Etc::SourceParts", "/dev/null"),
            ("Dir::Etc::PreferencesParts", os.path.join(top, "etc", "preferences.d")),
            ("Dir::Etc::Preferences", "/dev/null"),
            ("Dir::State::Lists", os.path.join(top, "lists")),
            ("Dir::State::status", "/dev/null"),
            ("Dir::Cache", os.path.join(top, "cache")),
            ("APT::Architecture", arch),
            ("APT::Architectures", arch),
            ("Debug::NoLocking", "true"),
            ("Acquire::Retries", "3"),
            ("Acquire::Languages", "none"),
            ("APT::Sandbox::User", "root"),
        )
    )
    _write_if_changed(conf, conf_text)
    return conf


def _write_if_changed(path, text):
    try:
        with open(path) as f:
            if f.read() == text:
                return
    except OSError:
        pass
    with open(path, "w") as f:
        f.write(text)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    print(write_config(sys.argv[1]))
