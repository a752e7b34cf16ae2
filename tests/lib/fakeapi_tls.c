/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The fake API server's HTTPS mode (fakeapi_start_tls): an OpenSSL server
 * context under fakeapi.c's HTTP. Only the targets that ask for it build
 * this with OpenSSL (SHRIKE_TEST_OPENSSL); otherwise fakeapi_start_tls is
 * a stub that returns -EOPNOTSUPP, so its callers need no #ifdef and can
 * report their test skipped.
 */
#include "fakeapi.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#ifdef SHRIKE_TEST_OPENSSL
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

static void *tls_accept(void *ctx, int fd, bool *ret_verified, char *ret_cn, size_t cnsz)
{
	SSL *ssl = SSL_new(ctx);
	X509 *peer;

	*ret_verified = false;
	ret_cn[0] = '\0';
	ERR_clear_error();
	if (!ssl || SSL_set_fd(ssl, fd) != 1 || SSL_accept(ssl) != 1) {
		SSL_free(ssl);
		ERR_clear_error();
		return NULL;
	}
	/* with SSL_VERIFY_FAIL_IF_NO_PEER_CERT a handshake that got here
	 * had one, verified; checked again so the record never lies */
	peer = SSL_get0_peer_certificate(ssl);
	if (peer && SSL_get_verify_result(ssl) == X509_V_OK) {
		*ret_verified = true;
		X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, ret_cn,
					  (int)cnsz);
	}
	return ssl;
}

static ssize_t tls_read(void *sess, void *buf, size_t n)
{
	int r = SSL_read(sess, buf, n > INT32_MAX ? INT32_MAX : (int)n);

	return r > 0 ? r : -1;
}

static ssize_t tls_write(void *sess, const void *buf, size_t n)
{
	int r = SSL_write(sess, buf, n > INT32_MAX ? INT32_MAX : (int)n);

	return r > 0 ? r : -1;
}

static bool tls_pending(void *sess)
{
	return SSL_has_pending(sess) == 1;
}

static void tls_close(void *sess)
{
	SSL_shutdown(sess);
	SSL_free(sess);
	ERR_clear_error();
}

static void tls_free(void *ctx)
{
	SSL_CTX_free(ctx);
}

static const struct fakeapi_tls_ops ops = {
	.accept = tls_accept,
	.read = tls_read,
	.write = tls_write,
	.pending = tls_pending,
	.close = tls_close,
	.free = tls_free,
};

int fakeapi_start_tls(struct fakeapi *f, const char *cert, const char *key,
		      const char *client_ca)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (!ctx)
		return -ENOMEM;
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1)
		goto fail;
	if (client_ca) {
		STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(client_ca);

		if (!names || SSL_CTX_load_verify_locations(ctx, client_ca, NULL) != 1) {
			sk_X509_NAME_pop_free(names, X509_NAME_free);
			goto fail;
		}
		SSL_CTX_set_client_CA_list(ctx, names);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
		/* a client that reconnects offers to resume its session; with
		 * client certificates OpenSSL refuses that without an id */
		if (SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"fakeapi", 7) != 1)
			goto fail;
	}
	return fakeapi_start_with(f, &ops, ctx);
fail:
	fprintf(stderr, "fakeapi: TLS setup (%s, %s): %s\n", cert, key,
		ERR_error_string(ERR_get_error(), NULL));
	SSL_CTX_free(ctx);
	return -EINVAL;
}

#else

int fakeapi_start_tls(struct fakeapi *f, const char *cert, const char *key,
		      const char *client_ca)
{
	(void)f, (void)cert, (void)key, (void)client_ca;
	return -EOPNOTSUPP;
}

#endif
