/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The test PKI of testpki.h. Built with OpenSSL only where the target asks
 * for it (SHRIKE_TEST_OPENSSL); otherwise testpki_make is a stub that
 * returns -EOPNOTSUPP.
 */
#include "testpki.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifdef SHRIKE_TEST_OPENSSL
#include <fcntl.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

enum role { ROLE_CA, ROLE_SERVER, ROLE_CLIENT };

/* A key and its certificate while the PKI is being made. */
struct made {
	EVP_PKEY *key;
	X509 *cert;
};

static bool add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;
	bool ok;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	ok = e && X509_add_ext(x, e, -1) == 1;
	X509_EXTENSION_free(e);
	return ok;
}

/* A certificate for m->key, signed by issuer, or self-signed when issuer
 * is NULL. san: the subjectAltName value, or NULL. */
static bool cert_make(struct made *m, const char *cn, enum role role, const char *san,
		      const struct made *issuer)
{
	static long serial = 1;
	X509 *x = X509_new(), *signer = issuer ? issuer->cert : x;
	X509_NAME *name = x ? X509_get_subject_name(x) : NULL;
	bool ok = name && X509_set_version(x, X509_VERSION_3) == 1 &&
		  ASN1_INTEGER_set(X509_get_serialNumber(x), serial++) == 1 &&
		  /* an hour of slack either way: a clock step must not fail a test */
		  X509_gmtime_adj(X509_getm_notBefore(x), -3600) &&
		  X509_gmtime_adj(X509_getm_notAfter(x), 86400) && X509_set_pubkey(x, m->key) == 1 &&
		  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
					     (const unsigned char *)"shrike test", -1, -1, 0) == 1 &&
		  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn,
					     -1, -1, 0) == 1 &&
		  X509_set_issuer_name(x, X509_get_subject_name(signer)) == 1 &&
		  /* the subject key id first: the authority key id of a
		   * self-signed certificate is read from it */
		  add_ext(x, signer, NID_subject_key_identifier, "hash") &&
		  add_ext(x, signer, NID_authority_key_identifier, "keyid:always");

	if (ok && role == ROLE_CA)
		ok = add_ext(x, signer, NID_basic_constraints, "critical,CA:TRUE") &&
		     add_ext(x, signer, NID_key_usage, "critical,keyCertSign,cRLSign");
	else if (ok)
		ok = add_ext(x, signer, NID_basic_constraints, "critical,CA:FALSE") &&
		     add_ext(x, signer, NID_key_usage, "critical,digitalSignature") &&
		     add_ext(x, signer, NID_ext_key_usage,
			     role == ROLE_SERVER ? "serverAuth" : "clientAuth");
	if (ok && san)
		ok = add_ext(x, signer, NID_subject_alt_name, san);
	if (ok)
		ok = X509_sign(x, issuer ? issuer->key : m->key, EVP_sha256()) > 0;
	if (!ok) {
		X509_free(x);
		return false;
	}
	m->cert = x;
	return true;
}

/* One PEM object to a new file, mode 0600 whatever the umask. */
static bool pem_write(const char *path, X509 *cert, EVP_PKEY *key)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	FILE *f = fd >= 0 && !fchmod(fd, 0600) ? fdopen(fd, "w") : NULL;
	bool ok;

	if (!f) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	ok = cert ? PEM_write_X509(f, cert) == 1
		  : PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1;
	return fclose(f) == 0 && ok;
}

static int cred_make(struct testpki_cred *c, struct made *m, const char *dir, const char *file,
		     const char *cn, enum role role, const char *san, const struct made *issuer)
{
	snprintf(c->cert, sizeof(c->cert), "%s/%s.crt", dir, file);
	snprintf(c->key, sizeof(c->key), "%s/%s.key", dir, file);
	m->key = EVP_EC_gen("P-256");
	if (!m->key || !cert_make(m, cn, role, san, issuer))
		return -ENOMEM;
	return pem_write(c->cert, m->cert, NULL) && pem_write(c->key, NULL, m->key) ? 0 : -EIO;
}

int testpki_make(struct testpki *ret, const char *dir)
{
	struct made ca = { 0 }, other_ca = { 0 }, leaf[4] = { { 0 } };
	int e;

	memset(ret, 0, sizeof(*ret));
	e = cred_make(&ret->ca, &ca, dir, "ca", "shrike test CA", ROLE_CA, NULL, NULL);
	if (!e)
		e = cred_make(&ret->server, &leaf[0], dir, "server", "127.0.0.1", ROLE_SERVER,
			      "IP:127.0.0.1,DNS:localhost", &ca);
	if (!e)
		e = cred_make(&ret->client, &leaf[1], dir, "client", TESTPKI_CLIENT_CN, ROLE_CLIENT,
			      NULL, &ca);
	if (!e)
		e = cred_make(&ret->other_host, &leaf[2], dir, "other-host", "other.example",
			      ROLE_SERVER, "DNS:other.example", &ca);
	if (!e)
		e = cred_make(&ret->other_ca, &other_ca, dir, "other-ca", "unrelated CA", ROLE_CA,
			      NULL, NULL);
	if (!e)
		e = cred_make(&ret->other_client, &leaf[3], dir, "other-client", TESTPKI_CLIENT_CN,
			      ROLE_CLIENT, NULL, &other_ca);
	for (int i = 0; i < 4; i++) {
		X509_free(leaf[i].cert);
		EVP_PKEY_free(leaf[i].key);
	}
	X509_free(ca.cert);
	EVP_PKEY_free(ca.key);
	X509_free(other_ca.cert);
	EVP_PKEY_free(other_ca.key);
	if (e)
		testpki_remove(ret);
	return e;
}

#else

int testpki_make(struct testpki *ret, const char *dir)
{
	(void)dir;
	memset(ret, 0, sizeof(*ret));
	return -EOPNOTSUPP;
}

#endif

static void cred_remove(const struct testpki_cred *c)
{
	if (c->cert[0])
		unlink(c->cert);
	if (c->key[0])
		unlink(c->key);
}

void testpki_remove(struct testpki *p)
{
	if (!p)
		return;
	cred_remove(&p->ca);
	cred_remove(&p->server);
	cred_remove(&p->client);
	cred_remove(&p->other_host);
	cred_remove(&p->other_ca);
	cred_remove(&p->other_client);
	memset(p, 0, sizeof(*p));
}
