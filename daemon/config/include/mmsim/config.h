/*
 * mmsim/config.h - machine descriptions from QEMU-like options and YAML.
 *
 * DOC: machine configuration
 *
 * Turns what a user types (-m 8G --numa node,mem=4G ...) or writes (a YAML
 * machine file, see docs/machine.md) into a struct mmsim_desc, with errors
 * that name the option, or the file, line, column and field path, that is
 * wrong. This library sits outside the no-I/O core: it reads files and
 * links libyaml.
 *
 * Use: mmsim_config_builder_init(), then mmsim_config_option() once per
 * option in command-line order (a "config" option loads a YAML file at
 * that point), then mmsim_config_finish(). Later options override earlier
 * ones, including what a YAML file set: scalar knobs are replaced (the
 * swap device's size and file each count as one, so --swap file=PATH
 * keeps a size given before); --numa node, --numa dist and --reserve add
 * to what is there; a YAML file's nodes, distances and reserved lists
 * replace what was there.
 *
 * Memory layout, when sizes rather than ranges are given (QEMU's pc
 * machine). RAM is counted as QEMU counts -m: as one run of "RAM offsets"
 * [0, -m) placed in the physical address space like this:
 *
 *   offsets [0, 3 GiB)   at the same physical addresses, of which only
 *                        [0x1000, 0x9f000) (low 640 KiB less page 0 and
 *                        the EBDA page) and [1 MiB, 3 GiB) are usable RAM;
 *                        the rest of the first MiB (page 0, EBDA, VGA and
 *                        BIOS ROM) counts towards -m but is not RAM;
 *   offsets [3 GiB, -m)  relocated above the PCI hole, at [4 GiB, -m + 1 GiB).
 *
 * Nodes take consecutive slices of the offsets in node order, so a node
 * may get up to three ranges. -m 8G with two 4G nodes gives node 0
 * [0x1000, 0x9f000), [1 MiB, 3 GiB), [4 GiB, 5 GiB) and node 1 [5 GiB,
 * 9 GiB). Usable RAM is therefore slightly less than -m (by 392 KiB when
 * -m is at least 1 MiB), as in a QEMU guest.
 *
 * Sizing: without --numa node there is one node with all of -m. With
 * --numa node entries, their mem= must add up to -m when -m is given; when
 * it is not, -m is their sum. Nodes without mem= share what is left
 * equally, each share rounded down to 8 MiB (QEMU's pc alignment) and the
 * last such node taking the remainder; if no node has mem= and -m is not
 * given, they share MMSIM_CONFIG_DEFAULT_MEMORY_BYTES.
 *
 * When neither -m, --numa node, nor a YAML memory or nodes key is given,
 * the machine is the built-in one (mmsim_desc_default()) with any knobs,
 * distances and reservations given applied on top. Otherwise the machine
 * starts from mmsim_desc_init()'s knob defaults (2 CPUs, MAX_ORDER 10, ...)
 * and gets the reservations "bios-ebda" [0x9e000, +4 KiB) and "kernel"
 * [16 MiB, +32 MiB) when usable RAM covers them, unless a YAML file gave a
 * reserved list (which then is the complete list), plus --reserve entries.
 *
 * Swap and OOM: the built-in machine has mmsim_desc_default()'s swap (8
 * GiB). A machine laid out from sizes or ranges gets swap as large as its
 * RAM size (-m, or what the nodes add up to), capped at
 * MMSIM_CONFIG_DEFAULT_SWAP_MAX_BYTES (none when under two pages). The
 * swap file is "" (an in-memory file) unless one is given: a daemon that
 * wants a real one fills it in from mmsim_config_default_swap_dir(). The
 * OOM policy is MMSIM_OOM_KILL unless given.
 *
 * Thread safety: a builder is a plain value; use one from one thread at a
 * time. The functions keep no state of their own.
 */
#ifndef MMSIM_CONFIG_H
#define MMSIM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmsim/base.h"
#include "mmsim/desc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Limits on YAML input: bytes of one file, nesting of collections. */
#define MMSIM_CONFIG_MAX_FILE_BYTES (UINT32_C(1) << 20)
#define MMSIM_CONFIG_MAX_DEPTH      16
/* -m when only memoryless --numa node entries are given. */
#define MMSIM_CONFIG_DEFAULT_MEMORY_BYTES (UINT64_C(8) << 30)
/* Default swap when the machine is laid out from sizes: RAM, at most this. */
#define MMSIM_CONFIG_DEFAULT_SWAP_MAX_BYTES (UINT64_C(64) << 30)
/* Largest swap device: swap slots are 32-bit (2^32 pages with the header). */
#define MMSIM_CONFIG_SWAP_MAX_BYTES (UINT64_C(1) << 44)
/* The swap directory when $TMPDIR is unset or empty. */
#define MMSIM_CONFIG_SWAP_DIR_FALLBACK "/var/tmp"
/* Size of the labels that let finish() name where a value came from. */
#define MMSIM_CONFIG_ORIGIN_LEN 96

/* One NUMA node as given by --numa node or a YAML nodes entry. */
struct mmsim_config_node {
    bool defined;
    bool has_mem;    /* mem= / mem: was given */
    bool has_ranges; /* ranges: was given (YAML only) */
    uint64_t mem_bytes;
    /* "--numa node,mem=4G" or "machine.yaml:7:10: nodes[1].mem". */
    char origin[MMSIM_CONFIG_ORIGIN_LEN];
};

/*
 * What the options and files said so far. A plain value: caller-allocated
 * (about 25 KiB, so better not on a small thread stack), set up with
 * mmsim_config_builder_init(), copyable, never needs freeing. Read and
 * write it only through the functions below; the fields are visible only
 * so that it can live on the caller's side.
 */
struct mmsim_config_builder {
    /* Knobs: bit (1u << k) of knobs_set says knob k was given. */
    unsigned knobs_set;
    unsigned nr_cpus;
    unsigned max_order;
    uint64_t min_free_kbytes;
    unsigned watermark_scale_factor;
    unsigned lowmem_reserve_ratio[MMSIM_NR_ZONE_TYPES];
    unsigned lowmem_reserve_ratio_set; /* bit (1u << zone type) per ratio */
    uint64_t movablecore_bytes;
    uint64_t highmem_start; /* physical address; 0: the 64-bit model */
    enum mmsim_early_kind early;
    bool deferred_init;
    /* The swap size is a knob (0: no swap); swap_path[0] != 0: a file given. */
    uint64_t swap_bytes;
    char swap_path[MMSIM_DESC_PATH_LEN];
    enum mmsim_oom_policy oom_policy;

    /* -m or YAML memory: the size of the RAM offsets (see the DOC). */
    bool has_memory;
    uint64_t memory_bytes;
    char memory_origin[MMSIM_CONFIG_ORIGIN_LEN]; /* "-m", "memory (f:2:9)" */

    /* Nodes 0..nr_nodes-1; gaps (defined == false) are errors at finish. */
    unsigned nr_nodes;
    struct mmsim_config_node nodes[MMSIM_MAX_NODES];
    /* Ranges of nodes given by ranges (YAML), in file order. */
    unsigned nr_ranges;
    struct mmsim_desc_range ranges[MMSIM_DESC_MAX_RANGES];

    /* User reservations; reserved_replace: drop the default ones. */
    bool reserved_replace;
    unsigned nr_reserved;
    struct mmsim_desc_reserved reserved[MMSIM_DESC_MAX_RESERVED];

    /* SLIT entries given; distance_flags[a][b] says how (config.c). */
    uint8_t distance[MMSIM_MAX_NODES][MMSIM_MAX_NODES];
    uint8_t distance_flags[MMSIM_MAX_NODES][MMSIM_MAX_NODES];
};

/**
 * mmsim_config_parse_size() - parse a size such as "8G" or "0x1000".
 * @s:   decimal digits, or "0x"/"0X" and hex digits, then optionally one of
 *       K, M, G, T (any case; powers of 1024), which may be followed by
 *       "iB" (KiB, MiB, GiB, TiB). No sign, no spaces, no fractions.
 * @out: receives the size in bytes; untouched on error.
 *
 * Context: any thread; pure.
 * Return: 0, or MMSIM_ECONFIG for NULL or empty input, a sign, trailing
 * junk, an unknown unit, or a value that does not fit in 64 bits.
 */
int mmsim_config_parse_size(const char *s, uint64_t *out);

/**
 * mmsim_config_builder_init() - start an empty builder.
 * @b: the builder; every previous content is discarded.
 *
 * An empty builder finishes into mmsim_desc_default().
 *
 * Context: any thread.
 */
void mmsim_config_builder_init(struct mmsim_config_builder *b);

/**
 * mmsim_config_option() - apply one machine option.
 * @b:      the builder.
 * @name:   option name without dashes: "m", "numa", "reserve", "cpus",
 *          "max-order", "min-free-kbytes", "watermark-scale-factor",
 *          "lowmem-reserve-ratio", "movablecore", "highmem", "early",
 *          "deferred-init", "swap", "oom-policy" or "config"
 *          (mmsim_config_options_help() says what each takes).
 * @value:  its argument; NULL or "" only for "highmem" (the default 896
 *          MiB boundary).
 * @err:    receives a message naming the option on error, e.g.
 *          "--numa node,mem=4X: mem=4X: '4X' is not a size"; may be NULL.
 * @errlen: size of @err.
 *
 * Sizes for -m and --numa node,mem= are in MiB when they have no unit, as
 * in QEMU; every other size without a unit is in bytes (--swap too).
 * Problems that depend on other options (memory that does not add up,
 * distances to nodes that do not exist) are reported by
 * mmsim_config_finish().
 *
 * Context: any thread; "config" reads a file.
 * Return: 0, or MMSIM_ECONFIG with @b unchanged.
 */
int mmsim_config_option(struct mmsim_config_builder *b, const char *name,
                        const char *value, char *err, size_t errlen);

/**
 * mmsim_config_load_yaml() - apply a YAML machine description.
 * @b:      the builder.
 * @text:   the YAML text, at most MMSIM_CONFIG_MAX_FILE_BYTES; need not be
 *          NUL-terminated. NULL is allowed when @len is 0.
 * @len:    bytes in @text.
 * @err:    receives "<yaml>:LINE:COL: field.path: problem" on error (lines
 *          and columns count from 1); may be NULL.
 * @errlen: size of @err.
 *
 * The schema is in docs/machine.md. Unknown and duplicate keys, wrong
 * types, bad values, aliases, more than one document, nesting deeper than
 * MMSIM_CONFIG_MAX_DEPTH and empty input are all errors.
 *
 * Context: any thread; allocates host memory through libyaml.
 * Return: 0, or MMSIM_ECONFIG (also when the host is out of memory, which
 * the message says) with @b unchanged.
 */
int mmsim_config_load_yaml(struct mmsim_config_builder *b, const char *text,
                           size_t len, char *err, size_t errlen);

/**
 * mmsim_config_load_file() - read a YAML machine file and apply it.
 * @b:      the builder.
 * @path:   the file; messages start with this path as given.
 * @err:    receives e.g. "machine.yaml:7:11: nodes[1].ranges[0].size:
 *          '4X' is not a size"; may be NULL.
 * @errlen: size of @err.
 *
 * Context: any thread; blocking file I/O.
 * Return: 0, or MMSIM_ECONFIG (also for I/O errors and files over
 * MMSIM_CONFIG_MAX_FILE_BYTES) with @b unchanged.
 */
int mmsim_config_load_file(struct mmsim_config_builder *b, const char *path,
                           char *err, size_t errlen);

/**
 * mmsim_config_finish() - turn a builder into a validated description.
 * @b:      the builder; not modified, so it can be finished again.
 * @out:    receives the description; unspecified on error.
 * @err:    receives a message on error: where the bad value came from (an
 *          option or file:line:col: field) when the problem is in the
 *          layout, else mmsim_desc_validate()'s message; may be NULL.
 * @errlen: size of @err.
 *
 * Lays out memory as the DOC above says when sizes were given, adds the
 * reservations, distances and knobs, then runs mmsim_desc_validate().
 *
 * Context: any thread; pure.
 * Return: 0 or MMSIM_ECONFIG.
 */
int mmsim_config_finish(const struct mmsim_config_builder *b,
                        struct mmsim_desc *out, char *err, size_t errlen);

/*
 * The machine options as getopt_long() entries, for tools that take them
 * (mmsim-boot, mmsimd): each long option's name is the name
 * mmsim_config_option() takes, and each returns MMSIM_CONFIG_GETOPT, so
 *
 *     if (opt == MMSIM_CONFIG_GETOPT || opt == 'm')
 *         mmsim_config_option(b, opt == 'm' ? "m" : longopts[idx].name, ...)
 *
 * with "m:" in the short options. A macro so this header needs no
 * <getopt.h>; expand it inside a struct option array.
 */
#define MMSIM_CONFIG_GETOPT 0x4d00
#define MMSIM_CONFIG_LONGOPTS                                                  \
    {"numa", required_argument, NULL, MMSIM_CONFIG_GETOPT},                    \
        {"reserve", required_argument, NULL, MMSIM_CONFIG_GETOPT},             \
        {"cpus", required_argument, NULL, MMSIM_CONFIG_GETOPT},                \
        {"max-order", required_argument, NULL, MMSIM_CONFIG_GETOPT},           \
        {"min-free-kbytes", required_argument, NULL, MMSIM_CONFIG_GETOPT},     \
        {"watermark-scale-factor", required_argument, NULL,                    \
         MMSIM_CONFIG_GETOPT},                                                 \
        {"lowmem-reserve-ratio", required_argument, NULL,                      \
         MMSIM_CONFIG_GETOPT},                                                 \
        {"movablecore", required_argument, NULL, MMSIM_CONFIG_GETOPT},         \
        {"highmem", optional_argument, NULL, MMSIM_CONFIG_GETOPT},             \
        {"early", required_argument, NULL, MMSIM_CONFIG_GETOPT},               \
        {"deferred-init", required_argument, NULL, MMSIM_CONFIG_GETOPT},       \
        {"swap", required_argument, NULL, MMSIM_CONFIG_GETOPT},                \
        {"oom-policy", required_argument, NULL, MMSIM_CONFIG_GETOPT},          \
    {                                                                          \
        "config", required_argument, NULL, MMSIM_CONFIG_GETOPT                 \
    }

/**
 * mmsim_config_options_help() - the --help text of the machine options.
 *
 * Context: any thread.
 * Return: a static, NUL-terminated block of lines, each ending in '\n',
 * at most 80 columns wide. Never NULL.
 */
const char *mmsim_config_options_help(void);

/**
 * mmsim_config_default_swap_dir() - where a daemon keeps its swap file when
 * the description names none: $TMPDIR, or MMSIM_CONFIG_SWAP_DIR_FALLBACK
 * (/var/tmp) when that is unset or empty. A directory in swap_path means
 * an unnamed temporary file in it (mmsim/vm.h), so a daemon does
 *
 *     if (desc->swap_bytes && !desc->swap_path[0] &&
 *         mmsim_config_default_swap_dir(desc->swap_path,
 *                                       sizeof(desc->swap_path)))
 *         ... $TMPDIR is too long ...
 *
 * @buf: receives the directory, NUL-terminated.
 * @len: size of @buf; MMSIM_DESC_PATH_LEN for a description's swap_path.
 *
 * Context: any thread (reads the environment).
 * Return: 0, or MMSIM_ERANGE when the directory does not fit in @len
 * bytes (@buf then holds "" when @len > 0).
 */
int mmsim_config_default_swap_dir(char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* MMSIM_CONFIG_H */
