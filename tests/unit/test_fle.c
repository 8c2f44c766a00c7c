/*
 * test_fle.c: fast leader election (core/fle.h).
 *
 * The codecs (the notification in its three sizes, the election hello),
 * the vote order, and whole elections among 3, 5 and 7 instances in a small
 * seeded message world (every message goes through the encoder and the
 * decoder, with drawn delays, optional loss, and partitions): everyone
 * decides the best vote, one leader; a minority cut off decides nothing;
 * a restarted server joins an established ensemble through the votes of
 * established servers but never follows a leader that does not say it
 * leads; a server whose data is untrusted never votes; an observer ends
 * OBSERVING and is never elected.
 */
#include "test_util.h"

#include "err.h"
#include "fle.h"
#include "jute.h"
#include "prng.h"

/* --- codecs --- */

static void test_notification_codec(void **state)
{
	struct pd_vote v = {7, PD_ZXID_MAKE(3, 9), 12, 3, PD_PEER_LEADING}, back;
	uint8_t buf[128];
	size_t n;
	(void)state;
	n = pd_fle_encode(&v, "server.1=a:1:2", 14, buf, sizeof(buf));
	assert_int_equal(n, 44 + 14);
	assert_int_equal(pd_be32(buf + 36), 2); /* version */
	assert_int_equal(pd_fle_decode(buf, n, &back), 0);
	assert_true(back.leader == 7 && back.zxid == PD_ZXID_MAKE(3, 9) && back.round == 12 && back.peer_epoch == 3 &&
		    back.state == PD_PEER_LEADING);
	/* the 40- and 36-byte forms keep peerEpoch; the 28-byte one takes the zxid's epoch */
	assert_int_equal(pd_fle_decode(buf, 40, &back), 0);
	assert_true(back.peer_epoch == 3);
	pd_put_be64(buf + 28, 99);
	assert_int_equal(pd_fle_decode(buf, 36, &back), 0);
	assert_true(back.peer_epoch == 99);
	assert_int_equal(pd_fle_decode(buf, 28, &back), 0);
	assert_true(back.peer_epoch == 3 && back.round == 12);
	/* malformed: short, an unknown state, a configuration longer than the message */
	assert_int_equal(pd_fle_decode(buf, 27, &back), PD_EPROTO);
	pd_put_be32(buf, 4);
	assert_int_equal(pd_fle_decode(buf, n, &back), PD_EPROTO);
	pd_put_be32(buf, 0);
	pd_put_be32(buf + 40, 15);
	assert_int_equal(pd_fle_decode(buf, n, &back), PD_EPROTO);
	/* too small a buffer */
	assert_int_equal(pd_fle_encode(&v, NULL, 0, buf, 43), 0);
}

static void test_hello_codec(void **state)
{
	uint8_t buf[64];
	uint64_t sid = 0;
	size_t n;
	(void)state;
	n = pd_fle_hello_encode(3, "127.0.0.1:3888", buf, sizeof(buf));
	assert_int_equal(n, 20 + 14);
	assert_true((int64_t)pd_be64(buf) == PD_FLE_HELLO_V2);
	assert_int_equal(pd_fle_hello_decode(buf, n, &sid), (long)n);
	assert_true(sid == 3);
	assert_int_equal(pd_fle_hello_decode(buf, n - 1, &sid), 0); /* partial: more to come */
	assert_int_equal(pd_fle_hello_decode(buf, 7, &sid), 0);
	/* the pre-3.5 hello: the sid alone */
	pd_put_be64(buf, 5);
	assert_int_equal(pd_fle_hello_decode(buf, 8, &sid), 8);
	assert_true(sid == 5);
	/* an unknown protocol version, an address of 0 or 2049 bytes */
	pd_put_be64(buf, (uint64_t)-7);
	assert_int_equal(pd_fle_hello_decode(buf, n, &sid), -1);
	pd_put_be64(buf, (uint64_t)PD_FLE_HELLO_V1);
	pd_put_be32(buf + 16, 0);
	assert_int_equal(pd_fle_hello_decode(buf, n, &sid), -1);
	pd_put_be32(buf + 16, 2049);
	assert_int_equal(pd_fle_hello_decode(buf, n, &sid), -1);
	assert_int_equal(pd_fle_hello_encode(3, "", buf, sizeof(buf)), 0);
}

static void test_vote_order(void **state)
{
	struct pd_vote a = {1, PD_ZXID_MAKE(1, 100), 1, 2, PD_PEER_LOOKING};
	struct pd_vote b = {3, PD_ZXID_MAKE(2, 1), 1, 1, PD_PEER_LOOKING};
	(void)state;
	assert_true(pd_fle_better(&a, &b));   /* the epoch first */
	b.peer_epoch = 2;
	assert_true(pd_fle_better(&b, &a));   /* then the zxid */
	b.zxid = a.zxid;
	assert_true(pd_fle_better(&b, &a));   /* then the sid */
	assert_false(pd_fle_better(&a, &b));
	assert_false(pd_fle_better(&a, &a));
}

/* --- a small message world --- */

#define W_MAX 8
#define W_MSGS 4096

struct w_msg {
	uint64_t at;
	uint32_t from, to;
	size_t len;
	uint8_t bytes[64];
};

struct world {
	struct pd_fle f[W_MAX];
	uint32_t n;
	bool up[W_MAX];
	bool cut[W_MAX][W_MAX];
	uint64_t epoch[W_MAX];
	pd_zxid zxid[W_MAX];
	bool decided[W_MAX];
	enum pd_peer_state role[W_MAX];
	uint64_t leader[W_MAX];
	struct w_msg q[W_MSGS];
	uint32_t qn;
	uint64_t now;
	struct pd_prng prng;
	uint32_t loss_pct;
	uint64_t sent, lost;
};

/* sids are index + 1 */
static void w_init(struct world *w, uint32_t n, uint32_t voters, uint64_t seed)
{
	uint64_t vs[W_MAX], obs[W_MAX];
	uint32_t i;
	memset(w, 0, sizeof(*w));
	w->n = n;
	w->now = 1000;
	pd_prng_seed(&w->prng, seed);
	for (i = 0; i < n; i++) {
		if (i < voters)
			vs[i] = i + 1;
		else
			obs[i - voters] = i + 1;
	}
	for (i = 0; i < n; i++) {
		assert_int_equal(pd_fle_init(&w->f[i], i + 1, vs, voters, obs, n - voters), 0);
		w->up[i] = true;
	}
}

static void w_flush(struct world *w, uint32_t i)
{
	struct pd_fle *f = &w->f[i];
	uint32_t k;
	for (k = 0; k < f->out_count; k++) {
		struct w_msg *m;
		uint32_t to = (uint32_t)f->out[k].to - 1;
		w->sent++;
		if (w->loss_pct > 0 && pd_prng_below(&w->prng, 100) < w->loss_pct) {
			w->lost++;
			continue;
		}
		assert_true(w->qn < W_MSGS);
		m = &w->q[w->qn++];
		m->at = w->now + 1 + pd_prng_below(&w->prng, 20);
		m->from = i;
		m->to = to;
		m->len = pd_fle_encode(&f->out[k].vote, NULL, 0, m->bytes, sizeof(m->bytes));
		assert_true(m->len > 0);
	}
	f->out_count = 0;
}

static void w_look(struct world *w, uint32_t i)
{
	w->decided[i] = false;
	pd_fle_look(&w->f[i], w->now, w->epoch[i], w->zxid[i]);
	w_flush(w, i);
}

static void w_take_decision(struct world *w, uint32_t i)
{
	enum pd_peer_state st;
	uint64_t leader;
	if (!pd_fle_decision(&w->f[i], &st, &leader))
		return;
	w->decided[i] = true;
	w->role[i] = st;
	w->leader[i] = leader;
	/* the node would run discovery now; here the role settles at once */
	pd_fle_settle(&w->f[i], st, leader, w->f[i].prop.zxid, w->f[i].prop.peer_epoch);
}

/* Runs until `until`: messages in time order, timers at their deadlines. */
static void w_run(struct world *w, uint64_t until)
{
	while (w->now < until) {
		uint64_t next = until;
		uint32_t i, m = UINT32_MAX;
		for (i = 0; i < w->qn; i++)
			if (w->q[i].at < next || (w->q[i].at == next && m == UINT32_MAX)) {
				next = w->q[i].at;
				m = i;
			}
		for (i = 0; i < w->n; i++) {
			uint64_t d = w->up[i] ? pd_fle_deadline(&w->f[i]) : 0;
			if (d != 0 && d < next) {
				next = d;
				m = UINT32_MAX;
			}
		}
		w->now = next;
		if (m != UINT32_MAX) {
			struct w_msg msg = w->q[m];
			struct pd_vote v;
			w->q[m] = w->q[--w->qn];
			if (!w->up[msg.to] || w->cut[msg.from][msg.to])
				continue;
			assert_int_equal(pd_fle_decode(msg.bytes, msg.len, &v), 0);
			pd_fle_receive(&w->f[msg.to], w->now, msg.from + 1, &v);
			w_take_decision(w, msg.to);
			w_flush(w, msg.to);
			continue;
		}
		for (i = 0; i < w->n; i++)
			if (w->up[i] && pd_fle_deadline(&w->f[i]) != 0 && pd_fle_deadline(&w->f[i]) <= w->now) {
				pd_fle_tick(&w->f[i], w->now);
				w_take_decision(w, i);
				w_flush(w, i);
			}
	}
}

/* The best (epoch, zxid, sid) among the given voters. */
static uint64_t w_best(const struct world *w, uint32_t from, uint32_t to)
{
	uint32_t i, best = from;
	for (i = from; i < to; i++) {
		struct pd_vote a = {i + 1, w->zxid[i], 0, w->epoch[i], PD_PEER_LOOKING};
		struct pd_vote b = {best + 1, w->zxid[best], 0, w->epoch[best], PD_PEER_LOOKING};
		if (pd_fle_better(&a, &b))
			best = i;
	}
	return best + 1;
}

/* Everyone up decided; one leader, which is the best vote, followed by all. */
static void w_expect_one_leader(const struct world *w, uint64_t leader)
{
	uint32_t i, leading = 0;
	for (i = 0; i < w->n; i++) {
		if (!w->up[i])
			continue;
		assert_true(w->decided[i]);
		assert_true(w->leader[i] == leader);
		if (w->role[i] == PD_PEER_LEADING) {
			leading++;
			assert_true(i + 1 == leader);
		}
	}
	assert_int_equal(leading, 1);
}

static void test_elections_decide_the_best_vote(void **state)
{
	static struct world w;
	uint64_t seed;
	(void)state;
	for (seed = 1; seed <= 300; seed++) {
		uint32_t n = seed % 3 == 0 ? 7 : seed % 3 == 1 ? 3 : 5, i;
		w_init(&w, n, n, seed);
		for (i = 0; i < n; i++) {
			/* a few distinct histories, ties broken by sid */
			w.epoch[i] = 1 + pd_prng_below(&w.prng, 2);
			w.zxid[i] = PD_ZXID_MAKE(w.epoch[i], pd_prng_below(&w.prng, 3));
		}
		/* they start at different times, all within a finalize wait (a
		 * server that starts later may find the others decided without
		 * it: that is FLE too, and the next tests cover joining late) */
		for (i = 0; i < n; i++) {
			w_run(&w, w.now + pd_prng_below(&w.prng, 20));
			w_look(&w, i);
		}
		w_run(&w, w.now + 5000);
		w_expect_one_leader(&w, w_best(&w, 0, n));
	}
}

static void test_elections_survive_loss(void **state)
{
	static struct world w;
	uint64_t seed;
	(void)state;
	for (seed = 1; seed <= 100; seed++) {
		uint32_t i;
		w_init(&w, 5, 5, seed + 1000);
		w.loss_pct = 20;
		for (i = 0; i < 5; i++) {
			w.epoch[i] = 4;
			w.zxid[i] = PD_ZXID_MAKE(4, pd_prng_below(&w.prng, 10));
			w_look(&w, i);
		}
		w_run(&w, w.now + 300000);
		/* with a fifth of the messages lost everyone still decides (a
		 * late one through the replies of the established servers), and
		 * resends backed off: far fewer sends than 5 x 4 every 200 ms */
		for (i = 0; i < 5; i++)
			assert_true(w.decided[i]);
		assert_true(w.lost > 0);
		assert_true(w.sent < 2000);
	}
}

static void test_a_cut_off_minority_decides_nothing(void **state)
{
	static struct world w;
	uint32_t i, j;
	(void)state;
	w_init(&w, 5, 5, 77);
	for (i = 0; i < 5; i++) {
		w.epoch[i] = 1;
		w.zxid[i] = PD_ZXID_MAKE(1, 5);
	}
	/* 4 and 5 (the best votes) are cut off from 1..3 */
	for (i = 0; i < 5; i++)
		for (j = 0; j < 5; j++)
			w.cut[i][j] = (i >= 3) != (j >= 3);
	for (i = 0; i < 5; i++)
		w_look(&w, i);
	w_run(&w, w.now + 30000);
	assert_false(w.decided[3]);
	assert_false(w.decided[4]);
	assert_true(w.f[3].state == PD_PEER_LOOKING && w.f[3].wait_ms > 10000); /* backed off */
	for (i = 0; i < 3; i++) {
		assert_true(w.decided[i]);
		assert_true(w.leader[i] == 3); /* the best of the majority */
	}
	/* healed: 4 and 5 hear the established servers and follow 3 */
	memset(w.cut, 0, sizeof(w.cut));
	w_run(&w, w.now + 130000);
	w_expect_one_leader(&w, 3);
}

static void test_a_restarted_server_joins_and_a_dead_leader_is_not_followed(void **state)
{
	static struct world w;
	uint32_t i;
	(void)state;
	w_init(&w, 3, 3, 5);
	for (i = 0; i < 3; i++) {
		w.epoch[i] = 2;
		w.zxid[i] = PD_ZXID_MAKE(2, 10 + i);
		w_look(&w, i);
	}
	w_run(&w, w.now + 5000);
	w_expect_one_leader(&w, 3);
	/* 1 restarts (its round back to 1) while the ensemble lives on in a later round */
	assert_int_equal(pd_fle_init(&w.f[0], 1, (const uint64_t[]){1, 2, 3}, 3, NULL, 0), 0);
	w.f[1].round = w.f[2].round = 40;
	w.f[1].prop.round = w.f[2].prop.round = 40;
	w_look(&w, 0);
	w_run(&w, w.now + 5000);
	assert_true(w.decided[0] && w.role[0] == PD_PEER_FOLLOWING && w.leader[0] == 3);
	assert_true(w.f[0].round == 40);
	/* now the leader (3) is dead, but 2 still says it follows 3: 1
	 * restarts again and must not follow a leader nobody heard lead */
	w.up[2] = false;
	assert_int_equal(pd_fle_init(&w.f[0], 1, (const uint64_t[]){1, 2, 3}, 3, NULL, 0), 0);
	w_look(&w, 0);
	w_run(&w, w.now + 20000);
	assert_false(w.decided[0]);
}

static void test_untrusted_data_does_not_vote(void **state)
{
	static struct world w;
	uint32_t i;
	(void)state;
	w_init(&w, 3, 3, 9);
	for (i = 0; i < 3; i++) {
		w.epoch[i] = 1;
		w.zxid[i] = PD_ZXID_MAKE(1, 3);
	}
	/* 3 lost its disk: it would win on sid, but it may not vote at all */
	w.zxid[2] = -1;
	for (i = 0; i < 3; i++)
		w_look(&w, i);
	w_run(&w, w.now + 10000);
	assert_true(w.decided[0] && w.decided[1]);
	assert_true(w.leader[0] == 2 && w.leader[1] == 2);
	/* it joins the ensemble the others formed, as a follower */
	assert_true(w.decided[2] && w.role[2] == PD_PEER_FOLLOWING && w.leader[2] == 2);
	/* and it never makes up a quorum: 1 and 2 cannot hear each other, the
	 * wiped 3 hears both; nobody may be elected with its help */
	w_init(&w, 3, 3, 10);
	for (i = 0; i < 3; i++) {
		w.epoch[i] = 1;
		w.zxid[i] = i == 2 ? -1 : PD_ZXID_MAKE(1, 3);
	}
	w.cut[0][1] = w.cut[1][0] = true;
	for (i = 0; i < 3; i++)
		w_look(&w, i);
	w_run(&w, w.now + 30000);
	for (i = 0; i < 3; i++)
		assert_false(w.decided[i]);
}

/* Followers that have not yet noticed their leader died still report it:
 * a quorum of them must not make a restarted server follow a leader that
 * does not itself say it leads. */
static void test_a_dead_leader_is_not_followed_on_hearsay(void **state)
{
	static struct world w;
	uint32_t i;
	(void)state;
	w_init(&w, 5, 5, 21);
	for (i = 0; i < 5; i++) {
		w.epoch[i] = 3;
		w.zxid[i] = PD_ZXID_MAKE(3, 7);
		w_look(&w, i);
	}
	w_run(&w, w.now + 5000);
	w_expect_one_leader(&w, 5);
	w.up[4] = false; /* 2, 3 and 4 still follow 5 */
	assert_int_equal(pd_fle_init(&w.f[0], 1, (const uint64_t[]){1, 2, 3, 4, 5}, 5, NULL, 0), 0);
	w_look(&w, 0);
	w_run(&w, w.now + 20000);
	assert_false(w.decided[0]);
	assert_true(w.f[0].outside_count == 3); /* it did hear them */
}

static void test_an_observer_observes(void **state)
{
	static struct world w;
	uint32_t i;
	(void)state;
	w_init(&w, 4, 3, 11); /* sid 4 observes */
	for (i = 0; i < 4; i++) {
		w.epoch[i] = 1;
		w.zxid[i] = PD_ZXID_MAKE(1, i == 3 ? 100 : 1); /* the observer has the most: irrelevant */
		w_look(&w, i);
	}
	w_run(&w, w.now + 10000);
	for (i = 0; i < 3; i++)
		assert_true(w.decided[i] && w.leader[i] == 3);
	assert_true(w.decided[3] && w.role[3] == PD_PEER_OBSERVING && w.leader[3] == 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_notification_codec),
		cmocka_unit_test(test_hello_codec),
		cmocka_unit_test(test_vote_order),
		cmocka_unit_test(test_elections_decide_the_best_vote),
		cmocka_unit_test(test_elections_survive_loss),
		cmocka_unit_test(test_a_cut_off_minority_decides_nothing),
		cmocka_unit_test(test_a_restarted_server_joins_and_a_dead_leader_is_not_followed),
		cmocka_unit_test(test_untrusted_data_does_not_vote),
		cmocka_unit_test(test_a_dead_leader_is_not_followed_on_hearsay),
		cmocka_unit_test(test_an_observer_observes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
