/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A throwaway PKI for TLS tests, made with the OpenSSL API (no openssl
 * binary): PEM files, mode 0600, in a directory of the caller's.
 *   ca            the test CA
 *   server        signed by ca, for 127.0.0.1 and localhost (serverAuth)
 *   client        signed by ca, CN "shrike-test-client" (clientAuth)
 *   other_host    signed by ca, for other.example only
 *   other_ca      an unrelated CA
 *   other_client  signed by other_ca, CN "shrike-test-client"
 * P-256 keys: made in microseconds, where RSA would take a while.
 */
#ifndef SHRIKE_TESTPKI_H
#define SHRIKE_TESTPKI_H

#define TESTPKI_CLIENT_CN "shrike-test-client"

struct testpki_cred {
	char cert[512]; /* PEM certificate file */
	char key[512];	/* PEM private key file (PKCS#8) */
};

struct testpki {
	struct testpki_cred ca, server, client, other_host, other_ca, other_client;
};

/* Make every credential under dir. 0, -EOPNOTSUPP when the tests were
 * built without OpenSSL, or another negative errno. */
int testpki_make(struct testpki *ret, const char *dir);
/* Remove the files; NULL-safe, and safe on a PKI that was never made. */
void testpki_remove(struct testpki *p);

#endif
