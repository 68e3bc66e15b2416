/* tepoch: registry, the epoch step, synchronize, retire lists (see tepoch.h for the argument). */
#define _GNU_SOURCE
#include "patterns/epoch/tepoch.h"

#include <stdlib.h>

#include "patterns/common/futex.h"
#include "patterns/common/misuse.h"
#include "scenario/hooks.h"

/* Scans an advancer makes, a few ns each, before it pays a membarrier or sleeps. */
#define TEPOCH_SPIN_SCANS 1000
/* Scans before a membarrier settles records seen idle: a busy reader moves on sooner. */
#define TEPOCH_IDLE_SCANS 64

bool tepoch_membarrier;

/*
 * Decided once, before main() and so before any reader exists: a reader that skipped its fence
 * while an advancer relied on membarrier would be a real bug.
 */
__attribute__((constructor)) static void tepoch_init_membarrier(void)
{
	tepoch_membarrier = asym_fence_setup("TEPOCH_NO_MEMBARRIER");
}

bool tepoch_uses_membarrier(void)
{
	return tepoch_membarrier;
}

/* The advancer's half of every store-load pair: a full barrier in each running reader too. */
static void tepoch_advancer_fence(void)
{
	asym_fence_heavy(tepoch_membarrier, "epoch");
}

static inline unsigned long epoch_of(unsigned long word)
{
	return word >> TEPOCH_EPOCH_SHIFT;
}

static void list_init(struct tepoch_list *l)
{
	l->head = NULL;
	l->tail = &l->head;
}

static void list_append(struct tepoch_list *l, struct tepoch_list *from)
{
	if (!from->head)
		return;
	*l->tail = from->head;
	l->tail = from->tail;
	list_init(from);
}

void tepoch_init(struct tepoch *d)
{
	atomic_init(&d->section, TEPOCH_REGISTERED | TEPOCH_EPOCH_ONE);	/* epoch 1 */
	atomic_init(&d->writer_waiting, 0);
	pthread_mutex_init(&d->gp_lock, NULL);
	pthread_mutex_init(&d->registry_lock, NULL);
	d->records = NULL;
	list_init(&d->orphans);
	d->n_orphans = 0;
}

void tepoch_destroy(struct tepoch *d)
{
	if (d->records)
		teardown_misuse("epoch", "tepoch_destroy with a record still registered");
	if (d->n_orphans)
		teardown_misuse("epoch", "tepoch_destroy with %zu retired entries not yet destroyed "
			       "(call tepoch_barrier first)", d->n_orphans);
	pthread_mutex_destroy(&d->gp_lock);
	pthread_mutex_destroy(&d->registry_lock);
}

unsigned long tepoch_epoch(struct tepoch *d)
{
	return epoch_of(atomic_load_explicit(&d->section, memory_order_acquire));
}

unsigned long tepoch_enter_slow(unsigned long w)
{
	if (!(w & TEPOCH_REGISTERED))
		teardown_misuse("epoch", "tepoch_enter on a record that is not registered");
	if ((w & TEPOCH_NEST_MASK) == TEPOCH_NEST_MASK)
		teardown_misuse("epoch", "tepoch_enter nested more than %lu deep",
				TEPOCH_NEST_MASK - 1);
	return w + 1;	/* nested: same section, same epoch */
}

void tepoch_exit_misuse(unsigned long w)
{
	if (!(w & TEPOCH_REGISTERED))
		teardown_misuse("epoch", "tepoch_exit on a record that is not registered");
	teardown_misuse("epoch", "tepoch_exit without a matching tepoch_enter");
}

void tepoch_wake_advancer(struct tepoch *d)
{
	if (atomic_exchange_explicit(&d->writer_waiting, 0, memory_order_relaxed))
		futex_wake_all(&d->writer_waiting);
}

void tepoch_register(struct tepoch *d, struct tepoch_record *r)
{
	if (atomic_load_explicit(&r->word, memory_order_relaxed) & TEPOCH_REGISTERED)
		teardown_misuse("epoch", "tepoch_register on a record already registered");
	r->domain = d;
	list_init(&r->pending);
	r->n_pending = 0;
	r->n_retired = r->n_destroyed = 0;
	pthread_mutex_lock(&d->registry_lock);
	r->prev = NULL;
	r->next = d->records;
	if (d->records)
		d->records->prev = r;
	d->records = r;
	/* Outside any section, at epoch 0: an advancer in progress settles us with its fence. */
	atomic_store_explicit(&r->word, TEPOCH_REGISTERED, memory_order_relaxed);
	pthread_mutex_unlock(&d->registry_lock);
}

static unsigned long tepoch_check_outside(struct tepoch_record *r, const char *what)
{
	unsigned long w = atomic_load_explicit(&r->word, memory_order_relaxed);

	if (!(w & TEPOCH_REGISTERED))
		teardown_misuse("epoch", "%s on a record that is not registered", what);
	if (w & TEPOCH_NEST_MASK)
		teardown_misuse("epoch", "%s inside an epoch section (it would wait for itself "
			       "forever)", what);
	return w;
}

void tepoch_unregister(struct tepoch_record *r)
{
	struct tepoch *d = r->domain;

	tepoch_check_outside(r, "tepoch_unregister");
	pthread_mutex_lock(&d->registry_lock);
	if (r->prev)
		r->prev->next = r->next;
	else
		d->records = r->next;
	if (r->next)
		r->next->prev = r->prev;
	list_append(&d->orphans, &r->pending);
	d->n_orphans += r->n_pending;
	r->n_pending = 0;
	atomic_store_explicit(&r->word, 0, memory_order_relaxed);
	pthread_mutex_unlock(&d->registry_lock);
}

/* quote: call */
void tepoch_call(struct tepoch_record *r, struct tepoch_entry *entry,
		 void (*destroy)(struct tepoch_entry *entry))
{
	if (!(atomic_load_explicit(&r->word, memory_order_relaxed) & TEPOCH_REGISTERED))
		teardown_misuse("epoch", "tepoch_call on a record that is not registered");
	if (!destroy)
		teardown_misuse("epoch", "tepoch_call with a NULL destructor");
	entry->destroy = destroy;
	entry->next = NULL;
	/*
	 * seq_cst read-modify-write, after the caller's unpublish: heads a release sequence that
	 * every later step of the epoch continues (argument 1 in tepoch.h).
	 */
	entry->epoch = epoch_of(atomic_fetch_add_explicit(&r->domain->section, 0,
							  memory_order_seq_cst));
	r->newest_pending = entry->epoch;
	*r->pending.tail = entry;
	r->pending.tail = &entry->next;
	r->n_pending++;
	r->n_retired++;
}
/* end quote: call */

/* What one scan found: records that block the step from epoch e, for the two reasons. */
struct tepoch_scan {
	unsigned in_old_section;	/* inside a section that began before e: wait for it */
	unsigned idle_unsettled;	/* outside, last seen before e: a membarrier settles it */
};

static struct tepoch_scan tepoch_scan(struct tepoch *d, struct tepoch_record *self,
				      unsigned long e)
{
	struct tepoch_scan s = { 0, 0 };

	for (struct tepoch_record *r = d->records; r; r = r->next) {
		/* acquire: pairs with the reader's release stores (argument 4). */
		unsigned long w = atomic_load_explicit(&r->word, memory_order_acquire);

		if (r == self || epoch_of(w) == e)
			continue;	/* ourselves (outside, checked), or moved on to e */
		if (w & TEPOCH_NEST_MASK)
			s.in_old_section++;
		else
			s.idle_unsettled++;
	}
	return s;
}

/*
 * Waits until no record is inside a section that began before epoch e: each is at e, or seen
 * outside any section after a membarrier issued since e was loaded. With may_block, spins,
 * then sleeps on a futex (dropping registry_lock meanwhile); without, returns false rather than
 * wait. Called with gp_lock and registry_lock held.
 */
/* quote: wait_for */
static bool tepoch_wait_for(struct tepoch *d, struct tepoch_record *self, unsigned long e,
			    bool may_block)
{
	bool fenced = false;	/* a membarrier since e was loaded: idle records are settled */
	struct tepoch_scan s;

	for (unsigned scans = 0;; scans++) {
		s = tepoch_scan(d, self, e);
		if (!s.in_old_section && (!s.idle_unsettled || fenced))
			break;
		if (!may_block && (s.in_old_section || fenced))
			return false;	/* a reader is in the way: tepoch_poll() does not wait */
		if (may_block && scans < (s.in_old_section ? TEPOCH_SPIN_SCANS : TEPOCH_IDLE_SCANS)) {
			teardown_cpu_relax();	/* busy readers move on to e by themselves */
			continue;
		}
		if (!s.in_old_section) {
			tepoch_advancer_fence();	/* settles the idle ones (argument 3) */
			fenced = true;
			continue;
		}
		SCENARIO_NOTE("epoch %lu: %u reader(s) still in an older section; sleeps", e,
			      s.in_old_section);
		SCENARIO_TEARDOWN_BLOCKS();
		atomic_store_explicit(&d->writer_waiting, 1, memory_order_relaxed);
		/* writer_waiting, then the words: pairs with tepoch_exit() (word, then flag). */
		tepoch_advancer_fence();
		fenced = true;
		s = tepoch_scan(d, self, e);
		if (s.in_old_section) {
			pthread_mutex_unlock(&d->registry_lock);
			futex_wait_while(&d->writer_waiting, 1);
			pthread_mutex_lock(&d->registry_lock);
		}
		atomic_store_explicit(&d->writer_waiting, 0, memory_order_relaxed);
	}
	return true;
}
/* end quote: wait_for */

/*
 * One step of the epoch, from e to e + 1, once no section older than e remains. Returns false
 * (without waiting) if !may_block and a reader is in the way. Called with gp_lock held.
 */
static bool tepoch_advance(struct tepoch *d, struct tepoch_record *self, unsigned long e,
			   bool may_block)
{
	unsigned long from = TEPOCH_REGISTERED | e << TEPOCH_EPOCH_SHIFT;
	bool clear;

	pthread_mutex_lock(&d->registry_lock);
	clear = tepoch_wait_for(d, self, e, may_block);
	pthread_mutex_unlock(&d->registry_lock);
	if (!clear)
		return false;
	/* seq_cst read-modify-write: continues the release sequence (argument 1). */
	if (atomic_compare_exchange_strong_explicit(&d->section, &from, from + TEPOCH_EPOCH_ONE,
						    memory_order_seq_cst, memory_order_acquire))
		SCENARIO_NOTE("epoch %lu -> %lu", e, e + 1);
	return true;	/* if the exchange failed, another thread already moved it on */
}

/* Moves the epoch to at least target. */
static bool tepoch_advance_to(struct tepoch *d, struct tepoch_record *self, unsigned long target,
			      bool may_block)
{
	unsigned long e;

	while ((e = tepoch_epoch(d)) < target)
		if (!tepoch_advance(d, self, e, may_block))
			return false;
	return true;
}

/* Runs the destructors of l's entries retired before epoch `safe_below`; returns how many. */
static size_t tepoch_run(struct tepoch_list *l, unsigned long safe_below)
{
	size_t n = 0;

	while (l->head && l->head->epoch < safe_below) {
		struct tepoch_entry *entry = l->head;

		l->head = entry->next;
		if (!l->head)
			l->tail = &l->head;
		entry->destroy(entry);	/* entry is gone from here on */
		n++;
	}
	return n;
}

static void tepoch_reclaim_own(struct tepoch_record *r, unsigned long safe_below)
{
	size_t n = tepoch_run(&r->pending, safe_below);

	r->n_pending -= n;
	r->n_destroyed += n;
}

/* quote: poll */
size_t tepoch_poll(struct tepoch_record *r)
{
	struct tepoch *d = r->domain;
	size_t before = r->n_destroyed;

	tepoch_check_outside(r, "tepoch_poll");
	if (r->pending.head && pthread_mutex_trylock(&d->gp_lock) == 0) {
		/* Enough steps for the newest entry; gives up at once if a reader is in the way. */
		tepoch_advance_to(d, r, r->newest_pending + 2, false);
		pthread_mutex_unlock(&d->gp_lock);
	}
	/* Entries retired at t are safe once the epoch reached t + 2 (tepoch.h). */
	tepoch_reclaim_own(r, tepoch_epoch(d) - 1);
	return r->n_destroyed - before;
}
/* end quote: poll */

/* quote: synchronize */
/* Returns the epoch it waited for: every entry retired before it (tag below it) is safe. */
static unsigned long tepoch_grace_period(struct tepoch_record *r, const char *caller)
{
	struct tepoch *d = r->domain;
	unsigned long e, from;

	tepoch_check_outside(r, caller);
	pthread_mutex_lock(&d->gp_lock);
	pthread_mutex_lock(&d->registry_lock);
	do {
		e = tepoch_epoch(d);
		tepoch_wait_for(d, r, e, true);	/* usually at once: readers are at e already */
		from = TEPOCH_REGISTERED | e << TEPOCH_EPOCH_SHIFT;
		/*
		 * seq_cst read-modify-write after the caller's unpublish, as in tepoch_call(): a
		 * reader that sees e + 1 cannot find what the caller unpublished (argument 1).
		 */
	} while (!atomic_compare_exchange_strong_explicit(&d->section, &from,
							  from + TEPOCH_EPOCH_ONE,
							  memory_order_seq_cst,
							  memory_order_acquire));
	SCENARIO_NOTE("epoch %lu -> %lu", e, e + 1);
	/* So every section that began at e or before, the only ones that could hold it, ended. */
	tepoch_wait_for(d, r, e + 1, true);
	pthread_mutex_unlock(&d->registry_lock);
	pthread_mutex_unlock(&d->gp_lock);
	SCENARIO_NOTE("tepoch_synchronize: every section older than epoch %lu has ended", e + 1);
	return e + 1;
}

void tepoch_synchronize(struct tepoch_record *r)
{
	tepoch_grace_period(r, "tepoch_synchronize");
}
/* end quote: synchronize */

/* quote: barrier */
void tepoch_barrier(struct tepoch_record *r)
{
	struct tepoch *d = r->domain;
	struct tepoch_list safe, later;
	unsigned long safe_below;
	size_t n_safe = 0;

	safe_below = tepoch_grace_period(r, "tepoch_barrier");	/* all retired before the call */
	tepoch_reclaim_own(r, safe_below);
	/* Orphans come from several records, in no order: sort out the safe ones under the lock. */
	list_init(&safe);
	list_init(&later);
	pthread_mutex_lock(&d->registry_lock);
	for (struct tepoch_entry *e = d->orphans.head, *next; e; e = next) {
		struct tepoch_list *to = e->epoch < safe_below ? &safe : &later;

		next = e->next;
		e->next = NULL;
		*to->tail = e;
		to->tail = &e->next;
		n_safe += to == &safe;
	}
	list_init(&d->orphans);
	list_append(&d->orphans, &later);
	d->n_orphans -= n_safe;
	pthread_mutex_unlock(&d->registry_lock);
	tepoch_run(&safe, safe_below);
}
/* end quote: barrier */
