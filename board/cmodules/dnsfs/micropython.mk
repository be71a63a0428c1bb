# dnsfs: fsync(fd) and syncdir(path), which MicroPython's unix os module lacks: the state
# journal (dnsbox.state) must reach the disk before an update is answered. Plain libc.
DNSFS_DIR := $(USERMOD_DIR)
SRC_USERMOD_C += $(DNSFS_DIR)/dnsfs.c
