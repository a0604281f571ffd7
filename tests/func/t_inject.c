// SPDX-License-Identifier: LGPL-2.1-or-later
/* t_inject.c: the --wrap functions of the failure-injection tests: each call counted, the armed one failed. */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/types.h>

#include "t_inject.h"

const char *const t_inj_names[T_INJ_NR] = {
	"malloc", "calloc", "realloc", "strdup", "mmap", "memfd_create",
	"fallocate", "madvise", "pthread_create",
};

static atomic_int armed_fn = -1;	/* which function fails, -1 none */
static atomic_long calls, fail_at;
static atomic_bool fired;

void t_inj_arm(int fn, long nth)
{
	atomic_store(&calls, 0);
	atomic_store(&fail_at, nth);
	atomic_store(&fired, false);
	atomic_store(&armed_fn, fn);
}

void t_inj_disarm(void)
{
	atomic_store(&armed_fn, -1);
}

bool t_inj_fired(void)
{
	return atomic_load(&fired);
}

static bool should_fail(int fn)
{
	if (atomic_load(&armed_fn) != fn)
		return false;
	if (atomic_fetch_add(&calls, 1) + 1 != atomic_load(&fail_at))
		return false;
	atomic_store(&fired, true);
	return true;
}

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
void *__real_mmap(void *a, size_t l, int p, int f, int fd, off_t o);
int __real_memfd_create(const char *name, unsigned int flags);
int __real_fallocate(int fd, int mode, off_t off, off_t len);
int __real_madvise(void *a, size_t l, int adv);
int __real_pthread_create(pthread_t *t, const pthread_attr_t *a,
			  void *(*fn)(void *), void *arg);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
void *__wrap_mmap(void *a, size_t l, int p, int f, int fd, off_t o);
int __wrap_memfd_create(const char *name, unsigned int flags);
int __wrap_fallocate(int fd, int mode, off_t off, off_t len);
int __wrap_madvise(void *a, size_t l, int adv);
int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *a,
			  void *(*fn)(void *), void *arg);

void *__wrap_malloc(size_t n)
{
	if (should_fail(T_INJ_MALLOC)) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t m)
{
	if (should_fail(T_INJ_CALLOC)) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_calloc(n, m);
}

void *__wrap_realloc(void *p, size_t n)
{
	if (should_fail(T_INJ_REALLOC)) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
	if (should_fail(T_INJ_STRDUP)) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_strdup(s);
}

void *__wrap_mmap(void *a, size_t l, int p, int f, int fd, off_t o)
{
	if (should_fail(T_INJ_MMAP)) {
		errno = ENOMEM;
		return MAP_FAILED;
	}
	return __real_mmap(a, l, p, f, fd, o);
}

int __wrap_memfd_create(const char *name, unsigned int flags)
{
	if (should_fail(T_INJ_MEMFD)) {
		errno = EMFILE;
		return -1;
	}
	return __real_memfd_create(name, flags);
}

int __wrap_fallocate(int fd, int mode, off_t off, off_t len)
{
	if (should_fail(T_INJ_FALLOC)) {
		errno = ENOSPC;
		return -1;
	}
	return __real_fallocate(fd, mode, off, len);
}

int __wrap_madvise(void *a, size_t l, int adv)
{
	if (should_fail(T_INJ_MADVISE)) {
		errno = ENOMEM;
		return -1;
	}
	return __real_madvise(a, l, adv);
}

int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *a,
			  void *(*fn)(void *), void *arg)
{
	if (should_fail(T_INJ_PTHREAD))
		return EAGAIN;
	return __real_pthread_create(t, a, fn, arg);
}
