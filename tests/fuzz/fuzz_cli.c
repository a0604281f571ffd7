// SPDX-License-Identifier: LGPL-2.1-or-later
/* fuzz_cli.c: libFuzzer harness feeding any text to every poolctl input parser. */

/*
 * Input: one selector byte, one parameter byte, then the text. 'z'
 * size_parse, 'o' opt_size, 'u' opt_uint, 'n' check_name, 'N' parse_nodes
 * (--nodes), 'I' parse_nodes (--interleave), 'w' parse_owner, 'p'
 * parse_page_size, 'q' quoted, 's' size_str; any other byte picks one by
 * its value (tests/unit/cli_drive.h). The corpus is tests/fuzz/cli_corpus.
 *
 * Beyond ASan/UBSan, a run aborts when a parser breaks a promise: it
 * accepts what a second, independent reading of the text refuses (or the
 * reverse) or reads another value, it writes its output on failure or
 * past its array, it prints anything when it accepts, or on refusal
 * anything but one printable line naming the value; an accepted size
 * printed by size_str does not parse back to it.
 *
 * Build and run: make fuzz [FUZZ_SECONDS=180]
 */
#include <stddef.h>
#include <stdint.h>

#include "../unit/cli_drive.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	cd_run(data[0], data[1], (const char *)data + 2, size - 2);
	return 0;
}
