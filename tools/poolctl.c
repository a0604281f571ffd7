// SPDX-License-Identifier: LGPL-2.1-or-later
/* poolctl.c: the command line over librampool's public interface: global options and the command table. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmds.h"
#include "common.h"

static const struct cmd commands[] = {
	{ "status", cmd_status,
	  "kernel memory per node and page size, and the pool's share",
	  status_options },
	{ "reserve", cmd_reserve, "reserve capacity under a name, all or nothing",
	  reserve_options },
	{ "release", cmd_release, "release a reservation and every page of it",
	  release_options },
	{ "grow", cmd_grow, "grow a reservation (headroom first, else a check)",
	  grow_options },
	{ "path", cmd_path, "print a reservation's backing file, for a VMM",
	  path_options },
	{ "list", cmd_list, "list the reservations of the ledger",
	  list_options },
	{ "show", cmd_show, "show one reservation, per node", list_options },
	{ "audit", cmd_audit, "compare the ledger with files, mounts and kernel",
	  audit_options },
	{ "discard", cmd_discard,
	  "give a reservation's pages back, its capacity kept",
	  discard_options },
	{ "check", cmd_check,
	  "will a VM (manifest, QEMU stream) fit here now?", check_options },
	{ "warm", cmd_warm,
	  "pre-zeroed slots claimed at once: targets, fill, show",
	  warm_options },
	{ "metrics", cmd_metrics,
	  "Prometheus metrics per node and page size (--textfile DIR)",
	  metrics_options },
	{ "pages", cmd_pages,
	  "set the kernel's hugepage pool per node, never below the pool's",
	  pages_options },
	{ "apply", cmd_apply,
	  "make the host match /etc/rampool/pool.conf (rampool.conf(5))",
	  apply_options },
};

static const struct option global_options[] = {
	{ "sysroot", required_argument, NULL, 1 },
	{ "state-dir", required_argument, NULL, 2 },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ 0 }
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

/* Long options one a line, "--NAME=" when one needs a value. */
static int print_options(const struct option *o)
{
	for (; o && o->name; o++)
		printf("--%s%s\n", o->name,
		       o->has_arg == required_argument ? "=" : "");
	return finish_output();
}

/*
 * Hidden, for the bash completion (completion/poolctl), from the table:
 * "__complete commands" prints the commands, "__complete options [COMMAND]"
 * COMMAND's long options (without COMMAND the global ones). EXIT_*.
 */
static int complete(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "commands")) {
		for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
			printf("%s\n", commands[i].name);
		return finish_output();
	}
	if (argc == 2 && !strcmp(argv[1], "options"))
		return print_options(global_options);
	for (size_t i = 0; argc == 3 && !strcmp(argv[1], "options") &&
			   i < ARRAY_SIZE(commands); i++)
		if (!strcmp(argv[2], commands[i].name))
			return print_options(commands[i].opts);
	return usage_error("__complete: 'commands' or 'options [COMMAND]'");
}

int main(int argc, char **argv)
{
	struct ctl c = { 0 };
	int opt;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:vhV", global_options,
				  NULL)) != -1) {
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
	if (!strcmp(argv[optind], "__complete"))
		return complete(argc - optind, argv + optind);
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(argv[optind], commands[i].name))
			return commands[i].fn(&c, argc - optind,
					      argv + optind);
	return usage_error("unknown command '%s'", argv[optind]);
}
