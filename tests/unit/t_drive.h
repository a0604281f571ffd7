/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* t_drive.h: the broken-promise check the *_drive.h input drivers share (a unit test may define its own first: a cmocka failure instead of abort). */
#ifndef T_DRIVE_H
#define T_DRIVE_H

#include <stdio.h>
#include <stdlib.h>

#define T_DRIVE_CHECK(cond)						\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "%s:%d: broken: %s\n",		\
				__FILE__, __LINE__, #cond);		\
			abort();					\
		}							\
	} while (0)

#endif
