/*
 * mmsim/record.h - the session recording format: what `mmsimd --record`
 * writes and what the `rpc` fuzz target reads (fuzz/README.md), so a
 * recorded session replays with one command:
 *
 *     build/fuzz/rpc DIR/session-PID-ID.rpc
 *
 * A recording is a sequence of records:
 *
 *     +--------+-------------------------+----------------------+
 *     | sel u8 | length u16 little-endian | length bytes         |
 *     +--------+-------------------------+----------------------+
 *
 * The bytes are what one mmsim_session_feed() call was given (a read
 * longer than MMSIM_REC_MAX_BYTES becomes several records, all but the
 * last with MMSIM_REC_MORE). In @sel, the low bits choose one of the
 * target's MMSIM_REC_SLOTS sessions; mmsimd writes each session to its
 * own file, always as slot 0. The fuzz target also understands the two
 * flags mmsimd never writes (MMSIM_REC_SHUTDOWN, MMSIM_REC_RESTART), and
 * reads a record cut short by the end of the input as what is there.
 *
 * Header-only, no I/O: daemon/rpc only hands the bytes over (struct
 * mmsim_rpc_recorder in rpc.h); the embedder writes them.
 */
#ifndef MMSIM_RECORD_H
#define MMSIM_RECORD_H

#include <stddef.h>
#include <stdint.h>

#define MMSIM_REC_HEADER_BYTES 3
#define MMSIM_REC_MAX_BYTES    65535u

#define MMSIM_REC_SLOTS     4u
#define MMSIM_REC_SLOT_MASK 0x03u
/* The bytes are joined with the next record's: one feed call. */
#define MMSIM_REC_MORE 0x20u
/* Fuzz target only: mmsim_rpc_shutdown() of the slot's engine first. */
#define MMSIM_REC_SHUTDOWN 0x40u
/* Fuzz target only: end the slot's session first and start a new one. */
#define MMSIM_REC_RESTART 0x80u

/* Fill @hdr for a record of @len (at most MMSIM_REC_MAX_BYTES) bytes. */
static inline void mmsim_rec_header(uint8_t hdr[MMSIM_REC_HEADER_BYTES],
                                    unsigned sel, size_t len)
{
    hdr[0] = (uint8_t)sel;
    hdr[1] = (uint8_t)(len & 0xff);
    hdr[2] = (uint8_t)((len >> 8) & 0xff);
}

#endif /* MMSIM_RECORD_H */
