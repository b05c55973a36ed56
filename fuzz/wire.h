/*
 * wire.h - the world of the `rpc` fuzz target, shared with the seed
 * generator gen-wire-corpus.c: the machine, the two protocol engines on
 * it, and which session slot of an input (mmsim/record.h) talks to which
 * engine on which simulated CPU.
 *
 * DOC: the rpc target's world
 *
 * - The machine is booted from mmsimd's own options, WIRE_MACHINE_ARGS,
 *   through the config library: a daemon started with
 *   `mmsimd --workers 1 WIRE_MACHINE_ARGS --record DIR` hands out the same
 *   pfns as the target, so a session recorded there replays exactly.
 *   32 MiB on two nodes (DMA on node 0, DMA32 on node 1), two CPUs, page
 *   contents on: a boot costs well under a millisecond.
 * - Engine 0 (slots 0 and 1) has mmsimd's default limits and no token,
 *   like a daemon without --token-file (a recorded Hello that carries a
 *   token is accepted, the token ignored). mmsimd records as slot 0.
 * - Engine 1 (slots 2 and 3) wants WIRE_TOKEN and has tight limits, so
 *   every limit is in reach of short inputs: frames of 1 KiB, 4 requests
 *   in flight, 64 pages per session, batches of 8, a decode budget of
 *   2 KiB, 256 pages mapped in at most 4 regions.
 * - Slot 0 allocates on CPU 0 (mmsimd's worker 0), slot 1 and slot 3 on
 *   CPU 1, slot 2 without per-cpu lists (MMSIM_NO_CPU).
 *
 * Header-only, like fuzz.h; needs mmsim_config, mmsim_rpc and mmsim_core.
 */
#ifndef MMSIM_FUZZ_WIRE_H
#define MMSIM_FUZZ_WIRE_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmsim/config.h"
#include "mmsim/mm.h"
#include "mmsim/record.h"
#include "mmsim/rpc.h"

/* The machine, as mmsimd options (docs/mmsimd.md). */
#define WIRE_MACHINE_ARGS "-m 32M --numa node --numa node --cpus 2"
static const char *const wire_machine_opts[][2] = {
    {"m", "32M"},
    {"numa", "node"},
    {"numa", "node"},
    {"cpus", "2"},
};

#define WIRE_ENGINES 2
#define WIRE_TOKEN   "fuzz-token"

/* Engine 1's limits. */
#define WIRE_TIGHT_FRAME    1024u
#define WIRE_TIGHT_INFLIGHT 4u
#define WIRE_TIGHT_PAGES    64u
#define WIRE_TIGHT_BATCH    8u
#define WIRE_TIGHT_BUDGET   2048u
#define WIRE_TIGHT_MAPPED   256u /* pages mapped */
#define WIRE_TIGHT_MAPPINGS 4u   /* regions */

static inline unsigned wire_slot_engine(unsigned slot)
{
    return slot >= 2;
}

static inline int wire_slot_cpu(unsigned slot)
{
    static const int cpu[MMSIM_REC_SLOTS] = {0, 1, MMSIM_NO_CPU, 1};

    return cpu[slot % MMSIM_REC_SLOTS];
}

struct wire_env {
    struct mmsim_machine *m;
    struct mmsim_rpc *rpc[WIRE_ENGINES];
    struct mmsim_rpc_limits limits[WIRE_ENGINES];
};

/* The machine description, from the options. Return: 0 or -1 (@err). */
static inline int wire_desc(struct mmsim_desc *d, char *err, size_t errlen)
{
    struct mmsim_config_builder *b = malloc(sizeof(*b));
    int rc = -1;

    if (!b) {
        snprintf(err, errlen, "out of host memory");
        return -1;
    }
    mmsim_config_builder_init(b);
    for (size_t i = 0;
         i < sizeof(wire_machine_opts) / sizeof(*wire_machine_opts); i++)
        if (mmsim_config_option(b, wire_machine_opts[i][0],
                                wire_machine_opts[i][1], err, errlen))
            goto out;
    if (mmsim_config_finish(b, d, err, errlen))
        goto out;
    d->contents = true; /* as mmsimd without --metadata-only */
    rc = 0;
out:
    free(b);
    return rc;
}

/*
 * Boot the machine and create both engines. @log may be NULL; @recorder
 * (for engine 0 only) too. Return: 0, or -1 with a message in @err and
 * nothing left behind.
 */
static inline int wire_env_create(struct wire_env *e,
                                  const struct mmsim_desc *d, mmsim_log_fn log,
                                  void *log_ctx,
                                  const struct mmsim_rpc_recorder *recorder,
                                  char *err, size_t errlen)
{
    struct mmsim_rpc_config cfg;
    int rc;

    memset(e, 0, sizeof(*e));
    rc = mmsim_machine_create(d, NULL, &e->m, err, errlen);
    if (rc)
        return -1;
    for (unsigned i = 0; i < WIRE_ENGINES; i++) {
        memset(&cfg, 0, sizeof(cfg));
        cfg.machine = e->m;
        mmsim_rpc_limits_default(&cfg.limits);
        if (i == 1) {
            cfg.limits.max_frame_bytes = WIRE_TIGHT_FRAME;
            cfg.limits.max_inflight = WIRE_TIGHT_INFLIGHT;
            cfg.limits.max_pages = WIRE_TIGHT_PAGES;
            cfg.limits.max_batch = WIRE_TIGHT_BATCH;
            cfg.limits.decode_budget_bytes = WIRE_TIGHT_BUDGET;
            cfg.limits.max_mapped_pages = WIRE_TIGHT_MAPPED;
            cfg.limits.max_mappings = WIRE_TIGHT_MAPPINGS;
            cfg.token = (const uint8_t *)WIRE_TOKEN;
            cfg.token_len = strlen(WIRE_TOKEN);
        } else {
            cfg.recorder = recorder;
        }
        cfg.log = log;
        cfg.log_ctx = log_ctx;
        e->limits[i] = cfg.limits;
        rc = mmsim_rpc_create(&cfg, &e->rpc[i]);
        if (rc) {
            snprintf(err, errlen, "mmsim_rpc_create: %s", mmsim_err_name(rc));
            for (unsigned j = 0; j < i; j++)
                mmsim_rpc_destroy(e->rpc[j]);
            mmsim_machine_destroy(e->m);
            e->m = NULL;
            return -1;
        }
    }
    return 0;
}

/* Every session must have been destroyed. */
static inline void wire_env_destroy(struct wire_env *e)
{
    for (unsigned i = 0; i < WIRE_ENGINES; i++)
        mmsim_rpc_destroy(e->rpc[i]);
    mmsim_machine_destroy(e->m);
    memset(e, 0, sizeof(*e));
}

/* A new session for @slot. Return: 0 or an MMSIM_E* code. */
static inline int wire_session(struct wire_env *e, unsigned slot,
                               struct mmsim_session **s)
{
    char peer[16];

    snprintf(peer, sizeof(peer), "slot %u", slot);
    return mmsim_session_create(e->rpc[wire_slot_engine(slot)],
                                wire_slot_cpu(slot), peer, s);
}

/* Pages allocated on the machine: managed less free, pcp and deferred. */
static inline uint64_t wire_allocated(struct mmsim_machine *m)
{
    uint64_t n = 0;

    for (unsigned nid = 0; nid < mmsim_machine_nr_nodes(m); nid++)
        for (int t = 0; t < MMSIM_NR_ZONE_TYPES; t++) {
            struct mmsim_zone_info zi;

            if (mmsim_zone_info(m, (int)nid, (enum mmsim_zone_type)t, &zi))
                continue;
            n += zi.managed - zi.free - zi.pcp - zi.deferred;
        }
    return n;
}

#endif /* MMSIM_FUZZ_WIRE_H */
