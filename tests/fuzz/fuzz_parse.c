// SPDX-License-Identifier: LGPL-2.1-or-later
/* fuzz_parse.c: libFuzzer harness feeding any text to every kernel-text parser. */

/*
 * Input: one selector byte, then the text. 'u' parse_u64_line, 'l'
 * parse_list, 'm' parse_meminfo (host), 'n' parse_meminfo ("Node 0 "),
 * 'd' parse_hugepages_dirname, 's' parse_size_suffix, 'o' parse_mounts;
 * any other byte picks one by its value. The corpus in tests/fuzz/corpus
 * holds real kernel files with their selector in front.
 *
 * Beyond ASan/UBSan, a run aborts when a parser breaks a promise: a
 * failure that is not -EINVAL with a reason, a bitmap bit at or past
 * nbits, a count that is not the bits set, an accepted number that is not
 * what the text says (see tests/unit/parse_drive.h).
 *
 * Build and run: make fuzz [FUZZ_SECONDS=180]
 */
#include <stddef.h>
#include <stdint.h>

#include "../unit/parse_drive.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	/* pd_run parses from a heap copy of exactly size - 1 bytes */
	pd_run(data[0], (const char *)data + 1, size - 1);
	return 0;
}
