/* Result codes and the first-error-wins detail struct (see error.h). */
#include "error.h"

#include <stdio.h>
#include <string.h>

const char *spgw_strerror(enum spgw_rc code)
{
	switch (code) {
	case SPGW_OK: return "no error";
	case SPGW_E_NOMEM: return "out of memory";
	case SPGW_E_IO: return "input/output error";
	case SPGW_E_SYNTAX: return "syntax error";
	case SPGW_E_CONFIG: return "configuration error";
	case SPGW_E_SCHEMA: return "schema definition error";
	case SPGW_E_MAPPING: return "mapping error";
	case SPGW_E_INVALID: return "record invalid";
	case SPGW_E_LEDGER: return "ledger error";
	case SPGW_E_PLUGIN: return "plugin failure";
	case SPGW_E_ABI: return "plugin ABI mismatch";
	case SPGW_E_LIMIT: return "limit exceeded";
	case SPGW_E_TEXT: return "text encoding error";
	case SPGW_E_NOTFOUND: return "not found";
	case SPGW_E_RETRY: return "temporary failure";
	case SPGW_E_USAGE: return "usage error";
	case SPGW_E_CRYPTO: return "cryptographic error";
	case SPGW_E_STATE: return "state directory unusable";
	case SPGW_E_BUSY: return "busy";
	}
	return "unknown error";
}

enum spgw_rc spgw_error_vset(struct spgw_error *err, enum spgw_rc code, const char *source,
			     int line, int column, const char *fmt, va_list ap)
{
	if (!err || err->code != SPGW_OK)
		return code;
	err->code = code;
	err->line = line;
	err->column = column;
	if (source)
		snprintf(err->source, sizeof(err->source), "%s", source);
	vsnprintf(err->text, sizeof(err->text), fmt, ap);
	return code;
}

enum spgw_rc spgw_error_set(struct spgw_error *err, enum spgw_rc code, const char *source,
			    int line, int column, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	spgw_error_vset(err, code, source, line, column, fmt, ap);
	va_end(ap);
	return code;
}

enum spgw_rc spgw_error_nomem(struct spgw_error *err, const char *what)
{
	return spgw_error_set(err, SPGW_E_NOMEM, NULL, 0, 0, "out of memory while %s", what);
}

void spgw_error_key(struct spgw_error *err, const char *key)
{
	if (err && key && !err->key[0])
		snprintf(err->key, sizeof(err->key), "%s", key);
}

void spgw_error_clear(struct spgw_error *err)
{
	if (err)
		memset(err, 0, sizeof(*err));
}

char *spgw_error_format(const struct spgw_error *err, char *buf, unsigned size)
{
	int n = 0;

	if (!size)
		return buf;
	buf[0] = '\0';
	if (!err)
		return buf;
	if (err->source[0] && err->line > 0)
		n = snprintf(buf, size, "%s:%d:%d: ", err->source, err->line,
			     err->column > 0 ? err->column : 1);
	else if (err->source[0])
		n = snprintf(buf, size, "%s: ", err->source);
	if (n < 0 || (unsigned)n >= size)
		return buf;
	n += snprintf(buf + n, size - (unsigned)n, "%s",
		      err->text[0] ? err->text : spgw_strerror(err->code));
	if (err->key[0] && n > 0 && (unsigned)n < size)
		snprintf(buf + n, size - (unsigned)n, " [%s]", err->key);
	return buf;
}
