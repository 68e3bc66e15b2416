/* SPDX-License-Identifier: BSD-2-Clause */
/* tepoch: registry, the epoch step, synchronize, retire lists (see tepoch.h for the argument). */
#define _GNU_SOURCE
#include "patterns/epoch/tepoch.h"

#include <stdlib.h>

#include "patterns/common/compiler.h"
#include "patterns/common/die.h"
#include "patterns/common/futex.h"
#include "patterns/common/misuse.h"
#include "scenario/hooks.h"

/* Scans an advancer makes, a few ns each, before it pays a membarrier or sleeps. */
#define TEPOCH_SPIN_SCANS 1000
/* Scans before a membarrier settles records seen idle: a busy reader moves on sooner. */
#define TEPOCH_IDLE_SCANS 64
/* Scans, without membarrier, for one that sees every record outside: a reader leaves soon. */
#define TEPOCH_ALL_IDLE_SCANS 8

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
static void tepoch_advancer_fence(struct tepoch *d)
{
	asym_fence_heavy(tepoch_membarrier, "epoch");
	d->n_fences++;
}

static inline unsigned long epoch_of(unsigned long word)
{
	return word >> TEPOCH_EPOCH_SHIFT & TEPOCH_EPOCH_MASK;
}

/* The domain's word at epoch e: what an outermost enter copies (plus depth 1). */
static inline unsigned long section_word(unsigned long e)
{
	return TEPOCH_REGISTERED | (e & TEPOCH_EPOCH_MASK) << TEPOCH_EPOCH_SHIFT;
}

/*
 * The steps from epoch `from` to epoch `to`, counted on the field's circle (serial-number
 * arithmetic). Callers read `to` after `from`, so it is never behind: the true count is this
 * one or a whole number of laps more.
 */
static inline unsigned long epoch_steps(unsigned long from, unsigned long to)
{
	return (to - from) & TEPOCH_EPOCH_MASK;
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

void tepoch_init_at(struct tepoch *d, unsigned long epoch)
{
	int err;

	atomic_init(&d->section, section_word(epoch));
	atomic_init(&d->writer_waiting, 0);
	err = pthread_mutex_init(&d->gp_lock, NULL);
	if (err)
		teardown_die("epoch", err, "pthread_mutex_init (gp_lock)");
	err = pthread_mutex_init(&d->registry_lock, NULL);
	if (err)
		teardown_die("epoch", err, "pthread_mutex_init (registry_lock)");
	d->records = NULL;
	list_init(&d->orphans);
	atomic_init(&d->n_orphans, 0);
	d->n_fences = 0;
	d->n_scans = 0;
}

void tepoch_init(struct tepoch *d)
{
	tepoch_init_at(d, 1);
}

void tepoch_destroy(struct tepoch *d)
{
	size_t n_orphans = atomic_load_explicit(&d->n_orphans, memory_order_relaxed);

	if (d->records)
		teardown_misuse("epoch", "tepoch_destroy with a record still registered");
	if (n_orphans)
		teardown_misuse("epoch", "tepoch_destroy with %zu retired entries not yet "
			       "destroyed (call tepoch_barrier first)", n_orphans);
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
				TEPOCH_NEST_MASK);
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
	r->owner = pthread_self();
	list_init(&r->pending);
	r->n_pending = 0;
	r->n_retired = r->n_destroyed = 0;
	pthread_mutex_lock(&d->registry_lock);
	r->prev = NULL;
	r->next = d->records;
	if (d->records)
		d->records->prev = r;
	d->records = r;
	r->seen_word = 0;	/* never a registered word */
	/*
	 * Outside any section, as if it had just left one at the current epoch: its next enter
	 * loads that epoch or a later one (coherence), so a scan may take the word at face value.
	 */
	atomic_store_explicit(&r->word, atomic_load_explicit(&d->section, memory_order_relaxed),
			      memory_order_relaxed);
	pthread_mutex_unlock(&d->registry_lock);
}

/* Reclamation runs outside any section of the domain (tepoch.h): `why` says what goes wrong. */
static void tepoch_check_outside(struct tepoch_record *r, const char *what, const char *why)
{
	unsigned long w = atomic_load_explicit(&r->word, memory_order_relaxed);

	if (!(w & TEPOCH_REGISTERED))
		teardown_misuse("epoch", "%s on a record that is not registered", what);
	if (w & TEPOCH_NEST_MASK)
		teardown_misuse("epoch", "%s inside an epoch section (%s)", what, why);
}

#define TEPOCH_WAITS_FOR_ITSELF "it would wait for itself forever"

void tepoch_unregister(struct tepoch_record *r)
{
	struct tepoch *d = r->domain;
	size_t n_orphans;

	tepoch_check_outside(r, "tepoch_unregister", "no advancer would wait for the rest of it");
	pthread_mutex_lock(&d->registry_lock);
	if (r->prev)
		r->prev->next = r->next;
	else
		d->records = r->next;
	if (r->next)
		r->next->prev = r->prev;
	list_append(&d->orphans, &r->pending);
	/* Relaxed: the count is written only under registry_lock; poll reads it as a hint. */
	n_orphans = atomic_load_explicit(&d->n_orphans, memory_order_relaxed) + r->n_pending;
	atomic_store_explicit(&d->n_orphans, n_orphans, memory_order_relaxed);
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
	unsigned idle_parked;		/* of those, unchanged since before the last step */
	bool own_thread;		/* one in an old section is the caller's thread's */
};

/*
 * Whether r's word w shows a record that has moved on to epoch e. A word the scans saw
 * unchanged across a step was written a whole lap ago if it shows e now.
 */
static bool tepoch_moved_on(struct tepoch_record *r, unsigned long w, unsigned long e)
{
	if (w != r->seen_word) {
		r->seen_word = w;
		r->seen_at = e;
		r->seen_a_lap_ago = false;
	} else if (r->seen_at != e) {
		r->seen_a_lap_ago = true;
	}
	return epoch_of(w) == e && !r->seen_a_lap_ago;
}

static struct tepoch_scan tepoch_scan(struct tepoch *d, struct tepoch_record *self,
				      unsigned long e)
{
	struct tepoch_scan s = { 0, 0, 0, false };

	d->n_scans++;
	for (struct tepoch_record *r = d->records; r; r = r->next) {
		/* acquire: pairs with the reader's release stores (argument 4). */
		unsigned long w = atomic_load_explicit(&r->word, memory_order_acquire);

		if (tepoch_moved_on(r, w, e) || r == self)
			continue;	/* moved on to e, or ourselves (outside, checked) */
		if (w & TEPOCH_NEST_MASK) {
			s.in_old_section++;
			s.own_thread |= pthread_equal(r->owner, self->owner);
		} else {
			s.idle_unsettled++;
			/* Outside for a whole step and more: parked, not about to enter. */
			if (epoch_steps(r->seen_at, e) >= 2)
				s.idle_parked++;
		}
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
	unsigned spins;

	for (unsigned scans = 0;; scans++) {
		s = tepoch_scan(d, self, e);
		if (!s.in_old_section && (!s.idle_unsettled || fenced))
			break;
		if (!may_block && (s.in_old_section || fenced))
			return false;	/* a reader is in the way: poll does not wait */
		if (s.own_thread)
			teardown_misuse("epoch", "a wait by a thread inside a section of the same "
				       "domain, through another record (it would wait for itself "
				       "forever)");
		/*
		 * Busy readers move on to e by themselves, sooner than a membarrier returns. A parked
		 * record will not: a membarrier is due anyway, and settles every idle record at once.
		 */
		if (s.in_old_section)
			spins = TEPOCH_SPIN_SCANS;
		else
			spins = s.idle_parked ? 0 : TEPOCH_IDLE_SCANS;
		if (may_block && scans < spins) {
			teardown_cpu_relax();
			continue;
		}
		if (!s.in_old_section) {
			tepoch_advancer_fence(d);	/* settles the idle ones (argument 3) */
			fenced = true;
			continue;
		}
		SCENARIO_NOTE("epoch %lu: %u reader(s) still in an older section; sleeps", e,
			      s.in_old_section);
		SCENARIO_TEARDOWN_BLOCKS();
		atomic_store_explicit(&d->writer_waiting, 1, memory_order_relaxed);
		/* writer_waiting, then the words: pairs with tepoch_exit() (word, then flag). */
		tepoch_advancer_fence(d);
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
 * The epoch from e to e + 1 (0 after the last). Only gp_lock's holder changes the epoch, and
 * tepoch_call()'s read-modify-write adds 0, so the word still shows e: an exchange suffices.
 */
static void tepoch_step(struct tepoch *d, unsigned long e)
{
	/* seq_cst read-modify-write: continues the release sequence (argument 1). */
	atomic_exchange_explicit(&d->section, section_word(e + 1), memory_order_seq_cst);
	SCENARIO_NOTE("epoch %lu -> %lu", e, (e + 1) & TEPOCH_EPOCH_MASK);
}

/*
 * One step of the epoch, from e to e + 1, once no section older than e remains. Returns false
 * (without waiting) if !may_block and a reader is in the way. Called with gp_lock held.
 */
static bool tepoch_advance(struct tepoch *d, struct tepoch_record *self, unsigned long e,
			   bool may_block)
{
	bool clear;

	pthread_mutex_lock(&d->registry_lock);
	clear = tepoch_wait_for(d, self, e, may_block);
	pthread_mutex_unlock(&d->registry_lock);
	if (clear)
		tepoch_step(d, e);
	return clear;
}

/* Moves the epoch two steps past t (at most two steps: t is never ahead of the epoch). */
static bool tepoch_advance_past(struct tepoch *d, struct tepoch_record *self, unsigned long t,
				bool may_block)
{
	unsigned long e;

	while (epoch_steps(t, e = tepoch_epoch(d)) < 2)
		if (!tepoch_advance(d, self, e, may_block))
			return false;
	return true;
}

/*
 * Runs the destructors of the first `max` entries of l, from the head, while they are safe at
 * epoch `now` (or all `max` of them); returns how many. An entry retired at t is safe once the
 * epoch is two steps past it (tepoch.h); epochs never decrease along l, so the first unsafe one
 * ends the run. `max` is the count when the run began: a destructor may retire another object
 * through the same record, and that entry must wait for a grace period of its own (its epoch
 * may even be later than `now`, which the step count would read as a whole lap old).
 */
static size_t tepoch_run(struct tepoch_list *l, size_t max, unsigned long now, bool all)
{
	size_t n = 0;

	while (n < max && l->head && (all || epoch_steps(l->head->epoch, now) >= 2)) {
		struct tepoch_entry *entry = l->head;

		l->head = entry->next;
		if (!l->head)
			l->tail = &l->head;
		entry->destroy(entry);	/* entry is gone from here on */
		n++;
	}
	return n;
}

static void tepoch_reclaim_own(struct tepoch_record *r, unsigned long now, bool all)
{
	size_t n = tepoch_run(&r->pending, r->n_pending, now, all);

	r->n_pending -= n;
	r->n_destroyed += n;
}

/*
 * Moves the domain's orphans to the end of r's list, tagged with the current epoch: it is no
 * earlier than the epoch each was retired in, which its record read before unregistering (and
 * so before the unlock our lock follows). A later tag only makes an entry wait longer, and
 * keeps the epochs along r's list in order.
 */
/* quote: adopt */
static void tepoch_adopt_orphans(struct tepoch_record *r)
{
	struct tepoch *d = r->domain;
	unsigned long now;
	size_t n;

	/* Relaxed: only a hint; the list and the count are read again under registry_lock. */
	if (!atomic_load_explicit(&d->n_orphans, memory_order_relaxed))
		return;
	pthread_mutex_lock(&d->registry_lock);
	now = tepoch_epoch(d);
	for (struct tepoch_entry *e = d->orphans.head; e; e = e->next)
		e->epoch = now;
	n = atomic_load_explicit(&d->n_orphans, memory_order_relaxed);
	list_append(&r->pending, &d->orphans);
	atomic_store_explicit(&d->n_orphans, 0, memory_order_relaxed);
	pthread_mutex_unlock(&d->registry_lock);
	r->n_pending += n;
	r->newest_pending = now;
}
/* end quote: adopt */

/* quote: poll */
size_t tepoch_poll(struct tepoch_record *r)
{
	struct tepoch *d = r->domain;
	size_t before = r->n_destroyed;

	tepoch_check_outside(r, "tepoch_poll", "poll does not wait for the caller's own section, "
			     "so it could free what that section holds");
	tepoch_adopt_orphans(r);
	if (r->pending.head && pthread_mutex_trylock(&d->gp_lock) == 0) {
		/* Enough steps for the newest entry; gives up at once if a reader is in the way. */
		tepoch_advance_past(d, r, r->newest_pending, false);
		pthread_mutex_unlock(&d->gp_lock);
	}
	tepoch_reclaim_own(r, tepoch_epoch(d), false);
	return r->n_destroyed - before;
}
/* end quote: poll */

/*
 * Without membarrier every reader fences between its enter's store and its first load, as
 * ck_epoch_begin() does. Then a record seen outside any section after the advancer's own fence
 * is settled at once: it has left every section that could hold what the caller unpublished, or
 * it enters later and loads after the unpublish (argument 3 with a fence on each side). If a
 * scan after that fence sees every other record so, the grace period is over without a step:
 * ck_epoch's rule, "all threads inactive". A reader between sections is seen so within a scan
 * or two; one that stays inside, or enters back to back, sends us to the full grace period after
 * TEPOCH_ALL_IDLE_SCANS, so it cannot hold us. With membarrier the advancer's fence would be a
 * membarrier, which costs microseconds while a reader runs; waiting for the reader to move on
 * is cheaper there. Needs registry_lock only: it reads the list, and neither steps the epoch nor
 * touches seen_*.
 */
/* quote: all_idle */
static bool tepoch_others_idle(struct tepoch *d, struct tepoch_record *self)
{
	for (struct tepoch_record *r = d->records; r; r = r->next)
		/* acquire: pairs with the exit's release store (argument 4). */
		if (r != self &&
		    (atomic_load_explicit(&r->word, memory_order_acquire) & TEPOCH_NEST_MASK))
			return false;
	return true;
}

static bool tepoch_all_idle(struct tepoch *d, struct tepoch_record *self)
{
	bool idle = false;

	if (tepoch_membarrier)
		return false;
	pthread_mutex_lock(&d->registry_lock);
	/* The caller's unpublish, then the scans: pairs with the fence in tepoch_enter(). */
	tepoch_advancer_fence(d);
	for (unsigned scans = 0; !idle && scans < TEPOCH_ALL_IDLE_SCANS; scans++) {
		if (scans)
			teardown_cpu_relax();
		idle = tepoch_others_idle(d, self);
	}
	pthread_mutex_unlock(&d->registry_lock);
	return idle;
}
/* end quote: all_idle */

/* quote: synchronize */
static void tepoch_grace_period(struct tepoch_record *r)
{
	struct tepoch *d = r->domain;
	unsigned long e;

	if (tepoch_all_idle(d, r)) {
		SCENARIO_NOTE("tepoch_synchronize: every other record outside any section");
		return;
	}
	/* Lock order: gp_lock, then registry_lock (tepoch.h). */
	pthread_mutex_lock(&d->gp_lock);
	pthread_mutex_lock(&d->registry_lock);
	e = tepoch_epoch(d);
	tepoch_wait_for(d, r, e, true);	/* usually at once: readers are at e already */
	/*
	 * A read-modify-write after the caller's unpublish, as in tepoch_call(): a reader that
	 * sees e + 1 cannot find what the caller unpublished (argument 1).
	 */
	tepoch_step(d, e);
	e = (e + 1) & TEPOCH_EPOCH_MASK;
	/* So every section that began before e, the only ones that could hold it, ended. */
	tepoch_wait_for(d, r, e, true);
	pthread_mutex_unlock(&d->registry_lock);
	pthread_mutex_unlock(&d->gp_lock);
	SCENARIO_NOTE("tepoch_synchronize: every section older than epoch %lu has ended", e);
}

void tepoch_synchronize(struct tepoch_record *r)
{
	tepoch_check_outside(r, "tepoch_synchronize", TEPOCH_WAITS_FOR_ITSELF);
	tepoch_grace_period(r);
}
/* end quote: synchronize */

/* quote: barrier */
void tepoch_barrier(struct tepoch_record *r)
{
	tepoch_check_outside(r, "tepoch_barrier", TEPOCH_WAITS_FOR_ITSELF);
	tepoch_adopt_orphans(r);
	tepoch_grace_period(r);
	/* All of r's list was retired (or adopted) before the grace period began. */
	tepoch_reclaim_own(r, 0, true);
}
/* end quote: barrier */
