/* SPDX-License-Identifier: BSD-2-Clause */
/* liburcu urcu-memb for writer.c: inline read side (_LGPL_SOURCE), urcu_memb_synchronize_rcu. */
#define _LGPL_SOURCE
#include <urcu/urcu-memb.h>

#include "bench/scaling/writer.h"

static struct scaling_object *urcu_slot = &scaling_object;

static void urcu_reader_register(int i)
{
	(void)i;
	urcu_memb_register_thread();
}

static void urcu_read_loop(int i, const atomic_bool *stop)
{
	(void)i;
	while (!atomic_load_explicit(stop, memory_order_relaxed)) {
		urcu_memb_read_lock();
		scaling_use(rcu_dereference(urcu_slot));
		urcu_memb_read_unlock();
	}
}

static void urcu_reader_unregister(int i)
{
	(void)i;
	urcu_memb_unregister_thread();
}

const struct scaling_op scaling_urcu_memb = {
	.name = "urcu_memb_synchronize_rcu",
	.reader_register = urcu_reader_register,
	.read_loop = urcu_read_loop,
	.reader_unregister = urcu_reader_unregister,
	.writer = urcu_memb_synchronize_rcu,
};
