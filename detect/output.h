/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Alert output in Falco's formats.
 *
 * A rule's output format ("... user=%user.name file=%fd.name ...") is
 * compiled once into literal text and field references; %field,
 * %(field), %field[arg] and %evt.arg.name are understood, a '%' that
 * starts no known field stays text, and unavailable values print as
 * <NA>. Like Falco with its suggested output enabled, the fields
 * container_id=%container.id and container_name=%container.name are
 * appended to formats that do not already name them.
 *
 * An alert is the line "<evt.time>: <Priority> <output>" and, as JSON, the
 * object Falco writes (keys in Falco's order, which is alphabetical):
 *
 *   {"hostname":..., "output":<the line>, "output_fields":{"evt.time":<ns>,
 *    "<field>":<value or null>, ...}, "priority":"Warning",
 *    [shrike's "response":[...] through the hook,] "rule":..., "source":"syscall",
 *    "tags":[...], "time":"2024-01-02T03:04:05.123456789Z"}
 */
#ifndef SHRIKE_OUTPUT_H
#define SHRIKE_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "extract.h"
#include "jsonw.h"
#include "rule_compile.h"

/* A growable text buffer, reused from alert to alert. */
struct shk_strbuf {
	char *buf; /* NUL-terminated when non-NULL */
	size_t len, cap;
	bool oom; /* sticky: an allocation failed, the text is cut short */
};

void shk_strbuf_reset(struct shk_strbuf *b);
void shk_strbuf_free(struct shk_strbuf *b);
void shk_strbuf_put(struct shk_strbuf *b, const char *s, size_t n);

struct shk_output;

/* Compile a format. suggested: append Falco's suggested container fields.
 * NULL with errno ENOMEM. fmt NULL is an empty format. */
struct shk_output *shk_output_compile(const char *fmt, bool suggested);
void shk_output_free(struct shk_output *o);
/* '%' tokens that named no known field (kept as text). */
uint32_t shk_output_unknown(const struct shk_output *o);

/* Append the formatted output (fields substituted) to out. */
void shk_output_format(const struct shk_output *o, struct shk_evalctx *ctx,
		       struct shk_strbuf *out);

/* Every rule's output, compiled once, indexed by rule id. */
struct shk_outputs;

struct shk_outputs *shk_outputs_new(const struct shk_ruleset *rs, bool suggested);
void shk_outputs_free(struct shk_outputs *outs);
const struct shk_output *shk_outputs_get(const struct shk_outputs *outs, uint32_t rule_id);

/* Falco's priority spelling in alerts: "Warning", "Informational", ... */
const char *shk_priority_alert_name(enum shk_priority p);

/*
 * Where shrike adds its "response" member: called with the writer inside
 * the alert object, positioned after "priority", to write one key and its
 * value (jw_key(w, "response"); jw_arr_begin(w); ...). NULL: no response.
 */
struct shk_alert_hook {
	void (*fn)(struct jw *w, const struct shk_rule *rule, struct shk_evalctx *ctx, void *data);
	void *data;
};

/* The alert line "<evt.time>: <Priority> <output>" into line (reset first). */
void shk_alert_line(struct shk_strbuf *line, const struct shk_rule *rule,
		    const struct shk_output *o, struct shk_evalctx *ctx);

/*
 * One alert as a JSON object appended to w (no newline); line is scratch
 * space and holds the alert line afterwards. Returns 0, or -ENOMEM when a
 * buffer could not grow (the output is then incomplete).
 */
int shk_alert_json(struct jw *w, struct shk_strbuf *line, const struct shk_rule *rule,
		   const struct shk_output *o, struct shk_evalctx *ctx,
		   const struct shk_alert_hook *hook);

#endif /* SHRIKE_OUTPUT_H */
