/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Drop alerts (cmd/drops.c): the first loss alerts at once, later ones
 * wait for the interval and are carried into the next alert, so the
 * alerts add up to the kernel's counters; the alert has Falco's shape.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "drops.h"

#define S 1000000000ull

static struct drops_counts c(uint64_t emitted, uint64_t drops, uint64_t oversize)
{
	return (struct drops_counts){ emitted, drops, oversize };
}

static void test_quiet_never_alerts(void **state)
{
	struct drops_watch w;
	struct drops_report r;
	struct drops_counts now = c(100, 0, 0);

	(void)state;
	drops_watch_init(&w, &now, 1 * S, 30 * S);
	for (uint64_t t = 2; t < 100; t++) {
		now.emitted += 1000;
		assert_false(drops_watch_check(&w, &now, t * S, &r));
	}
	assert_int_equal(w.alerts, 0);
}

static void test_rate_limited_and_nothing_lost(void **state)
{
	struct drops_watch w;
	struct drops_report r;
	struct drops_counts now = c(0, 5, 0); /* drops before the start are not ours */
	uint64_t reported = 0;

	(void)state;
	drops_watch_init(&w, &now, 1 * S, 30 * S);
	/* first loss: at once */
	now = c(1000, 12, 1);
	assert_true(drops_watch_check(&w, &now, 2 * S, &r));
	assert_int_equal(r.delta.drops, 7);
	assert_int_equal(r.delta.oversize, 1);
	assert_int_equal(r.delta.emitted, 1000);
	assert_int_equal(r.span_ns, 1 * S);
	reported += r.delta.drops;
	/* more losses within 30 s: held */
	for (uint64_t t = 3; t < 32; t++) {
		now.drops += 10;
		now.emitted += 100;
		assert_false(drops_watch_check(&w, &now, t * S, &r));
	}
	assert_int_equal(w.held, 29);
	/* the interval is over: everything held comes out */
	now.drops += 1;
	assert_true(drops_watch_check(&w, &now, 32 * S, &r));
	assert_int_equal(r.delta.drops, 291);
	assert_int_equal(r.delta.oversize, 0);
	assert_int_equal(r.total.drops, now.drops);
	assert_int_equal(r.span_ns, 30 * S);
	reported += r.delta.drops;
	assert_int_equal(reported, now.drops - 5);
	assert_int_equal(w.alerts, 2);
	/* quiet again, then a loss after the interval: at once */
	assert_false(drops_watch_check(&w, &now, 40 * S, &r));
	now.oversize += 2;
	assert_true(drops_watch_check(&w, &now, 70 * S, &r));
	assert_int_equal(r.delta.oversize, 2);
	assert_int_equal(r.delta.drops, 0);
	assert_int_equal(r.span_ns, 30 * S);
}

static void test_counter_reset_is_new(void **state)
{
	struct drops_watch w;
	struct drops_report r;
	struct drops_counts now = c(5000, 40, 0);

	(void)state;
	drops_watch_init(&w, &now, 1 * S, 30 * S);
	now = c(10, 3, 0); /* the sensors were reloaded */
	assert_true(drops_watch_check(&w, &now, 2 * S, &r));
	assert_int_equal(r.delta.drops, 3);
	assert_int_equal(r.delta.emitted, 10);
}

static const char *field(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void test_falco_shape(void **state)
{
	struct drops_report r = {
		.delta = c(900, 95, 5), .total = c(5000, 1000, 7), .span_ns = 1500000000ull,
	};
	struct jw w;
	cJSON *j, *of, *tags, *resp;
	char text[512];

	(void)state;
	jw_init(&w);
	assert_int_equal(drops_alert_json(&w, &r, "node-1", 1700000000123456789ull), 0);
	j = cJSON_Parse(jw_cstr(&w));
	assert_non_null(j);
	assert_string_equal(field(j, "rule"), DROPS_RULE);
	assert_string_equal(field(j, "source"), "internal");
	assert_string_equal(field(j, "priority"), "Critical");
	assert_string_equal(field(j, "hostname"), "node-1");
	assert_string_equal(field(j, "time"), "2023-11-14T22:13:20.123456789Z");
	of = cJSON_GetObjectItemCaseSensitive(j, "output_fields");
	assert_non_null(of);
	assert_string_equal(field(of, "n_evts"), "1000");
	assert_string_equal(field(of, "n_drops"), "100");
	assert_string_equal(field(of, "n_drops_buffer_total"), "95");
	assert_string_equal(field(of, "n_drops_oversize"), "5");
	assert_string_equal(field(of, "n_drops_total"), "1007");
	assert_string_equal(field(of, "interval_ms"), "1500");
	tags = cJSON_GetObjectItemCaseSensitive(j, "tags");
	assert_true(cJSON_IsArray(tags));
	resp = cJSON_GetObjectItemCaseSensitive(j, "response");
	assert_true(cJSON_IsArray(resp) && cJSON_GetArraySize(resp) == 0);
	drops_alert_text(&r, text, sizeof(text));
	assert_string_equal(field(j, "output"), text);
	assert_non_null(strstr(text, "100 events dropped in the last 1.500 s"));
	assert_non_null(strstr(text, "1007 since start"));
	cJSON_Delete(j);
	jw_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quiet_never_alerts),
		cmocka_unit_test(test_rate_limited_and_nothing_lost),
		cmocka_unit_test(test_counter_reset_is_new),
		cmocka_unit_test(test_falco_shape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
