// SPDX-License-Identifier: LGPL-2.1-or-later
/* fuzz_manifest.c: libFuzzer harness feeding any text to the manifest reader. */

/*
 * Input: the manifest text itself. The corpus in tests/fuzz/corpus/manifest
 * is the named seeds (readable JSON) and, under sha1 names, what 21 million
 * runs grew from them, minimized with -merge=1; test_manifest replays it
 * all in make check. Every run uses the map of tests/unit/manifest_drive.h.
 *
 * Beyond ASan/UBSan/LeakSanitizer, a run aborts when the reader breaks a
 * promise: a failure other than -EINVAL/-ENOMEM, a refusal without exactly
 * one error line or with *out changed, a log line not "manifest: ..." or
 * not printable; an accepted plan with a block that is not page-aligned,
 * larger than its region, of a page size that is not a power of two of at
 * least 4K, a backing that does not follow from the page size, a node out
 * of range, a duplicate or unprintable id, or a count that is not the
 * number of entries of $.blocks (plus the headroom).
 *
 * Build and run: make fuzz [FUZZ_SECONDS=180]
 */
#include <stddef.h>
#include <stdint.h>

#include "../unit/manifest_drive.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	md_run((const char *)data, size);
	return 0;
}
