// dnssig: catch(signum) makes a signal recorded instead of its default action (stop the
// process, or MicroPython's KeyboardInterrupt for SIGINT); take() returns the signals recorded
// since the last call as a bit mask (bit n: signal n) and clears it. The handler only sets a
// bit (async-signal-safe); the serving loop calls take() between poll rounds (poll() itself
// resumes after the signal, so a signal is seen within one poll timeout).
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "py/runtime.h"

static volatile sig_atomic_t caught_bits;

static void record(int signum) {
    if (signum > 0 && signum < 31) {
        caught_bits |= (1 << signum);
    }
}

static mp_obj_t dnssig_catch(mp_obj_t signum_in) {
    mp_int_t signum = mp_obj_get_int(signum_in);
    if (signum <= 0 || signum >= 31 || signum == SIGKILL || signum == SIGSTOP) {
        mp_raise_ValueError(MP_ERROR_TEXT("signal number"));
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = record;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    if (sigaction((int)signum, &sa, NULL) != 0) {
        mp_raise_OSError(errno);
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(dnssig_catch_obj, dnssig_catch);

static mp_obj_t dnssig_take(void) {
    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &old);  // read and clear as one step
    mp_int_t bits = caught_bits;
    caught_bits = 0;
    sigprocmask(SIG_SETMASK, &old, NULL);
    return mp_obj_new_int(bits);
}
static MP_DEFINE_CONST_FUN_OBJ_0(dnssig_take_obj, dnssig_take);

static const mp_rom_map_elem_t dnssig_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_dnssig) },
    { MP_ROM_QSTR(MP_QSTR_catch), MP_ROM_PTR(&dnssig_catch_obj) },
    { MP_ROM_QSTR(MP_QSTR_take), MP_ROM_PTR(&dnssig_take_obj) },
    { MP_ROM_QSTR(MP_QSTR_SIGHUP), MP_ROM_INT(SIGHUP) },
    { MP_ROM_QSTR(MP_QSTR_SIGINT), MP_ROM_INT(SIGINT) },
    { MP_ROM_QSTR(MP_QSTR_SIGTERM), MP_ROM_INT(SIGTERM) },
    { MP_ROM_QSTR(MP_QSTR_SIGUSR1), MP_ROM_INT(SIGUSR1) },
};
static MP_DEFINE_CONST_DICT(dnssig_globals, dnssig_globals_table);

const mp_obj_module_t dnssig_module = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&dnssig_globals,
};

MP_REGISTER_MODULE(MP_QSTR_dnssig, dnssig_module);
