/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer: the rules JSON parser (SetRules, connections.json). What it accepts must write back to the same rules,
 * and every rule it accepts must be one a note can be matched against. */
#include "rules.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rules_set s, back;
	rules_set_init(&s);
	rules_set_init(&back);
	char err[256];
	err[0] = 0;
	if (rules_parse(&s, (const char *)data, size, err, sizeof(err)) < 0) {
		if (!err[0] || !memchr(err, 0, sizeof(err)) || s.n || s.rules)
			abort();
		return 0;
	}
	if (s.n > RULES_MAX)
		abort();
	struct bytes b;
	bytes_init(&b, 0);
	struct json_writer jw;
	jw_init(&jw, &b);
	jw_object_begin(&jw, NULL);
	rules_write(&s, &jw);
	jw_object_end(&jw);
	if (!jw.ok || rules_parse(&back, (const char *)b.data, b.len, err, sizeof(err)) < 0 || back.n != s.n ||
	    back.record_games != s.record_games || back.record_stop_ms != s.record_stop_ms)
		abort();
	for (size_t i = 0; i < s.n; i++) {
		const struct rule *a = &s.rules[i], *c = &back.rules[i];
		if (a->event != c->event || a->action != c->action || a->delay_ms != c->delay_ms ||
		    strcmp(a->scene, c->scene) || strcmp(a->source, c->source) ||
		    strcmp(a->template_text, c->template_text) || a->port != c->port ||
		    a->end_methods != c->end_methods)
			abort();
		struct rules_trigger t;
		rules_trigger_simple(&t, a->event);
		rules_match_one(a, &t);
	}
	bytes_free(&b);
	rules_set_free(&s);
	rules_set_free(&back);
	return 0;
}
