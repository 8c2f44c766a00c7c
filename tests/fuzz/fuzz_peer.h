/* fuzz_peer.h: the peer-plane driver of fuzz_peer.c (see its header for the input layout). */
#ifndef PD_FUZZ_PEER_H
#define PD_FUZZ_PEER_H

#include <stddef.h>
#include <stdint.h>

/* Runs one input; aborts (after a message) when an invariant breaks. */
void fp_run(const uint8_t *data, size_t size);

#endif
