/*
 * views.c - the kernel's text views of the machine: /proc/buddyinfo,
 * /proc/zoneinfo, /proc/vmstat, the memblock debugfs files and the boot
 * log, plus the structured mmsim_zone_info() and mmsim_vmstat_get().
 *
 * The text is what Linux 6.18 prints for the same state, byte for byte,
 * so scripts that parse the /proc files work unchanged: the layouts follow
 * frag_show_print(), zoneinfo_show_print() and vmstat_show() in
 * mm/vmstat.c, and the stat names are those of a 6.18 x86-64 kernel
 * (tests/fixtures/linux-6.18 holds the reference). Counters the
 * simulation has no notion of yet (anon, file, slab pages) are printed
 * as 0 in zoneinfo, which is their true value here; /proc/vmstat lists
 * only the counters the simulation keeps.
 *
 * Consistency: every view takes the boot lock, then reads one zone at a
 * time under all of that zone's locks (mmsim_lock_zone_all()) into a
 * snapshot, and formats after dropping them, so a zone's numbers always
 * agree with each other even while other threads allocate, and no zone
 * is locked for longer than a copy.
 *
 * Output is snprintf-style through struct textbuf, which keeps counting
 * the length once the caller's buffer is full.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mmsim/vmalloc.h"
#include "textbuf.h"
#include "vm_internal.h"

/* pageblock_order on x86-64: HPAGE_PMD_ORDER, capped by MAX_PAGE_ORDER. */
#define PAGEBLOCK_ORDER 9u

/* ------------------------------------------------------------------ */
/* The append buffer.                                                  */

/* ------------------------------------------------------------------ */
/* Snapshots.                                                          */

struct pcp_snap {
    int count, high, batch, high_min, high_max;
};

/* Everything a view prints about one zone, copied under its locks. */
struct zone_snap {
    uint64_t free;        /* NR_FREE_PAGES */
    uint64_t free_blocks; /* NR_FREE_PAGES_BLOCKS */
    uint64_t managed;
    uint64_t pcp_pages;
    uint64_t deferred;
    uint64_t wmark[NR_WMARK];
    uint64_t nr_free[MMSIM_MAX_ORDER_CAP + 1];
    uint64_t ev[ZEV_NR];
    struct pcp_snap pcp[MMSIM_MAX_CPUS];
};

/* Zones exist (and their locks are initialised) only once running. */
static bool zones_ready(const struct mmsim_machine *m)
{
    return atomic_load(&m->phase) == MMSIM_PHASE_RUNNING;
}

static struct mmsim_zone *node_zone(struct mmsim_machine *m, unsigned nid,
                                    unsigned idx)
{
    return &m->pgdat[nid]->zones[idx];
}

static unsigned pageblock_order(const struct mmsim_machine *m)
{
    return m->max_order < PAGEBLOCK_ORDER ? m->max_order : PAGEBLOCK_ORDER;
}

/*
 * Copy @z under all its locks. @with_pcp: also the per-cpu list
 * parameters (only zoneinfo prints them).
 */
static void zone_snapshot(struct mmsim_zone *z, struct zone_snap *s,
                          bool with_pcp)
{
    struct mmsim_machine *m = z->m;
    unsigned pbo = pageblock_order(m);

    mmsim_lock_zone_all(z);
    s->free = (uint64_t)atomic_load(&z->free_pages);
    s->managed = z->managed;
    s->deferred = z->deferred_pages;
    s->pcp_pages = mmsim_zone_pcp_pages(z);
    memcpy(s->wmark, z->wmark, sizeof(s->wmark));
    memset(s->nr_free, 0, sizeof(s->nr_free));
    s->free_blocks = 0;
    for (unsigned o = 0; o <= m->max_order; o++) {
        s->nr_free[o] = z->free_area[o].nr_free;
        /* account_freepages(): free pages in whole pageblocks. */
        if (o >= pbo)
            s->free_blocks += s->nr_free[o] << o;
    }
    mmsim_zone_events(z, s->ev);
    if (with_pcp) {
        for (unsigned cpu = 0; cpu < m->nr_cpus; cpu++) {
            const struct mmsim_pcp *p = &z->pcp[cpu];

            s->pcp[cpu] = (struct pcp_snap){
                .count = p->count,
                .high = p->high,
                .batch = p->batch,
                .high_min = p->high_min,
                .high_max = p->high_max,
            };
        }
    }
    mmsim_unlock_zone_all(z);
}

/* ------------------------------------------------------------------ */
/* /proc/buddyinfo                                                     */

int64_t mmsim_view_buddyinfo(struct mmsim_machine *m, char *buf, size_t len)
{
    struct zone_snap s;
    struct textbuf tb;

    if (!m || (!buf && len))
        return MMSIM_EINVAL;
    tb_init(&tb, buf, len);
    pthread_mutex_lock(&m->boot_lock);
    for (unsigned nid = 0; zones_ready(m) && nid < m->nr_nodes; nid++) {
        for_each_zone_idx(m, idx)
        {
            struct mmsim_zone *z = node_zone(m, nid, idx);

            if (!zone_populated(z))
                continue;
            zone_snapshot(z, &s, false);
            tb_printf(&tb, "Node %d, zone %8s ", z->nid,
                      mmsim_zone_type_name(z->type));
            for (unsigned o = 0; o <= m->max_order; o++)
                tb_printf(&tb, "%6" PRIu64 " ", s.nr_free[o]);
            tb_puts(&tb, "\n");
        }
    }
    pthread_mutex_unlock(&m->boot_lock);
    return tb_finish(&tb);
}

/* ------------------------------------------------------------------ */
/* /proc/zoneinfo                                                      */

/* enum node_stat_item of 6.18 (x86-64), in order: none simulated yet. */
static const char *const node_stat_names[] = {
    "nr_inactive_anon",
    "nr_active_anon",
    "nr_inactive_file",
    "nr_active_file",
    "nr_unevictable",
    "nr_slab_reclaimable",
    "nr_slab_unreclaimable",
    "nr_isolated_anon",
    "nr_isolated_file",
    "workingset_nodes",
    "workingset_refault_anon",
    "workingset_refault_file",
    "workingset_activate_anon",
    "workingset_activate_file",
    "workingset_restore_anon",
    "workingset_restore_file",
    "workingset_nodereclaim",
    "nr_anon_pages",
    "nr_mapped",
    "nr_file_pages",
    "nr_dirty",
    "nr_writeback",
    "nr_shmem",
    "nr_shmem_hugepages",
    "nr_shmem_pmdmapped",
    "nr_file_hugepages",
    "nr_file_pmdmapped",
    "nr_anon_transparent_hugepages",
    "nr_vmscan_write",
    "nr_vmscan_immediate_reclaim",
    "nr_dirtied",
    "nr_written",
    "nr_throttled_written",
    "nr_kernel_misc_reclaimable",
    "nr_foll_pin_acquired",
    "nr_foll_pin_released",
    "nr_kernel_stack",
    "nr_page_table_pages",
    "nr_sec_page_table_pages",
    "nr_iommu_pages",
    "nr_swapcached",
    "pgpromote_success",
    "pgpromote_candidate",
    "pgpromote_candidate_nrl",
    "pgdemote_kswapd",
    "pgdemote_direct",
    "pgdemote_khugepaged",
    "pgdemote_proactive",
    "nr_hugetlb",
    "nr_balloon_pages",
    "nr_kernel_file_pages",
};

/* The node stats the simulation keeps: the anonymous LRU's. */
static const char *const node_anon_names[4] = {
    "nr_inactive_anon", "nr_active_anon", "nr_isolated_anon", "nr_anon_pages"};

static void node_anon_stats(struct mmsim_machine *m, int nid, uint64_t v[4])
{
    struct mmsim_lru_info li = {0};

    mmsim_lru_info(m, nid, &li);
    v[0] = li.inactive;
    v[1] = li.active;
    v[2] = li.isolated;
    v[3] = li.inactive + li.active + li.isolated;
}

static uint64_t node_stat_value(const char *name, const uint64_t v[4])
{
    for (int i = 0; i < 4; i++)
        if (strcmp(name, node_anon_names[i]) == 0)
            return v[i];
    return 0;
}

/* enum zone_stat_item after the two free counters: none simulated yet. */
static const char *const zone_stat_zero_names[] = {
    "nr_zone_inactive_anon",
    "nr_zone_active_anon",
    "nr_zone_inactive_file",
    "nr_zone_active_file",
    "nr_zone_unevictable",
    "nr_zone_write_pending",
    "nr_mlock",
    "nr_zspages",
    "nr_free_cma",
};

/* enum numa_stat_item, in the order of enum mmsim_zone_event. */
static const char *const numa_stat_names[] = {
    "numa_hit",        "numa_miss",  "numa_foreign",
    "numa_interleave", "numa_local", "numa_other",
};
_Static_assert(ZEV_NUMA_HIT == 0 && ZEV_NUMA_OTHER == 5,
               "numa events must lead enum mmsim_zone_event");

/* fls(): 1-based index of the highest set bit, 0 for 0. */
static int fls_u64(uint64_t x)
{
    int r = 0;

    while (x) {
        r++;
        x >>= 1;
    }
    return r;
}

/*
 * calculate_normal_threshold(): the per-cpu vmstat drift threshold grows
 * with log2 of the CPUs and of the zone's size in 128 MiB units.
 */
static int normal_threshold(uint64_t managed, unsigned nr_cpus)
{
    uint64_t mem = managed >> (27 - MMSIM_PAGE_SHIFT);
    int t = 2 * fls_u64(nr_cpus) * (1 + fls_u64(mem));

    return t < 125 ? t : 125;
}

/*
 * is_zone_first_populated(): the node's stats go with its lowest
 * populated zone; a node without memory never prints them.
 */
static bool zone_first_populated(struct mmsim_machine *m, unsigned nid,
                                 unsigned idx)
{
    for_each_zone_idx(m, i)
    {
        if (zone_populated(node_zone(m, nid, i)))
            return i == idx;
    }
    return false;
}

static void zoneinfo_zone(struct textbuf *tb, struct mmsim_machine *m,
                          unsigned nid, unsigned idx, struct zone_snap *s)
{
    struct mmsim_zone *z = node_zone(m, nid, idx);
    bool populated = zone_populated(z);

    zone_snapshot(z, s, populated);
    tb_printf(tb, "Node %d, zone %8s", z->nid, mmsim_zone_type_name(z->type));
    if (zone_first_populated(m, nid, idx)) {
        tb_puts(tb, "\n  per-node stats");
        uint64_t vals[4];

        node_anon_stats(m, nid, vals);
        for (size_t i = 0;
             i < sizeof(node_stat_names) / sizeof(*node_stat_names); i++)
            tb_printf(tb, "\n      %-12s %" PRIu64, node_stat_names[i],
                      node_stat_value(node_stat_names[i], vals));
    }
    tb_printf(tb,
              "\n  pages free     %" PRIu64 "\n        boost    %" PRIu64
              "\n        min      %" PRIu64 "\n        low      %" PRIu64
              "\n        high     %" PRIu64 "\n        promo    %" PRIu64
              "\n        spanned  %" PRIu64 "\n        present  %" PRIu64
              "\n        managed  %" PRIu64 "\n        cma      %" PRIu64,
              s->free, (uint64_t)0, s->wmark[WMARK_MIN], s->wmark[WMARK_LOW],
              s->wmark[WMARK_HIGH], s->wmark[WMARK_PROMO],
              z->end_pfn - z->start_pfn, z->present, s->managed, (uint64_t)0);

    /* One entry per zone of the model (ARRAY_SIZE(lowmem_reserve)). */
    tb_printf(tb, "\n        protection: (%" PRIu64, z->lowmem_reserve[0]);
    for (unsigned i = 1; i < m->nr_zone_idx; i++)
        tb_printf(tb, ", %" PRIu64, z->lowmem_reserve[i]);
    tb_puts(tb, ")");

    /* As the kernel: for an empty zone, nothing else is useful. */
    if (!populated) {
        tb_puts(tb, "\n");
        return;
    }

    tb_printf(tb, "\n      %-12s %" PRIu64, "nr_free_pages", s->free);
    tb_printf(tb, "\n      %-12s %" PRIu64, "nr_free_pages_blocks",
              s->free_blocks);
    for (size_t i = 0;
         i < sizeof(zone_stat_zero_names) / sizeof(*zone_stat_zero_names); i++)
        tb_printf(tb, "\n      %-12s %lu", zone_stat_zero_names[i], 0ul);
    for (size_t i = 0; i < sizeof(numa_stat_names) / sizeof(*numa_stat_names);
         i++)
        tb_printf(tb, "\n      %-12s %" PRIu64, numa_stat_names[i], s->ev[i]);

    tb_puts(tb, "\n  pagesets");
    int threshold = normal_threshold(s->managed, m->nr_cpus);
    for (unsigned cpu = 0; cpu < m->nr_cpus; cpu++) {
        const struct pcp_snap *p = &s->pcp[cpu];

        tb_printf(tb,
                  "\n    cpu: %i"
                  "\n              count:    %i"
                  "\n              high:     %i"
                  "\n              batch:    %i"
                  "\n              high_min: %i"
                  "\n              high_max: %i",
                  (int)cpu, p->count, p->high, p->batch, p->high_min,
                  p->high_max);
        tb_printf(tb, "\n  vm stats threshold: %d", threshold);
    }
    /* kswapd_failures never reach MAX_RECLAIM_RETRIES: no reclaim yet. */
    tb_printf(tb,
              "\n  node_unreclaimable:  %u"
              "\n  start_pfn:           %" PRIu64,
              0u, z->start_pfn);
    tb_puts(tb, "\n");
}

int64_t mmsim_view_zoneinfo(struct mmsim_machine *m, char *buf, size_t len)
{
    struct zone_snap s;
    struct textbuf tb;

    if (!m || (!buf && len))
        return MMSIM_EINVAL;
    tb_init(&tb, buf, len);
    pthread_mutex_lock(&m->boot_lock);
    for (unsigned nid = 0; zones_ready(m) && nid < m->nr_nodes; nid++) {
        for_each_zone_idx(m, idx) zoneinfo_zone(&tb, m, nid, idx, &s);
    }
    pthread_mutex_unlock(&m->boot_lock);
    return tb_finish(&tb);
}

/* ------------------------------------------------------------------ */
/* /proc/vmstat                                                        */

/* TEXTS_FOR_ZONES("pgalloc"), by zone type. */
static const char *const pgalloc_names[MMSIM_NR_ZONE_TYPES] = {
    [MMSIM_ZONE_DMA] = "pgalloc_dma",
    [MMSIM_ZONE_DMA32] = "pgalloc_dma32",
    [MMSIM_ZONE_NORMAL] = "pgalloc_normal",
    [MMSIM_ZONE_HIGHMEM] = "pgalloc_high",
    [MMSIM_ZONE_MOVABLE] = "pgalloc_movable",
    [MMSIM_ZONE_DEVICE] = "pgalloc_device",
};

struct vm_item {
    const char *name;
    uint64_t val;
};

/* TEXTS_FOR_ZONES("allocstall"), by zone type. */
static const char *const allocstall_names[MMSIM_NR_ZONE_TYPES] = {
    [MMSIM_ZONE_DMA] = "allocstall_dma",
    [MMSIM_ZONE_DMA32] = "allocstall_dma32",
    [MMSIM_ZONE_NORMAL] = "allocstall_normal",
    [MMSIM_ZONE_HIGHMEM] = "allocstall_high",
    [MMSIM_ZONE_MOVABLE] = "allocstall_movable",
    [MMSIM_ZONE_DEVICE] = "allocstall_device",
};

/* nr_free_pages(_blocks) + numa events + 4 node stats + pswpin/out +
 * pgalloc and allocstall per zone + pgfree + 13 reclaim events. */
#define VMSTAT_MAX_ITEMS (2 + 6 + 4 + 2 + 2 * MMSIM_NR_ZONE_TYPES + 1 + 13)

static uint64_t ev(struct mmsim_machine *m, enum vm_event e)
{
    return atomic_load_explicit(&m->vm->ev[e], memory_order_relaxed);
}

/*
 * Gather the counters the simulation keeps, in vmstat_text order.
 * Caller holds the boot lock. Return: number of items.
 */
static unsigned vmstat_collect(struct mmsim_machine *m,
                               struct vm_item items[VMSTAT_MAX_ITEMS])
{
    uint64_t free = 0, free_blocks = 0, pgfree = 0;
    uint64_t numa[6] = {0};
    uint64_t pgalloc[MMSIM_NR_ZONE_TYPES] = {0};
    uint64_t anon[4] = {0};
    struct zone_snap s;
    unsigned n = 0;

    for (unsigned nid = 0; zones_ready(m) && nid < m->nr_nodes; nid++) {
        for_each_zone_idx(m, idx)
        {
            struct mmsim_zone *z = node_zone(m, nid, idx);

            if (!zone_populated(z))
                continue;
            zone_snapshot(z, &s, false);
            free += s.free;
            free_blocks += s.free_blocks;
            for (unsigned i = 0; i < 6; i++)
                numa[i] += s.ev[i];
            pgalloc[z->type] += s.ev[ZEV_PGALLOC];
            pgfree += s.ev[ZEV_PGFREE];
        }
    }

    items[n++] = (struct vm_item){"nr_free_pages", free};
    items[n++] = (struct vm_item){"nr_free_pages_blocks", free_blocks};
    for (unsigned i = 0; i < 6; i++)
        items[n++] = (struct vm_item){numa_stat_names[i], numa[i]};
    for (unsigned nid = 0; nid < m->nr_nodes; nid++) {
        uint64_t v[4];

        node_anon_stats(m, (int)nid, v);
        for (int i = 0; i < 4; i++)
            anon[i] += v[i];
    }
    for (int i = 0; i < 4; i++)
        items[n++] = (struct vm_item){node_anon_names[i], anon[i]};
    items[n++] = (struct vm_item){"pswpin", ev(m, VE_PSWPIN)};
    items[n++] = (struct vm_item){"pswpout", ev(m, VE_PSWPOUT)};
    /* Zone types ascend with the index, as TEXTS_FOR_ZONES lists them. */
    for_each_zone_idx(m, idx)
    {
        enum mmsim_zone_type t = m->zone_types[idx];

        items[n++] = (struct vm_item){pgalloc_names[t], pgalloc[t]};
    }
    for_each_zone_idx(m, idx)
    {
        enum mmsim_zone_type t = m->zone_types[idx];

        items[n++] =
            (struct vm_item){allocstall_names[t], ev(m, VE_ALLOCSTALL + t)};
    }
    items[n++] = (struct vm_item){"pgfree", pgfree};
    items[n++] = (struct vm_item){"pgactivate", ev(m, VE_PGACTIVATE)};
    items[n++] = (struct vm_item){"pgdeactivate", ev(m, VE_PGDEACTIVATE)};
    items[n++] = (struct vm_item){"pgfault", ev(m, VE_PGFAULT)};
    items[n++] = (struct vm_item){"pgmajfault", ev(m, VE_PGMAJFAULT)};
    items[n++] = (struct vm_item){"pgrefill", ev(m, VE_PGREFILL)};
    items[n++] = (struct vm_item){"pgsteal_kswapd", ev(m, VE_PGSTEAL_KSWAPD)};
    items[n++] = (struct vm_item){"pgsteal_direct", ev(m, VE_PGSTEAL_DIRECT)};
    items[n++] = (struct vm_item){"pgscan_kswapd", ev(m, VE_PGSCAN_KSWAPD)};
    items[n++] = (struct vm_item){"pgscan_direct", ev(m, VE_PGSCAN_DIRECT)};
    /* Every page scanned or stolen is anonymous here. */
    items[n++] = (struct vm_item){"pgscan_anon", ev(m, VE_PGSCAN_KSWAPD) +
                                                     ev(m, VE_PGSCAN_DIRECT)};
    items[n++] = (struct vm_item){"pgsteal_anon", ev(m, VE_PGSTEAL_KSWAPD) +
                                                      ev(m, VE_PGSTEAL_DIRECT)};
    items[n++] = (struct vm_item){"pageoutrun", ev(m, VE_PAGEOUTRUN)};
    items[n++] = (struct vm_item){"oom_kill", ev(m, VE_OOM_KILL)};
    return n;
}

int64_t mmsim_view_vmstat(struct mmsim_machine *m, char *buf, size_t len)
{
    struct vm_item items[VMSTAT_MAX_ITEMS];
    struct textbuf tb;
    unsigned n;

    if (!m || (!buf && len))
        return MMSIM_EINVAL;
    pthread_mutex_lock(&m->boot_lock);
    n = vmstat_collect(m, items);
    pthread_mutex_unlock(&m->boot_lock);

    tb_init(&tb, buf, len);
    for (unsigned i = 0; i < n; i++)
        tb_printf(&tb, "%s %" PRIu64 "\n", items[i].name, items[i].val);
    return tb_finish(&tb);
}

/*
 * Machine-wide counters of the simulator itself, with no /proc/vmstat
 * twin: available by name, never printed in the kernel's view.
 */
static int64_t sim_counter(struct mmsim_machine *m, const char *name)
{
    const struct {
        const char *name;
        _Atomic uint64_t *c;
    } sim[] = {
        {"mmsim_fail_page_alloc", &m->ev_fail_injected},
        {"mmsim_alloc_fail", &m->ev_alloc_fail},
        {"mmsim_deferred_grow", &m->ev_deferred_grow},
        {"mmsim_kswapd_wakeups", &m->vm->ev[VE_KSWAPD_WAKEUPS]},
        {"mmsim_swap_full", &m->vm->ev[VE_SWAP_FULL]},
        {"mmsim_swap_io_error", &m->vm->ev[VE_SWAP_IO_ERROR]},
    };

    for (size_t i = 0; i < sizeof(sim) / sizeof(*sim); i++) {
        if (strcmp(sim[i].name, name) == 0) {
            uint64_t v = atomic_load_explicit(sim[i].c, memory_order_relaxed);

            return v > INT64_MAX ? INT64_MAX : (int64_t)v;
        }
    }
    return -1;
}

int64_t mmsim_vmstat_get(struct mmsim_machine *m, const char *name)
{
    struct vm_item items[VMSTAT_MAX_ITEMS];
    unsigned n;

    if (!m || !name)
        return -1;
    if (strncmp(name, "mmsim_", 6) == 0)
        return sim_counter(m, name);
    pthread_mutex_lock(&m->boot_lock);
    n = vmstat_collect(m, items);
    pthread_mutex_unlock(&m->boot_lock);

    for (unsigned i = 0; i < n; i++) {
        if (strcmp(items[i].name, name) == 0)
            return items[i].val > INT64_MAX ? INT64_MAX : (int64_t)items[i].val;
    }
    return -1;
}

/* ------------------------------------------------------------------ */
/* memblock debugfs and the boot log                                   */

int64_t mmsim_view_memblock(struct mmsim_machine *m, bool reserved, char *buf,
                            size_t len)
{
    int64_t ret;

    if (!m || (!buf && len))
        return MMSIM_EINVAL;
    pthread_mutex_lock(&m->boot_lock);
    if (!m->mb)
        ret = MMSIM_ENOENT;
    else
        ret = mmsim_memblock_debugfs_show(
            m->mb, reserved ? MMSIM_MEMBLOCK_RESERVED : MMSIM_MEMBLOCK_MEMORY,
            buf, len);
    pthread_mutex_unlock(&m->boot_lock);
    return ret;
}

int64_t mmsim_view_bootlog(struct mmsim_machine *m, char *buf, size_t len)
{
    struct textbuf tb;

    if (!m || (!buf && len))
        return MMSIM_EINVAL;
    tb_init(&tb, buf, len);
    pthread_mutex_lock(&m->boot_lock);
    if (m->bootlog && m->bootlog_len) {
        tb_write(&tb, m->bootlog, m->bootlog_len);
        /* dmesg ends every message with a newline. */
        if (m->bootlog[m->bootlog_len - 1] != '\n')
            tb_puts(&tb, "\n");
    }
    pthread_mutex_unlock(&m->boot_lock);
    return tb_finish(&tb);
}

/* ------------------------------------------------------------------ */
/* mmsim_zone_info()                                                   */

int mmsim_zone_info(struct mmsim_machine *m, int nid, enum mmsim_zone_type type,
                    struct mmsim_zone_info *zi)
{
    struct mmsim_zone *z;
    struct zone_snap s;
    int ret = 0;

    if (!m || !zi)
        return MMSIM_EINVAL;
    if (nid < 0 || (unsigned)nid >= m->nr_nodes)
        return MMSIM_ENODEV;
    if ((unsigned)type >= MMSIM_NR_ZONE_TYPES || m->type_to_idx[type] < 0)
        return MMSIM_ENOENT;

    pthread_mutex_lock(&m->boot_lock);
    if (!zones_ready(m)) {
        ret = MMSIM_EPERM;
        goto out_unlock;
    }
    z = node_zone(m, (unsigned)nid, (unsigned)m->type_to_idx[type]);
    zone_snapshot(z, &s, false);

    memset(zi, 0, sizeof(*zi));
    zi->nid = nid;
    zi->type = type;
    zi->start_pfn = z->start_pfn;
    zi->spanned = z->end_pfn - z->start_pfn;
    zi->present = z->present;
    zi->managed = s.managed;
    zi->free = s.free;
    zi->pcp = s.pcp_pages;
    zi->deferred = s.deferred;
    zi->wmark_min = s.wmark[WMARK_MIN];
    zi->wmark_low = s.wmark[WMARK_LOW];
    zi->wmark_high = s.wmark[WMARK_HIGH];
    zi->wmark_promo = s.wmark[WMARK_PROMO];
    for_each_zone_idx(m, idx) zi->lowmem_reserve[m->zone_types[idx]] =
        z->lowmem_reserve[idx];
    memcpy(zi->nr_free, s.nr_free, sizeof(zi->nr_free));
out_unlock:
    pthread_mutex_unlock(&m->boot_lock);
    return ret;
}

/* ------------------------------------------------------------------ */
/* /proc/swaps and /proc/meminfo                                        */

int64_t mmsim_view_swaps(struct mmsim_machine *m, char *buf, size_t len)
{
    struct mmsim_swap_info si;
    struct textbuf tb;

    if (!m || (!buf && len))
        return MMSIM_EINVAL;
    mmsim_swap_info(m, &si);
    tb_init(&tb, buf, len);
    tb_puts(&tb, "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n");
    if (si.present) {
        size_t plen = strlen(si.path);
        uint64_t size = si.pages * 4, used = si.used * 4;

        /* swap_show(): the path padded to 40 columns, sizes in KiB. */
        tb_printf(&tb, "%s%*s%s\t%" PRIu64 "\t%s%" PRIu64 "\t%s%d\n", si.path,
                  plen < 40 ? (int)(40 - plen) : 1, " ", "file\t", size,
                  size < 10000000 ? "\t" : "", used,
                  used < 10000000 ? "\t" : "", -2);
    }
    return tb_finish(&tb);
}

static void meminfo_kb(struct textbuf *tb, const char *label, uint64_t kb)
{
    /* show_val_kb(): a 16-column label, the value 8 wide. */
    tb_printf(tb, "%-16s%8" PRIu64 " kB\n", label, kb);
}

int64_t mmsim_view_meminfo(struct mmsim_machine *m, char *buf, size_t len)
{
    uint64_t total = 0, free = 0, high_total = 0, high_free = 0;
    uint64_t anon[4] = {0};
    struct mmsim_swap_info si;
    struct mmsim_vmalloc_info vi = {0};
    struct textbuf tb;
    bool highmem = m && m->type_to_idx[MMSIM_ZONE_HIGHMEM] >= 0;

    if (!m || (!buf && len))
        return MMSIM_EINVAL;
    if (atomic_load(&m->phase) != MMSIM_PHASE_RUNNING)
        return MMSIM_EPERM;
    pthread_mutex_lock(&m->boot_lock);
    for (unsigned nid = 0; nid < m->nr_nodes; nid++) {
        uint64_t v[4];

        for_each_zone_idx(m, idx)
        {
            struct mmsim_zone *z = node_zone(m, nid, idx);
            struct zone_snap s;

            if (!zone_populated(z))
                continue;
            zone_snapshot(z, &s, false);
            total += s.managed;
            free += s.free;
            if (z->type == MMSIM_ZONE_HIGHMEM) {
                high_total += s.managed;
                high_free += s.free;
            }
        }
        node_anon_stats(m, (int)nid, v);
        for (int i = 0; i < 4; i++)
            anon[i] += v[i];
    }
    pthread_mutex_unlock(&m->boot_lock);
    mmsim_swap_info(m, &si);
    mmsim_vmalloc_info(m, &vi);

    tb_init(&tb, buf, len);
    meminfo_kb(&tb, "MemTotal:", total * 4);
    meminfo_kb(&tb, "MemFree:", free * 4);
    meminfo_kb(&tb, "MemAvailable:", free * 4);
    meminfo_kb(&tb, "Active:", anon[1] * 4);
    meminfo_kb(&tb, "Inactive:", anon[0] * 4);
    meminfo_kb(&tb, "Active(anon):", anon[1] * 4);
    meminfo_kb(&tb, "Inactive(anon):", anon[0] * 4);
    if (highmem) {
        meminfo_kb(&tb, "HighTotal:", high_total * 4);
        meminfo_kb(&tb, "HighFree:", high_free * 4);
        meminfo_kb(&tb, "LowTotal:", (total - high_total) * 4);
        meminfo_kb(&tb, "LowFree:", (free - high_free) * 4);
    }
    meminfo_kb(&tb, "SwapTotal:", si.pages * 4);
    meminfo_kb(&tb, "SwapFree:", (si.pages - si.used) * 4);
    meminfo_kb(&tb, "AnonPages:", anon[3] * 4);
    meminfo_kb(&tb, "VmallocTotal:", vi.total_bytes >> 10);
    meminfo_kb(&tb, "VmallocUsed:", vi.used_pages * 4);
    meminfo_kb(&tb, "VmallocChunk:", 0);
    return tb_finish(&tb);
}
