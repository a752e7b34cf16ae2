// SPDX-License-Identifier: Apache-2.0
/* libFuzzer entry: the condition parser on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "rule_parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct shk_parse_error err;
	struct shk_ast *a = shk_parse_condition((const char *)data, size, &err);
	char buf[256];

	if (a)
		shk_ast_format(a, buf, sizeof(buf));
	shk_ast_free(a);
	return 0;
}
