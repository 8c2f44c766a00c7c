/* fuzz_peer_target.c: libFuzzer entry for fuzz_peer.c (clang, -DPD_FUZZ=ON). */
#include "fuzz_peer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fp_run(data, size);
	return 0;
}
