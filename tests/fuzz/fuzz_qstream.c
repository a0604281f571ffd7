// SPDX-License-Identifier: LGPL-2.1-or-later
/* fuzz_qstream.c: libFuzzer harness feeding any bytes to the QEMU migration stream reader. */

/*
 * The input is the stream itself. Beyond ASan/UBSan, a run aborts when
 * the reader breaks a promise (tests/unit/qstream_drive.h): an error
 * without a reason or with an offset past the input, an accepted stream
 * whose blocks do not add up to its total, a virtio-mem plugged size that
 * is not whole blocks, or an end that is not exactly what it needed.
 * The corpus: tests/fuzz/corpus/qstream (real QEMU 7.2 stream heads and
 * hand-built ones), replayed by tests/unit/test_qstream in make check.
 *
 * Build and run: make fuzz [FUZZ_SECONDS=600]
 */
#include <stddef.h>
#include <stdint.h>

#include "../unit/qstream_drive.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	qd_run(data, size);
	return 0;
}
