# dnssig: the firmware's signal handling (SIGTERM, SIGINT, SIGHUP, SIGUSR1 recorded, not fatal;
# the serving loop reads them between poll rounds). Plain libc: no libraries to link.
DNSSIG_DIR := $(USERMOD_DIR)
SRC_USERMOD_C += $(DNSSIG_DIR)/dnssig.c
