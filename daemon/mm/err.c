/*
 * err.c - mmsim_strerror() and mmsim_err_name(), generated from the one
 * MMSIM_ERRNO_MAP in mmsim/base.h so codes, names and messages never drift.
 */
#include "mmsim/base.h"

const char *mmsim_strerror(int err)
{
    if (err >= 0)
        return "success";
    switch (err) {
#define MMSIM_ERR_MSG_(name, val, msg)                                         \
    case (val):                                                                \
        return msg;
        MMSIM_ERRNO_MAP(MMSIM_ERR_MSG_)
#undef MMSIM_ERR_MSG_
    }
    return "unknown error";
}

const char *mmsim_err_name(int err)
{
    switch (err) {
#define MMSIM_ERR_NAME_(name, val, msg)                                        \
    case (val):                                                                \
        return "MMSIM_" #name;
        MMSIM_ERRNO_MAP(MMSIM_ERR_NAME_)
#undef MMSIM_ERR_NAME_
    }
    return "MMSIM_UNKNOWN";
}
