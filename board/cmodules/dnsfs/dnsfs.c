// dnsfs: fsync(fd) flushes an open file's data and metadata to the disk (fsync(2));
// syncdir(path) does the same for a directory, so that a rename or a new file in it survives a
// power cut. Both raise OSError with errno on failure. The state journal (dnsbox.state.store)
// calls them through dnsbox.compat.
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "py/runtime.h"

static mp_obj_t dnsfs_fsync(mp_obj_t fd_in) {
    mp_int_t fd = mp_obj_get_int(fd_in);
    int r;
    MP_THREAD_GIL_EXIT();
    r = fsync((int)fd);
    MP_THREAD_GIL_ENTER();
    if (r != 0) {
        mp_raise_OSError(errno);
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(dnsfs_fsync_obj, dnsfs_fsync);

static mp_obj_t dnsfs_syncdir(mp_obj_t path_in) {
    const char *path = mp_obj_str_get_str(path_in);
    int fd = open(path, O_RDONLY | O_DIRECTORY);
    if (fd < 0) {
        mp_raise_OSError(errno);
    }
    int r = fsync(fd);
    int e = errno;
    close(fd);
    if (r != 0 && e != EINVAL) {  // EINVAL: a file system that cannot sync directories
        mp_raise_OSError(e);
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(dnsfs_syncdir_obj, dnsfs_syncdir);

static const mp_rom_map_elem_t dnsfs_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_dnsfs) },
    { MP_ROM_QSTR(MP_QSTR_fsync), MP_ROM_PTR(&dnsfs_fsync_obj) },
    { MP_ROM_QSTR(MP_QSTR_syncdir), MP_ROM_PTR(&dnsfs_syncdir_obj) },
};
static MP_DEFINE_CONST_DICT(dnsfs_globals, dnsfs_globals_table);

const mp_obj_module_t dnsfs_module = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&dnsfs_globals,
};

MP_REGISTER_MODULE(MP_QSTR_dnsfs, dnsfs_module);
