// SPDX-License-Identifier: LGPL-2.1-or-later
/* poolctl.c: the command line over librampool's public interface: global options and the command table. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmds.h"
#include "common.h"

static const struct cmd commands[] = {
	{ "status", cmd_status,
	  "kernel memory per node and page size, and the pool's share" },
	{ "reserve", cmd_reserve, "reserve capacity under a name, all or nothing" },
	{ "release", cmd_release, "release a reservation and every page of it" },
	{ "grow", cmd_grow, "grow a reservation (headroom first, else a check)" },
	{ "path", cmd_path, "print a reservation's backing file, for a VMM" },
	{ "list", cmd_list, "list the reservations of the ledger" },
	{ "show", cmd_show, "show one reservation, per node" },
	{ "audit", cmd_audit, "compare the ledger with files, mounts and kernel" },
	{ "discard", cmd_discard,
	  "give a reservation's pages back, its capacity kept" },
	{ "check", cmd_check,
	  "will a VM (manifest, QEMU stream) fit here now?" },
	{ "warm", cmd_warm,
	  "pre-zeroed slots claimed at once: targets, fill, show" },
	{ "pages", cmd_pages,
	  "set the kernel's hugepage pool per node, never below the pool's" },
};

static void help(void)
{
	printf("Usage: %s [global options] COMMAND [options]\n"
	       "\n"
	       "Reserve and account guest-RAM backing (hugetlb, memfd) per NUMA node.\n"
	       "\n"
	       "Commands:\n",
	       prog);
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		printf("  %-10s %s\n", commands[i].name, commands[i].summary);
	printf("\n"
	       "Global options:\n"
	       "      --sysroot DIR    read kernel state under DIR (a recorded tree)\n"
	       "      --state-dir DIR  the pool's state directory (default /run/rampool)\n"
	       "  -v, --verbose        print the library's messages\n"
	       "  -h, --help           show this help and exit\n"
	       "  -V, --version        show the version and exit\n"
	       "\n"
	       "'%s COMMAND --help' describes a command. Exit status: 0 success,\n"
	       "1 refused or does not fit, 2 bad usage or input, 3 system error.\n",
	       prog);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "sysroot", required_argument, NULL, 1 },
		{ "state-dir", required_argument, NULL, 2 },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 }
	};
	struct ctl c = { 0 };
	int opt;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:vhV", lo, NULL)) != -1) {
		switch (opt) {
		case 1: c.sysroot = optarg; break;
		case 2: c.state_dir = optarg; break;
		case 'v': c.verbose = 1; break;
		case 'h': help(); return EXIT_OK;
		case 'V':
			printf("poolctl from rampool %s\n", rampool_version());
			return EXIT_OK;
		default:
			return opt_error(NULL, opt, argv);
		}
	}
	if (optind == argc)
		return usage_error("no command given");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(argv[optind], commands[i].name))
			return commands[i].fn(&c, argc - optind,
					      argv + optind);
	return usage_error("unknown command '%s'", argv[optind]);
}
